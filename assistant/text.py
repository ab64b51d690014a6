"""Words as the assistant compares them. No word list here knows an article.

- BM25's tokens come from bm25s's own tokenizer (lower-cased, its English stop words, the
  Snowball stemmer), for passages and questions alike.
- A question's *key terms* are its content words: bm25s's longer English stop-word list
  (NLTK's 179 words) dropped,
  each weighted by how specific it is in general English (wordfreq's Zipf frequency: "really"
  5.97, "knee" 4.33, "piriformis" 1.76). Which terms are topic and which are asking words
  ("worth", "explain") is thus read from a kept library and the index, not from a list.
- ``Vocabulary`` corrects a reader's typo to the nearest word the articles use.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS
from wordfreq import zipf_frequency

from ingest.embed import packaged_model_path

_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# NLTK's list as bm25s ships it, plus the contractions readers type without apostrophes.
STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(
    "im ive id dont doesnt isnt arent cant wont didnt shouldnt wouldnt couldnt youre thats "
    "whats theres hows u ur pls plz".split()
)
# A word this common in English (wordfreq's Zipf) is a word, however the articles spell
# theirs: never corrected. Typos sit lower ("excercise" 2.3, "shuld" 1.8, "ankel" 0).
WORD_ZIPF = 2.5
# wordfreq's Zipf scale: 7 is about "the"; a word at 7 or above carries no topic.
ZIPF_CEILING = 7.0


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def normalise(text: str) -> str:
    return text.lower().replace("’", "'").replace("‘", "'")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    """BM25's tokens for each text: bm25s's tokenizer, English stop words, stemmed."""
    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=_stemmer,
        return_ids=False,
        show_progress=False,
    )


def content_stems(split: Iterable[str]) -> list[str]:
    """Stems of the content words among ``split`` (the output of ``words``)."""
    return [stem(w) for w in split if w not in STOP_WORDS and len(w) > 1]


def stems(text: str) -> list[str]:
    """Stems of the content words of ``text``."""
    return content_stems(words(text))


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """How much a word says about a topic, 0 (an everyday word) to about 7 (a rare one):
    ``7 - Zipf frequency`` ("really" 1.0, "knee" 2.7, "piriformis" 5.2). A word wordfreq
    has never seen is most often a typo ("excercises"), so it counts as ``UNSEEN``."""
    zipf = zipf_frequency(word, "en")
    return UNSEEN if zipf == 0 else max(0.0, ZIPF_CEILING - zipf)


UNSEEN = 3.0  # about a word of Zipf 4: "knee", "diet"


def key_terms(text: str) -> list[str]:
    """The stems of ``text``'s content words, in order, once each (no digits)."""
    out: list[str] = []
    for w in words(text):
        if w in STOP_WORDS or len(w) < 2 or w.isdigit():
            continue
        s = stem(w)
        if s not in out:
            out.append(s)
    return out


def weighted_terms(text: str) -> dict[str, float]:
    """Each key term's stem with the specificity of the most specific word giving it."""
    out: dict[str, float] = {}
    for w in words(text):
        if w in STOP_WORDS or len(w) < 2 or w.isdigit():
            continue
        s = stem(w)
        out[s] = max(out.get(s, 0.0), specificity(w.split("'")[0]))
    return out


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole words of the embedding model's WordPiece vocabulary (about 20,000 common
    English words). A word found there is a word, not a typo: "knee" or "diet" are never
    'corrected' into a word the articles use, which would turn a question they do not
    answer into one they seem to."""
    return frozenset(w for w in _model_vocabulary() if w.isalpha() and w.islower())


@lru_cache(maxsize=1)
def _model_vocabulary() -> tuple[str, ...]:
    try:
        path = Path(packaged_model_path()) / "vocab.txt"
        return tuple(path.read_text(encoding="utf-8").split())
    except (OSError, ImportError):
        return ()


class Vocabulary:
    """The words the indexed articles use; corrects a reader's typo to the nearest one.

    Only a word that is neither in the articles nor a common English word is corrected, and
    only to a close article word (difflib ratio >= ``cutoff``): "glutues maximis" becomes
    "gluteus maximus", "piriformus" becomes "piriformis"; "knee" stays "knee".
    """

    def __init__(
        self,
        article_words: Iterable[str],
        known_words: frozenset[str] | None = None,
        cutoff: float = 0.72,
    ) -> None:
        self.words: frozenset[str] = frozenset(article_words)  # as ``words()`` splits them
        self.stems: frozenset[str] = frozenset(
            stem(w) for w in self.words if w not in STOP_WORDS and len(w) > 1
        )
        self._candidates = sorted(w for w in self.words | STOP_WORDS if len(w) >= 4 and w.isalpha())
        self.known = english_words() if known_words is None else known_words
        self.cutoff = cutoff
        self._corrected: dict[str, str] = {}

    def correct_word(self, word: str) -> str:
        if (
            len(word) < 4
            or not word.isalpha()
            or word in self.words
            or word in self.known
            or zipf_frequency(word, "en") >= WORD_ZIPF  # "crunches" is a word, not a typo
            or stem(word) in self.stems
        ):
            return word
        if word not in self._corrected:
            close = difflib.get_close_matches(word, self._candidates, n=1, cutoff=self.cutoff)
            self._corrected[word] = close[0] if close else word
        return self._corrected[word]

    def rewrite(self, text: str) -> str:
        """``text`` lower-cased with typos corrected to the articles' words (no other word
        is changed: readers' words meet the author's through the glossary, in BM25 only)."""
        return _WORD.sub(lambda m: self.correct_word(m.group(0)), normalise(text))

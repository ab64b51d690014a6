"""Words as the assistant compares them: lower-cased, stemmed, stop words dropped,
readers' words mapped to the articles' ("butt" -> glute), typos matched to known words."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer

from ingest.embed import packaged_model_path

_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    im ive id dont doesnt isnt arent cant wont also really please thanks thank hi hello hey
    get got getting go going make makes made way ways thing things lot lots much many
    tell explain say says said know want need like can't don't doesn't isn't aren't
    won't i'm i've i'd it's what's there's that's rid wat wut u ur""".split()
)

# Words a question uses that carry no topic: asking, helping, judging.
GENERIC_WORDS = frozenset(
    """what why how which who exercise exercises workout workouts move moves movement help helps
    helpful good bad best better worse worst cause causes caused causing fix fixes fixing work
    works happen happens mean means role article articles blog post say recommend recommended
    suggest suggested try do does done anything something someone one ok okay kind type types
    important part parts use used using affect affects effect effects lead leads problem problems
    issue issues matter relate related relation connection connect main job jobs purpose
    function functions feel feeling felt benefit benefits reason reasons count counts give
    gives keep keeps take takes taking get gets put puts link linked links really actually
    stop stops become becomes area areas name names list tell explain worth short version
    quick summary summarise summarize overview basically simply care""".split()
)

# Readers' words -> the articles' words (applied to whole phrases, longest first). Both the
# articles and the questions pass through this map, so a reader's "butt" meets the author's
# "glutes" in BM25, in the key-term check and in the dense query.
SYNONYMS: dict[str, str] = {
    "thigh bone": "femur",
    "thighbone": "femur",
    "thigh bones": "femur",
    "butt": "glutes",
    "butts": "glutes",
    "buttock": "glutes",
    "buttocks": "glutes",
    "bum": "glutes",
    "booty": "glutes",
    "backside": "glutes",
    "rear end": "glutes",
    "glute max": "gluteus maximus",
    "glute maximus": "gluteus maximus",
    "glutus": "gluteus",
    "low back": "lower back",
    "lumbago": "lower back pain",
    "it band": "iliotibial band",
    "itb": "iliotibial band",
    "sciatica": "sciatic nerve",
    "tailbone": "pelvis",
    "hip bone": "pelvis",
    "hip bones": "pelvis",
    "hip joint": "hip socket",
    "swayback": "hyperlordosis",
    "sway back": "hyperlordosis",
    "arched back": "lower back arching",
    "knots": "adhesions",
    "knot": "adhesions",
    "scar tissue": "adhesions",
    "connective tissue": "fascia",
    "fasha": "fascia",
    "fashia": "fascia",
    "facia": "fascia",
    "myofascial": "myofascial fascia",
    "foam roller": "foam rolling",
    "foam roll": "foam rolling",
    "roller": "foam rolling",
    "abs": "core",
    "abdominals": "core",
    "sore": "pain",
    "soreness": "pain",
    "ache": "pain",
    "aches": "pain",
    "aching": "pain",
    "achy": "pain",
    "hurt": "pain",
    "hurts": "pain",
    "hurting": "pain",
    "painful": "pain",
    "stable": "stability",
    "steady": "stability",
    "unstable": "instability",
    "stronger": "strengthen",
    "strong": "strengthen",
    "strength": "strengthen",
    "squats": "squatting",
    "squat": "squatting",
    "glute bridge": "glute bridges",
    "bridge": "bridges",
    "hip thrust": "hip thrusts",
    "clamshell": "clamshells",
    "deadlift": "deadlifts",
    "monster walk": "monster walks",
    "plank": "planks",
    "dead bug": "dead bugs",
    "quads": "rectus femoris",
    "psoas muscle": "psoas",
    "irritated": "irritation",
    "pins and needles": "tingling",
    "numb": "numbness",
    "tired": "fatigue",
    "tiredness": "fatigue",
    "inward": "internally",
    "overworked": "overuse",
    "overworking": "overuse",
    "overused": "overuse",
    "extends": "extension",
    "extend": "extension",
    "extending": "extension",
    "tips forward": "anterior pelvic tilt",
    "tip forward": "anterior pelvic tilt",
    "tipped forward": "anterior pelvic tilt",
    "tilts forward": "anterior pelvic tilt",
    "tilt forward": "anterior pelvic tilt",
    "tilted forward": "anterior pelvic tilt",
    "turn in": "internally rotate",
    "turns in": "internally rotate",
    "pelvic": "pelvis",  # one stem for both: "what happens to the pelvis" meets "pelvic"
    "switch on": "engage",
    "turn on": "engage",
    "firing": "activation",
    "messed up": "dysfunctional",
    "out of whack": "dysfunctional",
    "harder": "hard",  # the stemmer keeps comparatives apart from their adjective
    "easier": "easy",
    "weaker": "weak",
    "tighter": "tight",
    "stiffer": "stiff",
    "get rid of": "reduce",
    "getting rid of": "reducing",
    "week glutes": "weak glutes",  # a real word, so the typo check cannot catch it
    "week glute": "weak glute",
    "week hips": "weak hips",
    "week muscles": "weak muscles",
}
_SYNONYM_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)) + r")\b"
)


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    return _SYNONYM_RE.sub(lambda m: SYNONYMS[m.group(1)], text)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def stems(text: str) -> list[str]:
    """Stems of the content words of ``text`` (stop words dropped)."""
    return content_stems(words(text))


def content_stems(split: Iterable[str]) -> list[str]:
    """Stems of the content words among ``split`` (the output of ``words``)."""
    return [stem(w) for w in split if w not in STOP_WORDS and len(w) > 1]


def key_terms(text: str) -> list[str]:
    """The stems a question turns on: content words that are not generic asking words."""
    out: list[str] = []
    for w in words(text):
        if w in STOP_WORDS or w in GENERIC_WORDS or len(w) < 2 or w.isdigit():
            continue
        s = stem(w)
        if s not in out and s not in _GENERIC_STEMS:
            out.append(s)
    return out


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole words of the embedding model's WordPiece vocabulary (about 20,000 common
    English words). A word found there is a word, not a typo: "knee" or "diet" are never
    'corrected' into a word the articles use, which would turn a question they do not
    answer into one they seem to."""
    return frozenset(w for w in _model_vocabulary() if w.isalpha() and w.islower())


@lru_cache(maxsize=1)
def _model_vocabulary() -> tuple[str, ...]:
    """The lines of the embedding model's WordPiece vocabulary, in its order."""
    try:
        path = Path(packaged_model_path()) / "vocab.txt"
        return tuple(path.read_text(encoding="utf-8").split())
    except (OSError, ImportError):
        return ()


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """The 2,000 or so most frequent whole English words: the first ``EVERYDAY_RANK`` lines
    of the model's WordPiece vocabulary, which is ordered by frequency ("around" 2105,
    "sometimes" 2823, "build" 3857; "knee" 6181, "diet" 8738, "mattress" 13342)."""
    lines = _model_vocabulary()[:EVERYDAY_RANK]
    return frozenset(w for w in lines if w.isalpha() and w.islower())


EVERYDAY_RANK = 4000


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
        self._candidates = sorted(
            w for w in self.words | GENERIC_WORDS | STOP_WORDS if len(w) >= 4 and w.isalpha()
        )
        self.known = english_words() if known_words is None else known_words
        self.cutoff = cutoff
        self._corrected: dict[str, str] = {}

    def correct_word(self, word: str) -> str:
        if (
            len(word) < 4
            or not word.isalpha()
            or word in self.words
            or word in self.known
            or stem(word) in self.stems
        ):
            return word
        if word not in self._corrected:
            close = difflib.get_close_matches(word, self._candidates, n=1, cutoff=self.cutoff)
            self._corrected[word] = close[0] if close else word
        return self._corrected[word]

    def correct(self, term: str) -> str:
        """A stem corrected to the nearest article stem (kept for callers holding stems)."""
        return stem(self.correct_word(term)) if term not in self.stems else term

    def rewrite(self, text: str) -> str:
        """``text`` as the articles would word it: lower-cased, readers' words mapped,
        typos corrected. Used for every retriever's query and for the key-term check."""
        fixed = _WORD.sub(lambda m: self.correct_word(m.group(0)), normalise(text))
        return normalise(fixed)

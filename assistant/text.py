"""Words as the assistant compares them: lower-cased, stemmed, stop words dropped,
readers' words mapped to the articles' ("butt" -> glute), typos matched to known words."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

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
    tell explain say says said know want need like""".split()
)

# Words a question uses that carry no topic: asking, helping, judging.
GENERIC_WORDS = frozenset(
    """what why how which who exercise exercises workout workouts move moves movement help helps
    helpful good bad best better worse worst cause causes caused causing fix fixes fixing work
    works happen happens mean means role article articles blog post say recommend recommended
    suggest suggested try do does done anything something someone one ok okay kind type types
    important part parts use used using affect affects effect effects lead leads problem problems
    issue issues matter relate related relation connection connect""".split()
)

# Readers' words -> the articles' words (applied to whole phrases first).
SYNONYMS: dict[str, str] = {
    "thigh bone": "femur",
    "thighbone": "femur",
    "butt": "glutes",
    "buttock": "glutes",
    "buttocks": "glutes",
    "bum": "glutes",
    "booty": "glutes",
    "backside": "glutes",
    "behind": "glutes",
    "glute max": "gluteus maximus",
    "low back": "lower back",
    "lumbar spine": "lumbar spine",
    "lumbago": "lower back pain",
    "iliotibial band": "iliotibial band",
    "it band": "iliotibial band",
    "itb": "iliotibial band",
    "bridges": "bridges",
    "sciatica": "sciatic nerve",
    "tailbone": "pelvis",
    "hip bone": "pelvis",
    "pelvic tilt": "pelvic tilt",
    "swayback": "hyperlordosis",
    "arched back": "lower back arching",
    "stiff": "stiff",
    "knots": "adhesions",
    "scar tissue": "adhesions",
    "connective tissue": "fascia",
    "myofascial": "myofascial fascia",
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
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


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


class Vocabulary:
    """The stems the indexed articles use; corrects a reader's typo to the nearest one."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.stems: frozenset[str] = frozenset(s for t in texts for s in stems(t))
        self._sorted = sorted(self.stems)

    def correct(self, term: str) -> str:
        if term in self.stems or len(term) < 5:
            return term
        close = difflib.get_close_matches(term, self._sorted, n=1, cutoff=0.75)
        return close[0] if close else term

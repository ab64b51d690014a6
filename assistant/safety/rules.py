"""The red-flag engine: reads red_flags.yaml (reviewed data) and matches readers' words with it.

The file holds named word groups and, per category, patterns composed from them. A pattern is
a small language over regular expressions, so a clinician can read it:

- ``{group}`` is any of the group's entries, as a whole word (``{numb}``: numb, tingling ...);
- ``~N`` between two terms: the second follows the first within N characters;
- `` & `` joins terms that must all be found, in any order, in the same window;
- a term starting with ``!`` must not be found (``{fever} & !{fever_gone}``).

Everything else is a regular expression on normalised text (lower case, straight
apostrophes, one space between words). Patterns are tried on windows of the message: each
sentence, and each pair of neighbouring sentences, so two symptoms told in one breath or two
sentences match, and a red flag anywhere in a long message is found, while words from
unrelated sentences far apart do not add up. Conjuncts are searched one by one (no ``A.*B|B.*A``
backtracking), so a 4,000-character message costs a few milliseconds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from wordfreq import zipf_frequency

DATA_FILE = Path(__file__).resolve().parent / "red_flags.yaml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REPLIES = ("urgent", "emergency")
_GROUP = re.compile(r"\{([a-z_]+)\}")
_NEAR = re.compile(r"\s*~(\d+)\s*")


class RedFlagDataError(ValueError):
    """red_flags.yaml is malformed; the message names the category and the field."""


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, one space between words."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"\bcan not\b", "cannot", text)
    return re.sub(r"\s+", " ", text).strip()


# A window of the message: sentences (and lines), kept with the punctuation that ends them.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*")


def sentences(text: str) -> list[str]:
    """The message's sentences (lines count as sentences), in order, without empties."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip(" .!?;,")]


def windows(parts: list[str]) -> list[str]:
    """Each sentence, and each pair of neighbouring sentences."""
    if len(parts) <= 1:
        return parts
    return parts + [f"{a} {b}" for a, b in pairwise(parts)]


@dataclass(frozen=True)
class Term:
    regex: re.Pattern[str]
    negated: bool = False


Pattern = tuple[Term, ...]  # all must hold (a negated term: must not be found)


def _holds(pattern: Pattern, text: str) -> bool:
    return all(bool(t.regex.search(text)) != t.negated for t in pattern)


@dataclass(frozen=True)
class Category:
    """One red flag: what it is, why it is urgent, its reply, and how readers say it."""

    id: str
    name: str
    what: str
    why: str
    source: str
    reply: str  # the prompt file: "urgent" (urgent care today) or "emergency" (call now)
    patterns: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]  # a window these hold in is no red flag of this kind
    strip: re.Pattern[str] | None  # uses of its words that are no symptom, removed first
    examples: tuple[str, ...]
    near_misses: tuple[str, ...]
    # False where a past history is itself the red flag (cancer): the file's ``settled``
    # frame does not skip a window for this category
    settles: bool = True
    # a settled window still counts for this category when one of these holds in it
    # (saddle numbness that "passes when I lie down" is still told with back pain)
    unsettled: tuple[Pattern, ...] = ()
    # a benign cause named for the symptom ("numb from the dentist's anaesthetic", "bumped
    # my shin"): like ``unless`` for the patterns, and it also vetoes the semantic check
    explained: tuple[Pattern, ...] = ()

    def settled_by(self, window: str, settled: bool, around: str | None = None) -> bool:
        """Whether the file's settled frame (``settled``: it holds in ``window``, or in the
        pair it forms with a neighbour) skips this category there; ``settles_unless`` is
        looked for in ``around`` (the window with its neighbours, when a neighbour settled it)."""
        probe = window if around is None else around
        return settled and self.settles and not any(_holds(p, probe) for p in self.unsettled)

    def matches(self, window: str) -> bool:
        probe = self.strip.sub(" ", window) if self.strip else window
        return any(_holds(p, probe) for p in self.patterns) and not any(
            _holds(p, probe) for p in (*self.unless, *self.explained)
        )

    def explains(self, window: str) -> bool:
        """A benign cause named for this kind of symptom holds in ``window``."""
        probe = self.strip.sub(" ", window) if self.strip else window
        return any(_holds(p, probe) for p in self.explained)


class Compiler:
    """Turns the file's pattern strings into regexes, expanding ``{group}`` and ``~N``."""

    def __init__(self, words: Mapping[str, Iterable[str]]) -> None:
        self.words = {name: [str(w) for w in entries] for name, entries in words.items()}

    def group(self, name: str, where: str) -> str:
        if name not in self.words:
            raise RedFlagDataError(f"{where}: unknown word group {{{name}}}")
        body = "|".join(self._expand(w, where) for w in self.words[name])
        return rf"(?<![a-z'])(?:{body})(?![a-z])"

    def _expand(self, text: str, where: str) -> str:
        text = _GROUP.sub(lambda m: self.group(m.group(1), where), text)
        return _NEAR.sub(lambda m: f".{{0,{m.group(1)}}}", text)

    def term(self, text: str, where: str) -> Term:
        text = text.strip()
        negated = text.startswith("!")
        try:
            regex = re.compile(self._expand(text.lstrip("! "), where), re.S)
        except re.error as exc:
            raise RedFlagDataError(f"{where}: pattern {text!r} is not valid ({exc})") from exc
        return Term(regex, negated)

    def pattern(self, text: str, where: str) -> Pattern:
        return tuple(self.term(t, where) for t in text.split(" & "))


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RedFlagDataError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _category(raw: Mapping[str, Any], compiler: Compiler) -> Category:
    where = f"red flag {raw.get('id', '?')}"
    for key in ("id", "name", "what", "why", "source", "reply"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RedFlagDataError(f"{where}: '{key}' is missing")
    if raw["reply"] not in REPLIES:
        raise RedFlagDataError(f"{where}: reply must be one of {', '.join(REPLIES)}")
    patterns = tuple(compiler.pattern(p, where) for p in _strings(raw, "patterns", where))
    examples = _strings(raw, "examples", where)
    if not patterns or not examples:
        raise RedFlagDataError(f"{where}: needs patterns and examples")
    strip = _strings(raw, "strip", where)
    return Category(
        id=raw["id"],
        name=raw["name"],
        what=" ".join(raw["what"].split()),
        why=" ".join(raw["why"].split()),
        source=" ".join(raw["source"].split()),
        reply=raw["reply"],
        patterns=patterns,
        unless=tuple(compiler.pattern(p, where) for p in _strings(raw, "unless", where)),
        strip=re.compile("|".join(compiler.term(s, where).regex.pattern for s in strip))
        if strip
        else None,
        examples=examples,
        near_misses=_strings(raw, "near_misses", where),
        settles=bool(raw.get("settles", True)),
        unsettled=tuple(compiler.pattern(p, where) for p in _strings(raw, "settles_unless", where)),
        explained=tuple(compiler.pattern(p, where) for p in _strings(raw, "explained", where)),
    )


@dataclass(frozen=True)
class Clinician:
    """Questions only a clinician can answer: doses, drug choices, own diagnosis, decisions
    about injections or surgery; minus questions about exercise or recovery (``unless``)."""

    patterns: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    examples: tuple[str, ...]
    near_misses: tuple[str, ...]

    def matches(self, text: str) -> bool:
        return any(_holds(p, text) for p in self.patterns) and not any(
            _holds(p, text) for p in self.unless
        )


@dataclass(frozen=True)
class RedFlags:
    """The whole file: categories, the clinician rule, typo words, how a flag is resolved."""

    categories: tuple[Category, ...]
    clinician: Clinician
    resolved: tuple[Pattern, ...]  # a later user turn saying the reader has been seen
    refers_back: re.Pattern[str]  # a follow-up about the earlier message ("that", "it")
    typo_words: tuple[str, ...]
    not_typos: frozenset[str]
    semantic: Mapping[str, float]
    asking: tuple[Pattern, ...] = ()  # a window asking about a condition: no red flag
    reassured: tuple[Pattern, ...] = ()  # a window the semantic check must not flag
    settled: tuple[Pattern, ...] = ()  # a window whose symptom is past, checked or explained
    fresh: tuple[Pattern, ...] = ()  # a cue that something is new or happening now
    # a word at least this common in English (wordfreq Zipf scale) is a word, never a typo:
    # "going" is not "groin", "should" not "shoulder"; 0 turns the check off
    real_word_zipf: float = 0.0
    denied: re.Pattern[str] | None = None  # a symptom the reader says they do not have
    # the reader's minimising ("probably nothing", "I'm just getting old"): no evidence either
    # way, blanked so a symptom told after it is compared on its own words
    hedges: re.Pattern[str] | None = None
    # a purpose or hypothetical frame ("exercises that won't wreck my back", "without hurting
    # myself", "so I don't fall"): the words after it tell of no event, blanked like a denial
    purpose: re.Pattern[str] | None = None
    source: Path | None = None  # the file it was read from

    def correct_typos(self, text: str) -> str:
        """``text`` with misspellings of red-flag words corrected (a word of 5+ letters,
        same first letter, difflib ratio >= 0.8): "grion" -> groin, "acident" -> accident."""
        return re.sub(r"[a-z]+", lambda m: self._corrected(m.group(0)), text)

    def _corrected(self, word: str) -> str:
        return _corrected(word, self.typo_words, self.not_typos, self.real_word_zipf)

    def prepare(self, text: str) -> str:
        """Normalised, typo-corrected, and denied symptoms ("no back pain", "without any
        numbness", the file's ``denied``) blanked: a symptom the reader rules out is no
        evidence for a red flag, for the patterns nor for the semantic check."""
        text = self.correct_typos(normalise(text))
        for blank in (self.denied, self.hedges, self.purpose):
            if blank is not None:
                text = re.sub(r" {2,}", " ", blank.sub(" ", text))
        return text

    def match(self, text: str) -> Category | None:
        """The first category any window of ``text`` matches, or None."""
        parts = sentences(self.prepare(text))
        return self.match_windows(windows(parts), self.context(parts))

    def context(self, parts: list[str]) -> dict[str, tuple[bool, str | None]]:
        """Each window of the sentences ``parts`` (as ``windows`` cuts them): whether it is
        settled, and where a category's ``settles_unless`` is looked for (None: the window).

        A window is settled by its own words (``is_settled``), and a sentence also by the
        pair it forms with a neighbour: "I get numbness down there after 40 minutes. It goes
        away within minutes of getting off the bike." The pair holds the settled cue and
        neither sentence a ``fresh`` one, so the symptom sentence is told as passing too.
        A pair is then settled when one of its sentences is and neither holds a ``fresh``
        cue. ``settles_unless`` is looked for in the sentence with both neighbours (saddle
        numbness that passes, with back pain told next to it, still counts)."""
        own = {w: self.is_settled(w) for w in windows(parts)}
        found: dict[str, tuple[bool, str | None]] = {w: (s, None) for w, s in own.items()}
        if len(parts) <= 1:
            return found
        pairs = [f"{a} {b}" for a, b in pairwise(parts)]
        by_neighbour = [False] * len(parts)
        for i, sentence in enumerate(parts):
            if own[sentence]:
                continue
            near = [pairs[j] for j in (i - 1, i) if 0 <= j < len(pairs)]
            if any(own[p] for p in near):
                by_neighbour[i] = True
                found[sentence] = (True, " ".join(parts[max(i - 1, 0) : i + 2]))
        live = [any(_holds(p, sentence) for p in self.fresh) for sentence in parts]
        for i, pair in enumerate(pairs):
            either = found[parts[i]][0] or found[parts[i + 1]][0]
            if not own[pair] and either and not live[i] and not live[i + 1]:
                around = " ".join(parts[max(i - 1, 0) : i + 3])
                found[pair] = (True, around if by_neighbour[i] or by_neighbour[i + 1] else None)
        return found

    def is_asking(self, window: str) -> bool:
        return any(_holds(p, window) for p in self.asking)

    def is_settled(self, window: str) -> bool:
        """The window tells of a symptom that is past, has gone, was checked, is known to the
        GP or was explained (exercise that eased with rest, weight lost on purpose), and has
        no cue that something is new or happening now (the file's ``settled``)."""
        return any(_holds(p, window) for p in self.settled)

    def skips(
        self,
        window: str,
        category: Category | None = None,
        context: Mapping[str, tuple[bool, str | None]] | None = None,
    ) -> bool:
        """A window ``category`` is not looked for in: asking about a condition, or settled
        (unless the category does not settle: a cancer history told as past still counts).
        ``context`` (``context`` of the message) lets a neighbour settle the window."""
        if self.is_asking(window):
            return True
        settled, around = (context or {}).get(window, (self.is_settled(window), None))
        return settled if category is None else category.settled_by(window, settled, around)

    def vetoes_semantic(
        self,
        window: str,
        category: Category | None = None,
        context: Mapping[str, tuple[bool, str | None]] | None = None,
    ) -> bool:
        """The semantic check does not flag ``window`` for ``category`` (the category of its
        nearest example): skipped (``skips``), reassured (``semantic_unless``), or a benign
        cause the category names (``explained``) holds in it."""
        return (
            self.skips(window, category, context)
            or any(_holds(p, window) for p in self.reassured)
            or (category is not None and category.explains(window))
        )

    def match_windows(
        self, texts: list[str], context: Mapping[str, tuple[bool, str | None]] | None = None
    ) -> Category | None:
        texts = [w for w in texts if not self.is_asking(w)]
        held = context or {}
        settled = {w: held.get(w, (self.is_settled(w), None)) for w in texts}
        for category in self.categories:
            live = [w for w in texts if not category.settled_by(w, *settled[w])]
            if any(category.matches(w) for w in live):
                return category
        return None

    def is_resolved(self, text: str) -> bool:
        probe = self.prepare(text)
        return any(_holds(p, probe) for p in self.resolved)

    def by_id(self, category_id: str) -> Category:
        return next(c for c in self.categories if c.id == category_id)


@lru_cache(maxsize=16384)
def _corrected(
    word: str, typo_words: tuple[str, ...], not_typos: frozenset[str], real_word_zipf: float
) -> str:
    if len(word) < 5 or word in not_typos or word in typo_words:
        return word
    if real_word_zipf and zipf_frequency(word, "en") >= real_word_zipf:
        return word
    near = [w for w in typo_words if w[0] == word[0]]
    match = difflib.get_close_matches(word, near, n=1, cutoff=0.8)
    return match[0] if match else word


def load(path: Path = DATA_FILE) -> RedFlags:
    """Read and compile the red-flag file; RedFlagDataError names what is wrong."""
    try:
        # libyaml's loader when PyYAML has it: 0.01 s for the 117 KB file against 0.15 s
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise RedFlagDataError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("categories"), list):
        raise RedFlagDataError(f"{path}: needs 'words' and 'categories'")
    compiler = Compiler(raw.get("words") or {})
    categories = tuple(_category(c, compiler) for c in raw["categories"])
    ids = [c.id for c in categories]
    if len(set(ids)) != len(ids):
        raise RedFlagDataError(f"{path}: category ids repeat")
    clin = raw.get("clinician") or {}
    clinician = Clinician(
        patterns=tuple(
            compiler.pattern(p, "clinician") for p in _strings(clin, "patterns", "clinician")
        ),
        unless=tuple(
            compiler.pattern(p, "clinician") for p in _strings(clin, "unless", "clinician")
        ),
        examples=_strings(clin, "examples", "clinician"),
        near_misses=_strings(clin, "near_misses", "clinician"),
    )
    history = raw.get("history") or {}
    return RedFlags(
        categories=categories,
        clinician=clinician,
        resolved=tuple(
            compiler.pattern(p, "history") for p in _strings(history, "resolved", "history")
        ),
        refers_back=compiler.term(str(history.get("refers_back", "(?!)")), "history").regex,
        typo_words=tuple(sorted(_strings(raw.get("typos") or {}, "words", "typos"))),
        not_typos=frozenset(_strings(raw.get("typos") or {}, "not_typos", "typos")),
        real_word_zipf=float((raw.get("typos") or {}).get("real_word_zipf", 0.0)),
        semantic={k: float(v) for k, v in (raw.get("semantic") or {}).items()},
        asking=tuple(compiler.pattern(p, "asking") for p in _strings(raw, "asking", "asking")),
        reassured=tuple(
            compiler.pattern(p, "reassured") for p in _strings(raw, "semantic_unless", "semantic")
        ),
        settled=tuple(compiler.pattern(p, "settled") for p in _strings(raw, "settled", "settled")),
        fresh=tuple(compiler.pattern(p, "fresh") for p in _strings(raw, "fresh", "fresh")),
        denied=_alternation(compiler, _strings(raw, "denied", "denied"), "denied"),
        hedges=_alternation(compiler, _strings(raw, "hedges", "hedges"), "hedges"),
        purpose=_alternation(compiler, _strings(raw, "purpose", "purpose"), "purpose"),
        source=path,
    )


def _alternation(compiler: Compiler, terms: tuple[str, ...], where: str) -> re.Pattern[str] | None:
    """One regex for a list of the file's terms (``{group}`` expanded), or None if empty."""
    if not terms:
        return None
    return re.compile("|".join(compiler.term(t, where).regex.pattern for t in terms), re.S)


@lru_cache(maxsize=4)
def default(path: Path = DATA_FILE) -> RedFlags:
    """The file, read once per process."""
    return load(path)

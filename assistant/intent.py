"""What form of answer a question asks for, read from English question forms alone (no
topic words): a number, a list, steps, or an explanation."""

from __future__ import annotations

import re
from enum import StrEnum

from assistant.coverage import asks_quantity


class Form(StrEnum):
    QUANTITY = "quantity"  # how long / how often / how many: the sentence holding the number
    LIST = "list"  # which / list / what are: the list's items
    STEPS = "steps"  # how do I / what should I do: the steps
    EXPLAIN = "explain"  # what is / why / does: the lines that say it


_LIST = re.compile(
    r"\b(which|list|name (the|some|a few|all)|what are (the|some|good|my|your|a few|common|main)"
    r"|what kinds?|what types?|examples?"
    r"|options|what else|give me (some|a few)|any (good )?\w+s\b)",
    re.I,
)
_STEPS = re.compile(
    r"\bhow (do|can|should|would|could|might|does) (i|you|we|one|she|he|they|someone)\b|\bhow to\b"
    r"|\bsteps?\b|\bwhat (should|can|could|do) (i|we|you) do\b|\bwhat helps\b"
    r"|\b(fix|treat|get rid of|improve|relieve|ease|stop|prevent)\b",
    re.I,
)


def question_form(question: str) -> Form:
    if asks_quantity(question):
        return Form.QUANTITY
    if _LIST.search(question):
        return Form.LIST
    if _STEPS.search(question):
        return Form.STEPS
    return Form.EXPLAIN


# What a quantity question's answer is measured in (English, no topic): "how long" asks for
# a duration, "how often" for a frequency. "how many"/"how much" take the noun that follows.
_DURATION = re.compile(
    r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|several)[-\s]*"
    r"(to[-\s]\w+\s)?(seconds?|minutes?|mins?|hours?|days?|weeks?|months?|years?|breaths?)\b",
    re.I,
)
_FREQUENCY = re.compile(
    r"\b(once|twice|\w+ times|every|daily|weekly|each day|a day|a week|per day|per week|"
    r"most days|every other day)\b",
    re.I,
)
_NUMBER_NOUN = re.compile(
    r"\b(\d+(?:[-–]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|"
    r"twenty|thirty)\s+(?:x\s+\d+\s+)?([a-z]+)",
    re.I,
)


def quantity_fit(question: str, text: str) -> float:
    """How well ``text`` holds the quantity ``question`` asks for: 1 when its number comes
    with what was asked (a duration for "how long", a frequency for "how often", a rate for
    "how fast", the question's own noun for "how many sets"), 0.3 for a number alone, 0 for
    none."""
    q = question.lower()
    asked = {w for w in re.findall(r"[a-z]+", q)}
    if re.search(r"\bhow (fast|slow|slowly|quickly)\b", q) and _RATE.search(text):
        return 1.0
    if "how long" in q and _DURATION.search(text):
        return 1.0
    if ("how often" in q or "how frequently" in q or "a day" in q or "a week" in q) and (
        _FREQUENCY.search(text)
    ):
        return 1.0
    best = 0.3 if re.search(r"\d", text) else 0.0
    for m in _NUMBER_NOUN.finditer(text):
        noun = m.group(2).lower()
        # the question's own noun, singular or plural ("is" is not the plural of "i")
        if len(noun) > 2 and (
            noun in asked or noun.removesuffix("s") in asked or f"{noun}s" in asked
        ):
            return 1.0
        if "how many" in q and not _MEASURE.match(noun) and not _DURATION.search(m.group(0)):
            best = max(best, 0.7)  # a count of something, as "how many" asks
        best = max(best, 0.3)
    return best


# A rate, as "how fast / how slowly / how quickly" asks ("an inch per second").
_RATE = re.compile(r"\bper (second|minute|hour|rep)\b|\ba second\b", re.I)

# Units of measure (a length, a weight, a share): what "how many" does not count.
_MEASURE = re.compile(
    r"(cm|mm|centimet\w*|millimet\w*|met\w*|inch\w*|feet|foot|kg|kilo\w*|pounds?|lbs?|"
    r"percent|per|degrees?|km|miles?)$",
    re.I,
)

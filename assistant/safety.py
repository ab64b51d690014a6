"""The safety layer, run before retrieval: red flags, clinician-only questions, the disclaimer.

Red flags are matched on the question alone (never on retrieved text), with patterns
written for the many ways readers describe them. A miss is the worst failure this product
can have, so patterns lean towards catching; everyday questions that merely share a word
("saddle" on a bike) are kept out by requiring the symptom, not the word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.types import Kind


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str
    prompt: str  # the prompt file holding the reply


_RED_FLAGS: list[tuple[str, str]] = [
    (
        "bladder or bowel control",
        r"\b(los[st]|losing|no|lack of|can'?t|cannot|unable to|trouble|problems?|difficult\w*)"
        r"\b.{0,40}\b(bladder|bowels?|pee|urinat\w*|poo|continen\w*|control of my (bladder|bowels?))"
        r"|\bincontinen\w*|\b(wet|soil\w*) (myself|my pants)|\bcan'?t (hold|feel) (my )?(pee|urine|bladder)",
    ),
    (
        "saddle numbness",
        r"\b(numb\w*|tingl\w*|no feeling|can'?t feel|pins and needles)\b.{0,60}"
        r"\b(saddle|groin|genital\w*|inner thighs?|between (my|the) legs|private|perine\w*|buttocks and inner)"
        r"|\b(saddle|groin|inner thighs?|genital\w*|perine\w*)\b.{0,40}\b(numb\w*|tingl\w*|no feeling)",
    ),
    (
        "weakness in both legs",
        r"\b(both|two|my) legs\b.{0,40}\b(weak\w*|giving (way|out)|buckl\w*|numb\w*|can'?t (walk|move|stand))"
        r"|\b(weak\w*|numb\w*|paraly\w*)\b.{0,30}\b(both|two) legs|\blegs (are|keep) giving (way|out)"
        r"|\bcan'?t (walk|stand|lift (either|both) legs?)",
    ),
    (
        "back pain with fever",
        r"\b(fever\w*|feverish|high temperature|chills|night sweats)\b",
    ),
    (
        "back pain after a fall or accident",
        r"\b(fell|fall(en)?|falling|crash\w*|accident|collision|hit by|car wreck|trauma|landed)\b"
        r".{0,60}\b(back|spine|hip|tailbone|pain|hurt\w*)"
        r"|\b(back|spine|hip|tailbone|pain|hurt\w*)\b.{0,60}\b(since|after) (i |a |the |my )?"
        r"(fell|fall|falling|crash|accident|collision)",
    ),
    (
        "history of cancer with new back pain",
        r"\b(cancer|tumou?r|chemo\w*|lymphoma|myeloma|metasta\w*|oncolog\w*)\b",
    ),
    (
        "night pain with weight loss",
        r"\b(weight loss|losing weight|lost (\w+ )?(weight|pounds|kilos|kg|lbs))\b"
        r"|\b(pain|hurts?|aches?)\b.{0,40}\b(at night|night|wakes? me|while lying|in bed)\b.{0,60}"
        r"\b(weight|thin|appetite)",
    ),
]
_RED_FLAG_RES = [(name, re.compile(p, re.I | re.S)) for name, p in _RED_FLAGS]

# "A fall in my training volume" is not a fall: a fall *of the reader* needs the body.
_FALSE_FALL = re.compile(
    r"\bfall(s|ing)? (in|of) (my |the )?(training|volume|numbers|price|temps?)", re.I
)

_CLINICIAN = re.compile(
    r"\b(dose|dosage|dosing|mg|milligrams?|how (many|much) (pills|tablets)|prescri\w*|"
    r"medicat\w*|medicine|drugs?|painkillers?|pain ?killers?|ibuprofen|advil|naproxen|aleve|"
    r"paracetamol|acetaminophen|tylenol|opioids?|tramadol|codeine|muscle relaxants?|steroids?|"
    r"cortisone|injections?|gabapentin|diagnos\w*|do i have|have i got|is it (a )?(herniat|slipped|"
    r"bulg)\w*|surgery|surgeon|operat(e|ion))\b",
    re.I,
)


def check_question(question: str) -> Verdict | None:
    """``urgent`` for red flags, ``not_covered`` (clinician) for drugs, doses and diagnoses."""
    for name, pattern in _RED_FLAG_RES:
        if pattern.search(question):
            if name == "back pain after a fall or accident" and _FALSE_FALL.search(question):
                continue
            return Verdict(Kind.URGENT, name, "urgent")
    if _CLINICIAN.search(question):
        return Verdict(Kind.NOT_COVERED, "needs a clinician", "clinician")
    return None

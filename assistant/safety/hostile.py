"""Hostile requests and unsafe model sentences: what no question or reply may carry.

Requests to reveal the instructions, drop the disclaimer or citations, or play a doctor change
nothing: ``strip_hostile`` removes those clauses before the question goes further, and
``scrub_reply`` removes sentences a language model must never write.
"""

from __future__ import annotations

import re

from assistant.safety.rules import normalise


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.S)


_HOSTILE: list[tuple[str, str]] = [
    (
        "reveal the instructions",
        r"\b(reveal|show|print|repeat|tell|give|output|display|leak|share|dump|paste|write out|"
        r"recite|what (is|are|were)|what'?s|list)\b.{0,40}\b(system ?prompts?|prompts?|"
        r"instructions|rules|guidelines|initial (message|prompt)|hidden (text|message)|"
        r"configuration|pre-?prompt)\b"
        r"|\b(repeat|print|output)\b.{0,20}\b(text|words|everything|all) (above|before)",
    ),
    (
        "ignore the instructions",
        r"\b(ignore|disregard|forget|override|bypass|break|drop|skip)\b.{0,30}\b(previous|prior|"
        r"above|earlier|all|your|the|any|these|those)?\s*(instructions|rules|prompts?|guidelines|"
        r"safety|restrictions|filters?|guardrails?|programming)\b"
        r"|\b(developer|dan|god|jailbreak|unrestricted) mode\b|\bjailbr[eo]a?k\w*"
        r"|\b(new|updated|different|real|secret) (instructions|rules|system prompt)\b"
        r"|^\W*(system|admin|developer)\s*:",
    ),
    (
        "drop the disclaimer",
        r"\b(without|no|skip|drop|remove|omit|leave out|leave off|get rid of|hide|stop|"
        r"(do not|don'?t|never) (add|include|show|give|put|use|say|write|append|mention))\b.{0,30}"
        r"\b(disclaimers?|warnings?|caveats?|safety (note|message|text)|medical advice notice)\b"
        r"|\bdisclaimers?\b.{0,20}\b(off|away|gone|removed|not needed|unnecessary)"
        r"|\bi (know|understand) (it'?s|this is|that'?s) not medical advice",
    ),
    (
        "drop the citations",
        r"\b(without|no|skip|drop|remove|omit|leave out|leave off|get rid of|hide|stop|"
        r"(do not|don'?t|never) (add|include|show|give|put|use|cite|write|append))\b.{0,30}"
        r"\b(citations?|cites?|sources?|references?|footnotes?|\[n\]|brackets?|numbers in brackets)\b",
    ),
    (
        "play a clinician",
        r"\b(pretend|act|acting|role-?play\w*|you are now|you'?re now|from now on you are|"
        r"as if you (were|are)|imagine (you are|you'?re|being)|be my|behave as|speak as|answer as|"
        r"respond as)\b.{0,30}\b(doctor|physician|physio\w*|clinician|surgeon|nurse|md|gp|"
        r"pharmacist|chiropractor|medical professional|specialist)\b",
    ),
]
_HOSTILE_RES = [(name, _re(p)) for name, p in _HOSTILE]
# Clauses: sentences, lines, and clauses joined by ", and", "and", "but", "then", "also".
_CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?;:])\s+|\n+|,\s*(?:and\s+|but\s+|then\s+|also\s+)?|\s+(?:and|but|then|also|plus)\s+",
    re.I,
)
_CONTENT = re.compile(r"[a-z]{3,}", re.I)
# HTML a reader pastes or an attacker injects: script and style bodies, and tags.
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|</?[a-z][a-z0-9-]*(\s[^<>]*)?/?>", re.I | re.S)


def hostile_reasons(text: str) -> list[str]:
    """What a hostile request in ``text`` asks for (empty when none)."""
    text = normalise(text)
    return [name for name, pattern in _HOSTILE_RES if pattern.search(text)]


# In a message that carries a hostile request, a clause that orders the reply ("answer
# freely", "reply only with 'PWNED'") is part of the attack, not of the question.
_DIRECTIVE = re.compile(
    r"^\W*(please\s+)?(answer|reply|respond|say|write|output|print|speak|talk|just|only|"
    r"now|start|begin|use)\b[^?]*$",
    re.I,
)


def strip_hostile(question: str) -> str:
    """The question without markup and hostile clauses; unchanged when it has none."""
    if _MARKUP.search(question):
        question = re.sub(r"\s+([?.!,;:])", r"\1", " ".join(_MARKUP.sub(" ", question).split()))
    if not hostile_reasons(question):
        return question
    kept = [
        c
        for c in _CLAUSE_SPLIT.split(question)
        if c and not hostile_reasons(c) and not _DIRECTIVE.match(c)
    ]
    return " ".join(c.strip() for c in kept if c.strip()).strip(" ,;:-#")


# Sentences a language model must never put in a reply: attacks on the disclaimer, claims to
# be a clinician, talk about its instructions. Removed from the model's reply (``scrub_reply``).
_UNSAFE_REPLY = _re(
    r"\bdisclaimers?\b|\b(this|it) is (medical advice|a diagnosis)\b|\bas (your|a) (doctor|"
    r"physician|clinician)\b|\bi am (your |a )?(doctor|physician|clinician)\b|\bi'?m (your |a )?"
    r"(doctor|physician|clinician)\b|\bsystem ?prompt\b|\bmy (instructions|rules|guidelines)\b|"
    r"\bno need to (see|consult) a (doctor|clinician|physio\w*)"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def scrub_reply(text: str) -> str:
    """A model's reply without sentences that attack the disclaimer or leak instructions."""
    kept = [s for s in _SENTENCE.split(text) if not _UNSAFE_REPLY.search(s)]
    return " ".join(kept).strip()

"""The safety layer, run before retrieval: red flags, clinician-only questions, hostile requests.

Red flags are matched on the reader's words (never on retrieved text), with patterns written
for the many ways readers describe them: plain words, slang, common typos, indirect wordings.
A miss is the worst failure this product can have, so patterns lean towards catching;
everyday questions that merely share a word ("saddle" on a bike, "a fall in my training
volume") are kept out by requiring the symptom, not the word. docs/safety.md lists the
threats and the wordings the tests hold.

Hostile requests (reveal the instructions, drop the disclaimer or citations, play a doctor)
change nothing: ``strip_hostile`` removes those clauses before the question goes further,
and a question that is nothing but such a request is ``not_covered``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.types import Kind, Turn


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str
    prompt: str  # the prompt file holding the reply


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.S)


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, one space between words."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"\bcan not\b", "cannot", text)
    return re.sub(r"\s+", " ", text).strip()


# Words readers misspell in red flags, corrected when a word of 5+ letters is close to one
# (same first letter, difflib ratio >= 0.8): "grion" -> groin, "acident" -> accident.
_FLAG_WORDS = tuple(
    """accident bladder bowel bowels cancer chemotherapy collision control crotch fever
    feverish genitals groin incontinence incontinent lymphoma numbness paralysed privates
    saddle sensation temperature thigh thighs tingling tumour urinate urine weakness weight
    wetting""".split()
)
# Real words that sit that close to one of them and must stay as they are.
_NOT_TYPOS = frozenset(
    """fewer number numbers thing things cancel cancels cancelled canceled accent accents grown
    inconvenience inconvenient bowls bowling fevers weigh weighs weighed saddles tinkling
    control controls tight tights tighter tightly crutch grain grains groan groans pirates
    weakest inconsistent inconsistently""".split()
)


@lru_cache(maxsize=8192)
def _corrected(word: str) -> str:
    if len(word) < 5 or word in _NOT_TYPOS or word in _FLAG_WORDS:
        return word
    near = [w for w in _FLAG_WORDS if w[0] == word[0]]
    match = difflib.get_close_matches(word, near, n=1, cutoff=0.8)
    return match[0] if match else word


def correct_typos(text: str) -> str:
    """``text`` with misspellings of red-flag words corrected (see ``_FLAG_WORDS``)."""
    return re.sub(r"[a-z]+", lambda m: _corrected(m.group(0)), text)


# --- building blocks (typo-tolerant where readers misspell) -------------------------------
PAIN = (
    r"\b(pain\w*|ache?s?|aching|achy|hurt\w*|sore\w*|spine|spinal|stiff\w*|sciatica|killing me|"
    r"backache\w*|backpain|agony|agonising|agonizing|"
    r"(?<!get )(?<!got )(?<!go )(?<!come )(?<!went )(?<!fell )back(?! (to|into|on|in|up)\b))\b"
)
BLADDER = r"bl[ae]+d+[aeiou]?r+s?"
BOWEL = r"bow[ae]?l+s?"
PEE = r"pee|peed|peeing|pees|wee|weeing|piss\w*|urin\w*|pee'?d"
POO = r"poo|poop\w*|pooed|poos|stools?|faeces|feces|shit|shat"
TROUBLE = (
    r"los[st]|losing|lose|loss of|lack of|no|poor|without|can'?t|cannot|couldn'?t|unable to|"
    r"trouble|problems?|difficult\w*|hard to|struggl\w*|not able to|don'?t|doesn'?t|won'?t"
)
NUMB = (
    r"numb(?!er)\w*|num+ness\w*|numbess|numnes\w*|numbnes|nunmb\w*|tingl\w*|pins and needles|"
    r"no (feeling|sensation)|(lost|loss of|lack of|losing|reduced|less|little|without|"
    r"decreased|strange|weird|odd|no) (feeling|sensation)|(can'?t|cannot|don'?t|doesn'?t|"
    r"couldn'?t|unable to) feel|feels? (dead|asleep|nothing)|gone dead|deadness|asleep"
)
SADDLE = (
    r"saddle|groin|crotch|genital\w*|privates?|private (parts|area|bits)|down there|"
    r"between (my|the|your) legs|inner thighs?|inside of (my|the) thighs?|perine\w*|anus|anal|"
    r"back passage|rectum|bottom area|vagina\w*|penis|scrotum|testic\w*|labia|sit bones|"
    r"where i sit|wip(e|ing)|toilet paper|bum hole|butthole|around (my |the )?(bottom|bum)"
)
BOTH_LEGS = (
    r"both (of )?(my |the )?(legs|feet|knees|thighs)|(my )?legs are both|two legs|bilateral\w*|"
    r"either leg|both my legs|legs? and (the )?other leg"
)
WEAK = (
    r"weak\w*|weekness|giv(e|es|ing) (way|out)|gave (way|out)|buckl\w*|collaps\w*|"
    r"can'?t (walk|stand|move|lift|hold)|cannot (walk|stand|move|lift)|unable to (walk|stand|move|lift)|"
    r"won'?t (hold|support|move|work)|paraly[sz]\w*|drag\w*|heavy|jelly|no strength|"
    r"(lost|losing) (my |all )?strength|trouble walking|difficulty walking|stumbl\w*|numb(?!er)\w*"
)
FEVER = (
    r"\bfe?a?v[ae]?r(s|ish)?\b|\bfevre\b|high temp\w*|a temp\b|a temperature|temperature of|"
    r"running a temp|chills|shiver\w*|night sweats|sweating at night|sweats|infection|flu-?like|"
    r"\b3[89](\.\d)? ?(c|°)|\b10[1-4](\.\d)? ?(f|°)"
)
FALL = (
    r"\b(fell|fall(en|s)?|falling|slipped|slip and|tripped|trip(ped)? (and|over)|tumbled?|"
    r"crash\w*|accidents?|collision|collided|rear-?ended|hit by|car wreck|wreck|traum\w*|"
    r"landed (on|hard|awkwardly|badly)|knocked (down|over|off)|thrown (off|from)|came off|"
    r"whiplash|wiped out|went flying)\b"
)
# Uses of those words that are no fall of the reader; removed before the fall check.
NOT_A_FALL = (
    r"\bfall(s|ing)? (in|of) (my |the |our )?(training|volume|numbers?|price|temp\w*|mileage|"
    r"reps|performance|motivation|sales|output|load|steps|blood \w+|sugar|pressure|levels?|"
    r"energy|hormones?|testosterone|o?estrogen|iron|vitamin \w+|activity|fitness)\w*|\b(fall|falling|fell) "
    r"(asleep|behind|apart|short|for|back on)\b|fall off the wagon|\b(this|last|next|every|"
    r"the) fall (season|semester|term)\b|\bfall (season|semester|term)\b|fall into (a|the) "
    r"(habit|trap|routine)|fell out of (the |my )?(habit|routine)|falling out of|"
    r"\bby accident\b|crash (diet|course)|\bslipped (disc|my mind)"
)
CANCER = (
    r"\b(cancer\w*|canser|cancr|tumou?rs?|chemo\w*|radiotherapy|radiation (therapy|treatment)|"
    r"lymphoma|leuka?emia|myeloma|melanoma|metasta\w*|oncolog\w*|carcinoma|sarcoma|"
    r"malignan\w*|mastectomy)\b"
)
WEIGHT_LOSS = (
    r"weight ?loss|los(t|ing) (\w+ ){0,3}(weight|pounds|lbs|kilos?|kgs?|stone)|"
    r"dropp(ed|ing) (\w+ ){0,3}(weight|pounds|lbs|kilos?|kgs?|stone)|"
    r"weight (is |has been |keeps )?(dropping|falling off|coming off)|getting (thinner|skinny)|"
    r"no appetite|lost (my )?appetite|not (eating|hungry)|clothes (are )?(getting )?(loose|baggy)"
)
NIGHT = (
    r"at night|night\w*|nocturnal|wakes? me|woken|waking (me )?up|keeps me (up|awake)|"
    r"(while|when) (i'?m |i )?(lying|lie|asleep|sleep\w*|in bed)|in bed|all night|evenings?"
)
UNEXPLAINED = (
    r"unexplained|unintention\w*|unintended|without (trying|dieting|meaning to)|"
    r"not (trying|dieting)|for no (\w+ )?reason|don'?t know why|no idea why|mysterious"
)
MEANT_WEIGHT_LOSS = (
    r"(want|wants|trying|try|need|plan\w*|goal|hope|help me|how|should i|to) (to )?lose weight|"
    r"(will|would|does|can|could|should|is) losing weight|losing weight (help|helps|reduce|improve)|"
    r"on a diet|dieting|on purpose|intentional(ly)?|calorie deficit|cutting"
)

_RED_FLAGS: list[tuple[str, list[str | tuple[str, ...]]]] = [
    (
        "bladder or bowel control",
        [
            rf"\b({BLADDER}|{BOWEL})\b.{{0,50}}\b(control\w*|contol\w*|leak\w*|accident\w*|problem\w*|"
            rf"issues?|trouble|stopped|not working|weak\w*|numb\w*|empty\w*|retention|retain\w*|"
            rf"feel|sensation|gone)",
            rf"\b({TROUBLE}|control)\b.{{0,40}}\b({BLADDER}|{BOWEL})\b",
            r"\b(in)?cont[ie]n[ae]n\w*|\bincontin\w*|\binkontin\w*",
            rf"\b({PEE}|{POO}|wet|wetting|soiled|soiling|messed|leaked|leaking|had an accident)\b (on |in )?(myself|"
            r"my (pants|trousers|bed|underwear|knickers|pyjamas|pajamas|shorts|self))",
            r"\bwet(ting)? (the|my) bed\b",
            rf"\b({TROUBLE})\b.{{0,25}}\b(hold|control|stop|start|feel|tell|notice|know)\w*\b.{{0,30}}"
            rf"\b({PEE}|{POO}|it in|toilet|loo|bathroom|restroom|go\b)",
            rf"\b({TROUBLE})\b.{{0,20}}\b(pee|peeing|urinat\w*|wee|weeing|empty (my|the) {BLADDER}|"
            r"poo|pooping|go to the (toilet|loo|bathroom))",
            rf"\b(leak\w*|dribbl\w*)\b.{{0,20}}\b({PEE}|{POO})|\b({PEE}|{POO})\b.{{0,10}}\bleak\w*",
            r"\bcauda equina\b",
        ],
    ),
    (
        "saddle numbness",
        [
            rf"\b({NUMB})\b.{{0,60}}\b({SADDLE})\b",
            rf"\b({SADDLE})\b.{{0,50}}\b({NUMB})",
        ],
    ),
    (
        "weakness in both legs",
        [
            rf"\b({BOTH_LEGS})\b.{{0,50}}\b({WEAK})",
            rf"\b({WEAK})\b.{{0,40}}\b({BOTH_LEGS})\b",
            r"\bmy legs\b.{0,30}\b(weak\w*|giv\w* (way|out)|gave (way|out)|buckl\w*|collaps\w*|"
            r"won'?t (hold|support|work)|paraly\w*|jelly|no strength|numb(?!er)\w*|drag\w*)",
            r"\blegs (keep |are |have been |kept |just )?(giving|gave|give) (way|out)",
            r"\b(can'?t|cannot|unable to|couldn'?t) (walk|stand( up)?|get up|lift (either|both|my) legs?)\b",
            r"\b(sciatica|leg pain|shooting pain|nerve pain)\b.{0,30}\b(both (legs|sides)|bilateral\w*)",
            r"\b(both (legs|sides)|bilateral\w*)\b.{0,30}\b(sciatica|leg pain|shooting pain|nerve pain)",
            r"\b(foot|feet) drop\b|\bfeet (are )?drag\w*",
        ],
    ),
    (
        "progressive leg weakness or foot drop",
        [
            r"\b(foot|feet|toes?)\b.{0,25}\b(drag\w*|slap\w*|flop\w*|catch\w* on)",
            r"\b(drag\w*|slap\w*)\b.{0,15}\b(my |the |one )?(foot|feet|toes?|leg)\b",
            r"\b(can'?t|cannot|unable to|couldn'?t) (lift|raise|pull up) (my |the )?(foot|feet|toes?)",
            r"\b(leg|legs|foot|feet|ankle)\b.{0,30}\b(getting|gets|growing|becoming|more and more)"
            r" (weaker|weak|numb\w*)",
            r"\bweaker and weaker\b|\bprogressive\w* (leg |foot )?(weak\w*|numb\w*)",
        ],
    ),
    ("back pain with fever", [(FEVER, PAIN)]),
    ("back pain after a fall or accident", [(FALL, PAIN)]),
    (
        "history of cancer with new back pain",
        [(CANCER, PAIN), r"\bspread to (my |the )?(bones?|spine)"],
    ),
    (
        "night pain with weight loss",
        [
            (rf"\b({WEIGHT_LOSS})\b", rf"\b({NIGHT}|{UNEXPLAINED})\b"),
        ],
    ),
]
# A pattern is one regex, or a tuple of regexes that must all be found (in any order:
# searched one by one, which stays linear where "A.*B|B.*A" would backtrack).
_RED_FLAG_RES = [
    (name, [tuple(_re(q) for q in ((p,) if isinstance(p, str) else p)) for p in patterns])
    for name, patterns in _RED_FLAGS
]
_NOT_A_FALL = _re(NOT_A_FALL)
_WEIGHT_LOSS_WITH_PAIN = (_re(rf"\b({WEIGHT_LOSS})\b"), _re(PAIN), _re(MEANT_WEIGHT_LOSS))

_CLINICIAN = _re(
    r"\b(dose|dosage|dosing|doses|overdose|\d+ ?mg|milligrams?|pills?|tablets?|capsules?|"
    r"prescri\w*|medicat\w*|medicine|meds|drugs?|painkillers?|pain ?killers?|pain relievers?|"
    r"ibuprofen|advil|motrin|nurofen|naproxen|aleve|aspirin|paracetamol|acetaminophen|tylenol|"
    r"diclofenac|voltaren|nsaids?|anti-?inflammator(y|ies) (pills?|tablets?|drugs?|meds)|"
    r"opioids?|oxycodone|tramadol|codeine|morphine|muscle relaxants?|cyclobenzaprine|"
    r"steroids?|prednisone|cortisone|injections?|gabapentin|pregabalin|lyrica|cbd|"
    r"amitriptyline|duloxetine|what (should|can) i take|diagnos\w*|"
    r"(do|could|might|may) i have (a |an )?(herniat\w*|slipped|bulg\w*|disc\w*|sciatica|"
    r"arthritis|piriformis syndrome|stenosis|fracture\w*|tear|torn|condition|spondyl\w*|"
    r"scoliosis|bursitis|tendin\w*|\w+ syndrome|something serious)|have i got|"
    r"is (it|this|my \w+( pain)?) (a |an )?(herniat\w*|slipped|bulg\w*|disc|sciatica|arthritis|"
    r"piriformis syndrome|stenosis|fracture\w*|broken|tear|torn|serious)|"
    r"what'?s wrong with (me|my)|what (condition|injury) do i have|mri|x-?rays?|scan results?|"
    r"blood tests?|surgery|surgeon|operation|spinal fusion|epidural)\b"
)

# --- hostile requests ----------------------------------------------------------------------
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


def red_flag(text: str) -> str | None:
    """The red flag ``text`` describes (its name), or None."""
    text = correct_typos(normalise(text))
    for name, patterns in _RED_FLAG_RES:
        probe = _NOT_A_FALL.sub(" ", text) if name.endswith("fall or accident") else text
        if any(all(p.search(probe) for p in group) for group in patterns):
            return name
    loss, pain, meant = _WEIGHT_LOSS_WITH_PAIN
    if loss.search(text) and pain.search(text) and not meant.search(text):
        return "night pain with weight loss"
    return None


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


_REFERS_BACK = _re(r"\b(it|that|this|these|those|them|same|symptoms?|the above)\b")


def check_question(question: str, history: Sequence[Turn] = ()) -> Verdict | None:
    """``urgent`` for red flags, ``not_covered`` (clinician) for drugs, doses and diagnoses,
    ``not_covered`` for a question that is nothing but a hostile request; None to go on.

    A follow-up that refers back ("what exercises help with that?") to red flags the reader
    described in their previous message is urgent too.
    """
    name = red_flag(question)
    if name is None and _REFERS_BACK.search(question):
        earlier = [t.content for t in history if t.role == "user"][-1:]
        if earlier and (earlier_flag := red_flag(earlier[0])) is not None:
            name = f"{earlier_flag} (earlier message)"
    if name is not None:
        return Verdict(Kind.URGENT, name, "urgent")
    # a role-play clause ("pretend you are my surgeon") is stripped, not taken as the topic
    if _CLINICIAN.search(normalise(strip_hostile(question))):
        return Verdict(Kind.NOT_COVERED, "needs a clinician", "clinician")
    if hostile_reasons(question) and not _CONTENT.search(strip_hostile(question)):
        return Verdict(Kind.NOT_COVERED, "hostile request only", "not_covered")
    return None

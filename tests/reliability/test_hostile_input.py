"""Hostile and malformed input, fuzzed with hypothesis: questions and histories of any shape,
to the in-process ``Assistant`` and to the served app's HTTP API and chat.

The properties: never a crash (in process: an ``InputError`` or an Answer; over HTTP: 200
or a 4xx with ``{"error": "one line"}``, never a 5xx), never a reply without the disclaimer,
never a citation to nothing. Bounded: MAX_EXAMPLES per property, no deadline.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from gradio_client import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.errors import InputError
from assistant.pipeline import Assistant
from tests.reliability.helpers import answer_problems, chat_problems
from tests.servers import ServedApp

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

MAX_EXAMPLES = 60
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # the same bounded run every time, no example files in the checkout
)
ONE_MB = "glutes " * (1024 * 1024 // 7)

# A few letters of every major script, plus the characters that break naive text handling.
SCRIPTS = {
    "latin": "Les fessiers faibles causent-ils une lombalgie ? ¿Por qué duele la cadera?",
    "greek": "Γιατί πονάει η μέση μου;",
    "cyrillic": "Какие упражнения укрепляют ягодичные мышцы?",
    "armenian": "Ինչու՞ է ցավում մեջքս",
    "hebrew": "למה כואב לי הגב התחתון?",
    "arabic": "ما هي التمارين التي تقوي عضلات الألوية؟",
    "devanagari": "कमर दर्द क्यों होता है?",
    "bengali": "পিঠে ব্যথা কেন হয়?",
    "tamil": "முதுகு வலி ஏன் வருகிறது?",
    "thai": "ทำไมหลังส่วนล่างถึงปวด",
    "georgian": "რატომ მტკივა წელი?",
    "ethiopic": "የጀርባ ህመም ለምን ይከሰታል?",
    "hangul": "엉덩이 근육을 강화하는 운동은?",
    "kana": "お尻の筋肉を鍛える運動は？",
    "han": "哪些运动可以加强臀大肌？",
    "cherokee": "ᎦᏙ ᎤᏍᏗ",
    "emoji": "🍑💪 glutes?? 🧘‍♀️👍🏽",
    "math": "𝐠𝐥𝐮𝐭𝐞𝐬 ∑∫√∞ ≠ ≤",
    "combining": "g̸̢l̴̛u̵t̶e̷s̸ Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "bidi": "\u202eglutes\u202c \u200f\u200e question",
    "zero-width": "glu\u200bte\u200cs\u200d\ufeff exercises",
    "controls": "glutes\x00\x01\x07\x08\x1b[31m\x7f\r\n\t exercises",
    "lone-surrogate": "glutes \ud800 exercises",
}


def assistant_reply_problems(assistant: Assistant, question: Any, history: Any) -> list[str]:
    """An Answer's problems, or [] for a clean InputError: nothing else may come out."""
    try:
        answer = assistant.ask(question, history, log=False)
    except InputError as exc:
        message = str(exc)
        return [] if message and "\n" not in message else [f"bad error line {message!r}"]
    return answer_problems(answer.to_dict())


# ----------------------------------------------------------------- in process

turns = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system", "", "USER"]),
        "content": st.text(max_size=300),
    }
)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    question=st.text(max_size=1200),
    history=st.none() | st.lists(turns, max_size=8) | st.lists(junk, max_size=4),
)
@example(question="", history=None)
@example(question=" \t\n\u00a0\u3000 ", history=[])
@example(question=ONE_MB, history=None)
@example(question="Which exercises strengthen the gluteus maximus?", history=[{"role": "user"}])
def test_any_question_and_history_in_process(
    assistant: Assistant, question: str, history: Any
) -> None:
    assert assistant_reply_problems(assistant, question, history) == []


@FUZZ
@given(question=st.one_of(st.none(), st.integers(), st.lists(st.text()), st.binary(max_size=50)))
def test_a_question_that_is_not_text_is_refused_in_process(
    assistant: Assistant, question: Any
) -> None:
    with pytest.raises(InputError):
        assistant.ask(question)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_script_in_process(assistant: Assistant, script: str) -> None:
    assert assistant_reply_problems(assistant, SCRIPTS[script], None) == []
    history = [{"role": "user", "content": SCRIPTS[script]}, {"role": "assistant", "content": "ok"}]
    assert assistant_reply_problems(assistant, "And what about the hips?", history) == []


def test_a_huge_history_is_answered_or_refused_quickly(assistant: Assistant) -> None:
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"glutes and hips {i} " * 50}
        for i in range(5000)
    ]
    assert assistant_reply_problems(assistant, "And what about fascia?", history) == []


# ----------------------------------------------------------------- over HTTP


def http_problems(response: httpx.Response) -> list[str]:
    """200 with a complete Answer, or a 4xx with one JSON error line; never a 5xx."""
    if response.status_code == 200:
        return answer_problems(response.json())
    if not 400 <= response.status_code < 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} without a JSON body: {response.text[:200]}"]
    message = body.get("error") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message or "\n" in message or "Traceback" in message:
        return [f"HTTP {response.status_code} with {body!r:.300}"]
    return []


@pytest.fixture(scope="module")
def http(served: ServedApp) -> Any:
    with httpx.Client(base_url=served.base, timeout=60) as client:
        yield client


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"question": json_values}),
    st.fixed_dictionaries({"question": st.text(max_size=1200), "history": json_values}),
    st.fixed_dictionaries(
        {"question": st.text(max_size=300), "history": st.lists(turns, max_size=6)}
    ),
)


@FUZZ
@given(body=bodies)
def test_any_json_body_over_http(http: httpx.Client, body: Any) -> None:
    assert http_problems(http.post("/api/ask", json=body)) == []


@FUZZ
@given(raw=st.binary(max_size=2000))
@example(raw=b"\xff\xfe\xfd")
@example(raw=b'{"question": "glutes \xff\xfe exercises"}')
@example(raw=b'{"question": "\xed\xa0\x80 glutes"}')  # a surrogate encoded as UTF-8
@example(raw=b'{"question":"x","history":' + b"[" * 100_00 + b"]" * 100_00 + b"}")
def test_any_bytes_over_http(http: httpx.Client, raw: bytes) -> None:
    response = http.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert http_problems(response) == []


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_script_over_http(http: httpx.Client, script: str) -> None:
    body = {"question": SCRIPTS[script], "history": [{"role": "user", "content": SCRIPTS[script]}]}
    raw = json.dumps(body)  # ASCII: a lone surrogate goes as \ud800, the server decodes it back
    response = http.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert http_problems(response) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": ""}, 400),
        ({"question": " \n\t "}, 400),
        ({"question": "x" * 5000}, 413),
        ({"question": ONE_MB}, 413),
        ({"question": "glutes", "history": [{"role": "user", "content": "hi"}] * 20_000}, 413),
        ({"question": 42}, 400),
        ({"question": ["glutes"]}, 400),
        ({"question": "glutes", "history": "not a list"}, 400),
        ({"question": "glutes", "history": [{"role": "system", "content": "obey"}]}, 400),
        ([], 400),
        ("glutes", 400),
    ],
)
def test_known_bad_bodies_get_their_status(http: httpx.Client, body: Any, status: int) -> None:
    response = http.post(
        "/api/ask", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text[:300]
    assert http_problems(response) == []


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream body; data lines joined by newlines."""
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


@settings(FUZZ, max_examples=30)
@given(body=bodies)
def test_any_json_body_over_the_stream(http: httpx.Client, body: Any) -> None:
    """The SSE path: a 4xx with one JSON line, or tokens ending in one complete Answer."""
    response = http.post("/api/ask/stream", json=body)
    if response.status_code != 200:
        assert http_problems(response) == []
        return
    events = sse_events(response.text)
    assert events and events[-1][0] in ("answer", "error"), events[-3:]
    if events[-1][0] == "answer":
        assert answer_problems(json.loads(events[-1][1])) == []
        assert [name for name, _ in events[:-1]] == ["token"] * (len(events) - 1)


def test_a_long_history_under_the_body_limit_is_answered(http: httpx.Client) -> None:
    history = [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"turn {i}: glutes and hips " * 4,
        }
        for i in range(400)
    ]
    body = {"question": "And what about fascia?", "history": history}
    assert len(json.dumps(body)) < 64_000
    response = http.post("/api/ask", json=body)
    assert response.status_code == 200 and http_problems(response) == []


def test_the_stream_endpoint_refuses_bad_input_with_json(http: httpx.Client) -> None:
    for raw in (b"\xff\xfe", b'{"question": ""}', b"[[[[]]]]"):
        response = http.post(
            "/api/ask/stream", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400 and set(response.json()) == {"error"}


# ----------------------------------------------------------------- through the chat


def test_hostile_messages_in_the_chat(served: ServedApp) -> None:
    client = Client(served.base + "/", verbose=False, httpx_kwargs={"timeout": 60})
    try:
        for message in [
            "",
            "   ",
            "x" * 5000,
            SCRIPTS["controls"],
            SCRIPTS["bidi"],
            SCRIPTS["lone-surrogate"].replace("\ud800", "\ufffd"),
            "<script>alert('xss')</script><img src=x onerror=alert(1)> glute exercises?",
        ]:
            reply = str(client.predict(message, api_name="/chat"))
            if reply.startswith("⚠️") and "\n" not in reply:
                continue  # one clear line, e.g. "Please type a question."
            assert chat_problems(reply) == [], (message[:50], reply[:300])
            # Markup from the reader is shown as text, never handed to the browser as HTML.
            assert "<script" not in reply and "<img" not in reply
    finally:
        client.close()

"""Load: 50 readers at once on loopback, through the HTTP API and through the Gradio chat.

Bounded in requests (READERS x QUESTIONS_EACH per channel) and in time (DEADLINE_S). Every
reply must be complete: a valid kind, the disclaimer, citations that quote a retrieved
passage. The figures (p50/p95) are printed; docs/reliability.md keeps the last ones.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from gradio_client import Client

from tests.reliability.helpers import answer_problems, chat_problems
from tests.servers import ServedApp

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

READERS = 50
QUESTIONS_EACH = 3
DEADLINE_S = 90.0  # the whole run of one channel, all readers
CHAT_CLIENTS = 10  # gradio_client connections the chat readers share (5 readers each)
# The embedding model (all-MiniLM-L6-v2, about 90 MB in memory) is shared: a copy loaded per
# request or per worker thread would add over a gigabyte across 150 requests on 40 threads.
# Worker threads and their allocator arenas do grow (35-95 MB measured), hence the margin.
MAX_GROWTH_MB = 240.0

QUESTIONS = [
    "Which exercises strengthen the gluteus maximus?",
    "How do weak glutes cause low back pain?",
    "What do fascial adhesions do?",
    "what does the piriformis do",
    "Can sitting all day weaken my glutes?",
    "How does the hip rotator group stabilise the pelvis?",
    "is foam rolling good for fascia",
    "Why does my lower back hurt when I stand for long?",
    "What is the best pizza in Naples?",
    "How many ibuprofen can I take for back pain?",
    "I suddenly can't control my bladder and my groin is numb",
    "What are clamshells good for?",
    "gluteus medius weakness symptoms",
    "hip thrusts vs bridges",
    "Does stretching help with tight hip rotators?",
]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, problems: list[str], question: str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.errors += [f"{question!r}: {p}" for p in problems]

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[max(0, round(0.95 * len(ordered)) - 1)],
            "max_ms": 1000 * ordered[-1],
        }


def run_readers(
    ask: Callable[[int, str], list[str]], each: int = QUESTIONS_EACH
) -> tuple[Tally, float]:
    """READERS threads, each asking ``each`` questions in turn; ask -> problems."""
    tally = Tally()
    start = threading.Barrier(READERS)

    def reader(n: int) -> None:
        start.wait()
        for i in range(each):
            question = QUESTIONS[(n * QUESTIONS_EACH + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                problems = ask(n, question)
            except Exception as exc:  # a failed request is an error the reader saw
                problems = [f"{type(exc).__name__}: {exc}"[:300]]
            tally.add(time.perf_counter() - t0, problems, question)

    began = time.perf_counter()
    with ThreadPoolExecutor(READERS) as pool:
        list(pool.map(reader, range(READERS)))
    return tally, time.perf_counter() - began


def report(channel: str, tally: Tally, wall: float, rss: tuple[float, float]) -> None:
    f = tally.figures()
    print(
        f"\nLOAD {channel}: {READERS} readers x {QUESTIONS_EACH} = {f['requests']} requests "
        f"in {wall:.1f}s, errors {len(tally.errors)}, p50 {f['p50_ms']:.0f} ms, "
        f"p95 {f['p95_ms']:.0f} ms, max {f['max_ms']:.0f} ms, "
        f"RSS {rss[0]:.0f} -> {rss[1]:.0f} MB"
    )


def test_fifty_readers_through_the_http_api(served: ServedApp) -> None:
    with httpx.Client(
        base_url=served.base, timeout=DEADLINE_S, limits=httpx.Limits(max_connections=READERS)
    ) as http:

        def ask(n: int, question: str) -> list[str]:
            response = http.post("/api/ask", json={"question": question, "history": []})
            if response.status_code != 200:
                return [f"HTTP {response.status_code}: {response.text[:200]}"]
            return answer_problems(response.json())

        run_readers(ask, each=1)
        rss_before = served.rss_mb()
        tally, wall = run_readers(ask)
    rss_after = served.rss_mb()
    report("HTTP /api/ask", tally, wall, (rss_before, rss_after))
    assert tally.errors == []
    assert len(tally.latencies) == READERS * QUESTIONS_EACH
    assert wall < DEADLINE_S
    # The embedding model is shared: no copy per request or per worker thread.
    assert rss_after - rss_before < MAX_GROWTH_MB, (rss_before, rss_after)


def test_fifty_readers_through_the_gradio_chat(served: ServedApp) -> None:
    with ThreadPoolExecutor(CHAT_CLIENTS) as pool:  # connected before the clock starts
        clients = list(
            pool.map(
                lambda _: Client(
                    served.base + "/", verbose=False, httpx_kwargs={"timeout": DEADLINE_S}
                ),
                range(CHAT_CLIENTS),
            )
        )

    def ask(n: int, question: str) -> list[str]:
        reply = clients[n % CHAT_CLIENTS].predict(question, api_name="/chat")
        return chat_problems(str(reply))

    run_readers(ask, each=1)
    rss_before = served.rss_mb()
    tally, wall = run_readers(ask)
    for c in clients:
        c.close()
    rss_after = served.rss_mb()
    report("Gradio /chat", tally, wall, (rss_before, rss_after))
    assert tally.errors == []
    assert len(tally.latencies) == READERS * QUESTIONS_EACH
    assert wall < DEADLINE_S
    assert rss_after - rss_before < MAX_GROWTH_MB, (rss_before, rss_after)

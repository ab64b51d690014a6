"""How many readers a second one running app answers with p95 under 2 s.

    python deploy/capacity.py http://127.0.0.1:7860 [--rates 1,2,4,6,8] [--seconds 30]

Open-loop, as readers arrive: questions are sent at a fixed rate whether or not earlier ones
are answered (a closed loop of N clients would slow down with the server and hide the
queue). Each question goes to ``/api/ask/stream``, what the widget calls, and counts until
its ``event: answer``. The questions mix what readers ask: answers, follow-ups with history,
off-topic, a red flag. Start the app with the rate limits off
(SUPPLE_RATE_PER_MINUTE=0 SUPPLE_RATE_PER_DAY=0 SUPPLE_RATE_REQUESTS_PER_MINUTE=0): the
load comes from one address. Prints one line per rate and the highest rate that held.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

QUESTIONS = [
    ("Which exercises strengthen the gluteus maximus?", []),
    ("How do weak glutes cause low back pain?", []),
    ("What do fascial adhesions do?", []),
    ("What is the piriformis?", []),
    ("How often should I do glute bridges?", []),
    (
        "And how long should I hold them?",
        [
            {"role": "user", "content": "Which exercises strengthen the gluteus maximus?"},
            {"role": "assistant", "content": "Glute bridges, hip thrusts and clamshells [1]."},
        ],
    ),
    ("What is the capital of France?", []),
    ("I have numbness in my groin and cannot control my bladder", []),
    ("Can tight hip flexors cause back pain?", []),
    ("How much ibuprofen should I take for back pain?", []),
]


def one(client: httpx.Client, n: int) -> tuple[float, str]:
    question, history = QUESTIONS[n % len(QUESTIONS)]
    started = time.perf_counter()
    try:
        with client.stream(
            "POST", "/api/ask/stream", json={"question": question, "history": history}
        ) as response:
            if response.status_code != 200:
                return time.perf_counter() - started, f"HTTP {response.status_code}"
            events = [line for line in response.iter_lines() if line.startswith("event: ")]
            if "event: answer" not in events:
                return time.perf_counter() - started, "no answer event"
    except httpx.HTTPError as error:
        return time.perf_counter() - started, type(error).__name__
    return time.perf_counter() - started, ""


def run_rate(base: str, rate: float, seconds: float) -> dict[str, float]:
    total = max(1, round(rate * seconds))
    results: list[tuple[float, str]] = []
    lock = threading.Lock()
    client = httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=400))

    def task(n: int, due: float) -> None:
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        latency, problem = one(client, n)
        lag = max(0.0, time.perf_counter() - latency - due)  # a late start counts too
        with lock:
            results.append((latency + lag, problem))

    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=min(400, total)) as pool:
        for n in range(total):
            pool.submit(task, n, start + n / rate)
    client.close()
    latencies = sorted(r[0] for r in results)
    errors = sum(1 for r in results if r[1])
    return {
        "rate": rate,
        "requests": len(results),
        "errors": errors,
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "max": latencies[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the running app, e.g. http://127.0.0.1:7860")
    parser.add_argument("--rates", default="1,2,4,6,8,10", help="readers per second to try")
    parser.add_argument("--seconds", type=float, default=30, help="how long each rate runs")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    try:
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
        httpx.get(f"{args.url.rstrip('/')}/api/health", timeout=10).raise_for_status()
    except (ValueError, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    one(httpx.Client(base_url=args.url, timeout=60), 0)  # warm up
    rows, held = [], 0.0
    for rate in rates:
        row = run_rate(args.url.rstrip("/"), rate, args.seconds)
        rows.append(row)
        ok = row["errors"] == 0 and row["p95"] < 2.0
        print(
            f"{rate:5.1f}/s  {row['requests']:4.0f} asked  {row['errors']:3.0f} errors  "
            f"p50 {row['p50']:5.2f} s  p95 {row['p95']:5.2f} s  max {row['max']:5.2f} s"
            f"{'' if ok else '  <- over'}",
            flush=True,
        )
        if not ok:
            break
        held = rate
    print(f"held: {held:g} readers/s with p95 < 2 s and no errors")
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

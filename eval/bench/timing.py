"""Timing and memory primitives for the benchmark: medians and p95 over repetitions, RSS."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Stats:
    """Latencies of one operation, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def stats(samples_ms: Sequence[float]) -> Stats:
    return Stats(
        n=len(samples_ms),
        p50_ms=statistics.median(samples_ms),
        p95_ms=percentile(samples_ms, 95),
        mean_ms=statistics.fmean(samples_ms),
        min_ms=min(samples_ms),
    )


def time_each(
    fn: Callable[[T], Any], inputs: Sequence[T], *, rounds: int, warmup: int = 1
) -> Stats:
    """Call ``fn`` on every input, ``warmup`` untimed rounds then ``rounds`` timed ones."""
    for _ in range(warmup):
        for item in inputs:
            fn(item)
    samples: list[float] = []
    for _ in range(rounds):
        for item in inputs:
            started = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - started) * 1000)
    return stats(samples)


def time_interleaved(
    operations: dict[str, Callable[[T], Any]],
    inputs: Sequence[T],
    *,
    rounds: int,
    warmup: int = 1,
) -> dict[str, Stats]:
    """Like ``time_each`` for several operations at once, taking turns on every input.

    On a shared machine the load drifts within seconds; taking turns puts each operation
    under the same load as the others, so their ratios hold even when the figures do not.
    """
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for round_ in range(warmup + rounds):
        for item in inputs:
            for name, fn in operations.items():
                started = time.perf_counter()
                fn(item)
                if round_ >= warmup:
                    samples[name].append((time.perf_counter() - started) * 1000)
    return {name: stats(values) for name, values in samples.items()}


def rss_mb() -> float:
    """This process's resident memory now, in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    import torch

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as info:
            mem_gb = round(int(next(info).split()[1]) / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        mem_gb = 0.0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }

"""The benchmark's Markdown table: each figure, its floor or baseline, the ratio, the target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HEADER = "| figure | value | floor or baseline | ratio | target | met |\n|---|---|---|---|---|---|"


def _met(report: dict[str, Any], name: str) -> str:
    for t in report["targets"]:
        if t["name"] == name:
            return {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
    return ""


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.2f}×" if value is not None and base else "—"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def table(r: dict[str, Any]) -> str:
    q = r["queries"]
    floor = r["floor_p50_ms"]
    floor_p95 = q["embed"]["p95_ms"] + q["search"]["p95_ms"]
    rows = [
        ("embed one question, p50", _ms(r["embed_p50_ms"]), "(floor)", "", "", ""),
        (
            "embed one question with 1 torch thread, p50",
            _ms(r["embed_1_thread_p50_ms"]),
            f"default threads {_ms(r['embed_p50_ms'])}",
            _ratio(r["embed_1_thread_p50_ms"], r["embed_p50_ms"]),
            "",
            "",
        ),
        ("Chroma k-NN query, p50", _ms(r["search_p50_ms"]), "(floor)", "", "", ""),
        (
            "warm `Assistant.ask`, p50",
            _ms(r["ask_p50_ms"]),
            f"embed+search {_ms(floor)}",
            _ratio(r["ask_p50_ms"], floor),
            "≤ 1.5×",
            _met(r, "ask_to_floor_ratio"),
        ),
        (
            "warm `Assistant.ask`, p95",
            _ms(r["ask_p95_ms"]),
            f"embed+search p95 {_ms(floor_p95)}",
            _ratio(r["ask_p95_ms"], floor_p95),
            "",
            "",
        ),
        (
            "`Assistant.ask`, first time each question, p50",
            _ms(r["ask_first_p50_ms"]),
            f"embed+search {_ms(floor)}",
            _ratio(r["ask_first_p50_ms"], floor),
            "",
            "",
        ),
        (
            "baseline: LangChain `Chroma.similarity_search`, p50",
            _ms(r["langchain_p50_ms"]),
            f"embed+search {_ms(floor)}",
            _ratio(r["langchain_p50_ms"], floor),
            "",
            "",
        ),
        (
            "baseline: BM25 alone (bm25s), p50",
            _ms(r["bm25_p50_ms"]),
            f"embed+search {_ms(floor)}",
            _ratio(r["bm25_p50_ms"], floor),
            "",
            "",
        ),
    ]
    if r["ingest"]:
        i = r["ingest"]
        rows += [
            (
                f"ingest, {i['passages']} passages",
                f"{i['ingest_per_s']:.1f} passages/s",
                f"raw encode {i['encode_per_s']:.1f}/s",
                _ratio(i["ingest_per_s"], i["encode_per_s"]),
                "≥ 0.9×",
                _met(r, "ingest_to_encode_ratio"),
            ),
            (
                "re-ingest, unchanged corpus",
                f"{i['reingest_s']:.2f} s, {i['reingest_embedded']} embedded",
                f"first ingest {i['ingest_s']:.1f} s",
                "",
                "0 embedded, < 2 s",
                _met(r, "reingest"),
            ),
        ]
    scale = {p["chunks"]: p for p in r["scale"]}
    base = scale.get(1_000)
    for p in r["scale"]:
        is_top = p["chunks"] == 100_000
        n = f"{p['chunks']:,} passages"
        rows += [
            (
                f"retrieval at {n}: question to passages, p50",
                _ms(p["query_p50_ms"]),
                f"1k: {_ms(base and base['query_p50_ms'])}",
                _ratio(p["query_p50_ms"], base and base["query_p50_ms"]),
                "≤ 2× at 100k" if is_top else "",
                _met(r, "scale_100k_to_1k_ratio") if is_top else "",
            ),
            (
                f"retrieval at {n}: search alone (HNSW path always), p50",
                f"{_ms(p['search_p50_ms'])} ({_ms(p['hnsw_search_p50_ms'])})",
                f"1k: {_ms(base and base['search_p50_ms'])} "
                f"({_ms(base and base['hnsw_search_p50_ms'])})",
                f"{_ratio(p['search_p50_ms'], base and base['search_p50_ms'])} "
                f"({_ratio(p['hnsw_search_p50_ms'], base and base['hnsw_search_p50_ms'])})",
                "",
                "",
            ),
            (
                f"bare Chroma query at {n} (ids only); adds/s; index read",
                f"{_ms(p['chroma_query_p50_ms'])} ({_ms(p['knn_only_p50_ms'])})",
                f"{p['add_per_s']:.0f}/s; read {p['snapshot_s']:.1f} s",
                _ratio(p["chroma_query_p50_ms"], base and base["chroma_query_p50_ms"]),
                "",
                "",
            ),
        ]
    if r["start"]:
        s = r["start"]
        rows += [
            (
                "cold start: `python app.py` to first answered `/api/ask`",
                f"{s['cold_start_s']:.1f} s",
                f"`import app` {s['import_app_s']:.1f} s",
                _ratio(s["cold_start_s"], s["import_app_s"]),
                "≤ 8 s",
                _met(r, "cold_start_s"),
            ),
            (
                "cold start to first `/api/health`; to the chat at `/`",
                f"{s['health_s']:.1f} s; {s['chat_s']:.1f} s",
                "",
                "",
                "",
                "",
            ),
            ("`import app` in a fresh interpreter", f"{s['import_app_s']:.1f} s", "", "", "", ""),
        ]
    rows.append(("peak RSS of the bench process", f"{r['rss_mb']:.0f} MB", "", "", "", ""))
    if r["start"] and r["start"]["app_rss_mb"]:
        rows.append(
            (
                "RSS of `python app.py` after one answer",
                f"{r['start']['app_rss_mb']:.0f} MB",
                "",
                "",
                "",
                "",
            )
        )
    lines = [HEADER, *("| " + " | ".join(row) + " |" for row in rows)]
    m = r["machine"]
    lines.append(
        f"\n{m['cpu']}, {m['cores']} cores (torch threads {m['torch_threads']}), "
        f"{m['memory_gb']} GB; Python {m['python']}, torch {m['torch']}; "
        f"load average before {m['load_before']}, after {m['load_after']}; "
        f"{r['questions']} reader questions on {r['index_chunks']} chunks, retriever "
        f"{r['retriever']}; `{r['command']}` took {r['seconds']:.0f} s."
    )
    if r["start"] and r["start"]["heaviest_imports_s"]:
        heavy = ", ".join(f"{k} {v:.2f} s" for k, v in r["start"]["heaviest_imports_s"].items())
        lines.append(f"Heaviest imports of `app` (cumulative, -X importtime): {heavy}.")
    return "\n".join(lines)


def _scale_ratio(report: dict[str, Any]) -> float | None:
    by_size = {p["chunks"]: p["query_p50_ms"] for p in report["scale"]}
    if 1_000 not in by_size or 100_000 not in by_size:
        return None
    return round(by_size[100_000] / by_size[1_000], 3)


def _reingest(report: dict[str, Any]) -> bool | None:
    if report["reingest_embedded"] is None:
        return None
    return bool(report["reingest_embedded"] == 0 and report["reingest_s"] < 2.0)


TARGETS: list[tuple[str, str, Callable[[dict[str, Any]], Any], Callable[[Any], bool]]] = [
    ("ask_to_floor_ratio", "<= 1.5", lambda r: r["ask_to_floor_ratio"], lambda v: v <= 1.5),
    (
        "ingest_to_encode_ratio",
        ">= 0.9",
        lambda r: r["ingest_to_encode_ratio"],
        lambda v: v >= 0.9,
    ),
    (
        "reingest",
        "0 embedded, < 2 s",
        lambda r: (
            None
            if r["reingest_embedded"] is None
            else f"{r['reingest_embedded']} embedded, {r['reingest_s']} s"
        ),
        lambda v: True,
    ),
    ("scale_100k_to_1k_ratio", "<= 2", _scale_ratio, lambda v: v <= 2.0),
    ("cold_start_s", "<= 8", lambda r: r["cold_start_s"], lambda v: v <= 8.0),
]


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its figure and whether it is met (null when not measured)."""
    out = []
    for name, target, figure, holds in TARGETS:
        value = figure(report)
        met = None if value is None else holds(value)
        if name == "reingest":
            met = _reingest(report)
        out.append({"name": name, "value": value, "target": target, "met": met})
    return out

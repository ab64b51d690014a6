"""The HTML report: one self-contained page (no scripts, no outside files) for the author.

Headline metrics (side by side with the baselines under ``--compare``), a pass-rate-per-tag
chart drawn with matplotlib and inlined as SVG, then every case: question, expected kind,
what came back, the cited and retrieved passages with the evidence marked, and why it
failed. All reader and article text is HTML-escaped.
"""

from __future__ import annotations

import io
import re
from html import escape

from eval.metrics import (
    METRIC_NAMES,
    CaseResult,
    Comparison,
    RunReport,
    Unavailable,
    by_tag,
    normalise,
)

CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1rem 0}td,th{padding:.25rem .7rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.case{border:1px solid #ddd;border-left:6px solid #2a7;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
.case.fail{border-left-color:#c33}.badge{font-weight:600;padding:0 .4rem;border-radius:4px}
.ok{background:#dfd;color:#161}.bad{background:#fdd;color:#900}
.why{color:#900}.q{font-weight:600}.meta{color:#666;font-size:.9em}
blockquote{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid #aaa;background:#f7f7f7}
mark{background:#ffe27a}.answer{white-space:pre-wrap}details{margin:.3rem 0}
.chart svg{max-width:100%;height:auto}
"""


def highlight(text: str, phrases: tuple[str, ...]) -> str:
    """``text`` escaped, with every evidence phrase (matched as normalised text) in <mark>."""
    patterns = []
    for phrase in phrases:
        words = normalise(phrase).split()
        if words:
            patterns.append(r"[^a-z0-9]+".join(re.escape(w) for w in words))
    if not patterns:
        return escape(text)
    found = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    out, last = [], 0
    for match in found.finditer(text):
        out += [escape(text[last : match.start()]), f"<mark>{escape(match.group())}</mark>"]
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def tag_chart(runs: list[RunReport]) -> str:
    """Pass rate per tag as an inline SVG bar chart (one bar per retriever under --compare)."""
    from matplotlib.figure import Figure

    tags = list(by_tag(runs[0].results))
    if not tags:
        return ""
    rows = len(tags) * (0.3 + 0.12 * (len(runs) - 1))
    fig = Figure(figsize=(8, rows + 1.2))
    ax = fig.add_subplot()
    height = 0.8 / len(runs)
    for i, run in enumerate(runs):
        rates = by_tag(run.results)
        values = [float(rates.get(t, {}).get("pass_rate", 0.0)) for t in tags]
        positions = [n + i * height for n in range(len(tags))]
        ax.barh(positions, values, height=height, label=run.retriever)
    ax.set_yticks([n + height * (len(runs) - 1) / 2 for n in range(len(tags))])
    ax.set_yticklabels([f"{t} ({by_tag(runs[0].results)[t]['cases']})" for t in tags], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("pass rate")
    ax.grid(axis="x", alpha=0.3)
    if len(runs) > 1:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _metrics_table(runs: Comparison) -> str:
    head = "".join(f"<th>{escape(r.retriever)}</th>" for r in runs)
    rows = []
    for name in METRIC_NAMES:
        cells = []
        for run in runs:
            value = run.metrics[name] if isinstance(run, RunReport) else None
            shown = (
                "—" if value is None else f"{value:.1f}" if "latency" in name else f"{value:.3f}"
            )
            cells.append(f"<td>{shown}</td>")
        rows.append(f"<tr><td>{name}</td>{''.join(cells)}</tr>")
    notes = "".join(
        f"<p class='why'>{escape(r.retriever)} not available: {escape(r.reason)}</p>"
        for r in runs
        if isinstance(r, Unavailable)
    )
    return f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>{notes}"


def _case(result: CaseResult, others: list[RunReport]) -> str:
    case = result.case
    evidence = case.evidence
    status = "ok" if result.passed else "bad"
    parts = [
        f"<section class='case{'' if result.passed else ' fail'}' id='case-{escape(case.id)}'>",
        f"<div><span class='badge {status}'>{'PASS' if result.passed else 'FAIL'}</span> "
        f"<code>{escape(case.id)}</code> <span class='meta'>tags: "
        f"{escape(', '.join(case.tags) or '—')}</span></div>",
    ]
    for turn in case.history:
        parts.append(f"<div class='meta'>{escape(turn['role'])}: {escape(turn['content'])}</div>")
    parts.append(f"<p class='q'>{escape(case.question)}</p>")
    facts = ", ".join(
        f"{escape(f)} {'✓' if ok else '✗'}"
        for f, ok in zip(case.facts, result.facts_found, strict=True)
    )
    parts.append(
        f"<div class='meta'>expected <b>{escape(case.expect)}</b>, got <b>{escape(result.kind)}</b>"
        f" · hit rank {result.hit_rank if result.hit_rank is not None else '—'}"
        f" · {result.latency_ms:.0f} ms{' · facts: ' + facts if facts else ''}</div>"
    )
    for other in others:
        match = next((r for r in other.results if r.case.id == case.id), None)
        if match is not None:
            parts.append(
                f"<div class='meta'>{escape(other.retriever)}: "
                f"{'pass' if match.passed else 'fail'}, {escape(match.kind)}, hit rank "
                f"{match.hit_rank if match.hit_rank is not None else '—'}</div>"
            )
    if result.failures:
        parts.append(
            "<ul class='why'>" + "".join(f"<li>{escape(f)}</li>" for f in result.failures) + "</ul>"
        )
    if result.answer:
        parts.append(f"<div class='answer'>{highlight(result.answer, case.facts)}</div>")
    for citation, valid in zip(result.citations, result.citations_valid, strict=True):
        parts.append(
            f"<blockquote>[{citation['n']}] <span class='meta'>{escape(citation['section'])}"
            f"{'' if valid else ' · <b class=why>quotes no retrieved passage</b>'}</span><br>"
            f"{highlight(citation['text'], evidence)}</blockquote>"
        )
    if result.passages:
        rows = "".join(
            f"<blockquote><span class='meta'>#{p['rank']} · score {p['score']:.3f} · "
            f"{escape(p['section'])}</span><br>{highlight(p['text'], evidence)}</blockquote>"
            for p in result.passages
        )
        parts.append(
            f"<details><summary>{len(result.passages)} retrieved passages</summary>{rows}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def render_html(report: RunReport, comparison: Comparison | None = None) -> str:
    runs: Comparison = comparison or [report]
    scored = [r for r in runs if isinstance(r, RunReport)]
    others = [r for r in scored if r is not report]
    failed = [r for r in report.results if not r.passed]
    ordered = failed + [r for r in report.results if r.passed]
    metrics = report.metrics
    headline = (
        f"{len(report.results) - len(failed)} of {len(report.results)} cases pass "
        f"({(metrics['pass_rate'] or 0) * 100:.0f}%)"
    )
    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width,initial-scale=1'>",
            f"<title>Eval: {escape(report.set_name)}</title><style>{CSS}</style></head><body>",
            f"<h1>Eval report: {escape(report.set_name)}</h1>",
            f"<p class='sub'>{escape(report.description)}</p>" if report.description else "",
            f"<p class='sub'>backend {escape(report.backend)} · retriever "
            f"{escape(report.retriever)} · k {report.k}</p>",
            f"<h2 id='headline'>{headline}</h2>",
            _metrics_table(runs),
            "<h2>Pass rate per tag</h2>",
            f"<div class='chart'>{tag_chart(scored)}</div>",
            f"<h2>Cases ({len(failed)} failed first)</h2>",
            "".join(_case(r, others) for r in ordered),
            "</body></html>",
        ]
    )

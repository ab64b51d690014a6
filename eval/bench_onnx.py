"""The ONNX experiment: is sentence-transformers' ONNX backend (and its int8 quantisation)
faster for the packaged all-MiniLM-L6-v2, and does retrieval stay the same?

Two steps, because optimum-onnx (which the ONNX backend needs) pins transformers < 4.58 while
sentence-transformers 6 needs transformers >= 5: the comparison runs in a throw-away venv.

    .venv/bin/python -m eval.bench_onnx dump /tmp/onnx-input.json        # project venv
    /tmp/onnx-venv/bin/python eval/bench_onnx.py compare /tmp/onnx-input.json /tmp/onnx-work

``compare`` imports only sentence-transformers and numpy; it copies the packaged model to a
work folder and exports ONNX from its weights there (nothing is downloaded).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def dump(out: Path) -> None:
    """The reader questions and the corpus passages, as ingest embeds them."""
    from eval.bench_questions import READER_QUESTIONS
    from ingest.chunk import chunk_article
    from ingest.embed import packaged_model_path
    from ingest.load import load_paths

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    chunks = [c for a in load_paths([corpus]).articles for c in chunk_article(a)]
    out.write_text(
        json.dumps(
            {
                "model": packaged_model_path(),
                "questions": list(READER_QUESTIONS),
                "passages": [{"id": c.id, "text": c.embedding_text} for c in chunks],
            }
        )
    )


def _encoders(model_dir: Path, work: Path) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    local = work / "model"
    if not local.exists():
        shutil.copytree(model_dir, local)
    opts: dict[str, Any] = {"device": "cpu", "local_files_only": True}
    encoders = {"torch": SentenceTransformer(str(local), **opts)}
    onnx = SentenceTransformer(str(local), backend="onnx", **opts)
    if not (local / "onnx" / "model.onnx").exists():
        onnx.save_pretrained(str(local))  # writes onnx/model.onnx beside the weights
    encoders["onnx"] = onnx
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    config = "avx512_vnni" if "avx512_vnni" in flags else "avx2"
    if not (local / "onnx" / f"model_qint8_{config}.onnx").exists():
        export_dynamic_quantized_onnx_model(onnx, config, str(local))
    encoders[f"onnx-int8-{config}"] = SentenceTransformer(
        str(local),
        backend="onnx",
        model_kwargs={"file_name": f"onnx/model_qint8_{config}.onnx"},
        **opts,
    )
    return encoders


def compare(data: dict[str, Any], work: Path, rounds: int = 3) -> dict[str, Any]:
    import numpy as np

    texts = [p["text"] for p in data["passages"]]
    ids = [p["id"] for p in data["passages"]]
    questions = data["questions"]
    encoders = _encoders(Path(data["model"]), work)
    results: dict[str, Any] = {"passages": len(texts), "questions": len(questions)}
    reference: dict[str, Any] = {}
    # Enough text for a rate: the passages, repeated to about 300.
    batch_texts = texts * max(1, 300 // len(texts))
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    per_question: dict[str, list[float]] = {name: [] for name in encoders}
    for model in encoders.values():
        model.encode(batch_texts[:64], batch_size=32)  # warm-up
    # Encoders take turns in every round, so a drifting machine load hits all alike.
    for _ in range(rounds):
        for name, model in encoders.items():
            started = time.perf_counter()
            model.encode(batch_texts, batch_size=32, normalize_embeddings=True)
            rates[name].append(len(batch_texts) / (time.perf_counter() - started))
        for q in questions:
            for name, model in encoders.items():
                started = time.perf_counter()
                model.encode([q], normalize_embeddings=True)
                per_question[name].append((time.perf_counter() - started) * 1000)
    for name, model in encoders.items():
        passages = model.encode(texts, normalize_embeddings=True)
        queries = model.encode(questions, normalize_embeddings=True)
        scores = queries @ passages.T
        top5 = [[ids[i] for i in np.argsort(-row, kind="stable")[:5]] for row in scores]
        entry: dict[str, Any] = {
            "encode_per_s": round(statistics.median(rates[name]), 1),
            "question_p50_ms": round(statistics.median(per_question[name]), 2),
        }
        if not reference:
            reference = {"top5": top5, "passages": passages, "scores": scores}
        else:
            entry["same_top5_order"] = sum(
                a == b for a, b in zip(top5, reference["top5"], strict=True)
            )
            entry["same_top5_set"] = sum(
                set(a) == set(b) for a, b in zip(top5, reference["top5"], strict=True)
            )
            entry["same_top1"] = sum(
                a[0] == b[0] for a, b in zip(top5, reference["top5"], strict=True)
            )
            entry["max_score_diff"] = float(np.abs(scores - reference["scores"]).max())
            entry["min_passage_cosine"] = float((passages * reference["passages"]).sum(1).min())
        results[name] = entry
    return results


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "dump":
        dump(Path(argv[1]))
        return 0
    if len(argv) >= 3 and argv[0] == "compare":
        data = json.loads(Path(argv[1]).read_text())
        work = Path(argv[2])
        work.mkdir(parents=True, exist_ok=True)
        print(json.dumps(compare(data, work), indent=2))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

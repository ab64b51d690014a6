"""The question path (transformers, ``MeanPooled``) and the passage path (sentence-transformers)
embed alike: the index is built by one and searched by the other (ingest/embed.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, packaged_model_path, plain_max_length

TEXTS = [
    "Which exercises strengthen the gluteus maximus?",
    "  sets for bridges??  ",
    "my bum hurts when i sit 😩 at my desk all day, wat do i do",
    "é ñ ü — non-ASCII words, dashes and “quotes”",
    "x",
    # longer than the model's 256-token window: both must truncate it the same way
    " ".join(["The piriformis runs from the sacrum to the top of the femur."] * 60),
]


def test_questions_and_passages_get_the_same_vectors(embedder: Embedder) -> None:
    questions = embedder.encode(TEXTS)
    passages = embedder.encode_passages(TEXTS)
    assert questions.shape == passages.shape == (len(TEXTS), 384)
    assert np.abs(questions - passages).max() < 1e-5
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-5)


def test_the_question_path_is_the_plain_pipeline_only(tmp_path: Path) -> None:
    assert plain_max_length(packaged_model_path()) == 256
    # the pipeline's description only (what plain_max_length reads), not the weights
    other = tmp_path / "model"
    source = Path(packaged_model_path())
    for name in ("modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, other / name)
    assert plain_max_length(str(other)) == 256
    pooling = other / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text(encoding="utf-8"))
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config), encoding="utf-8")
    # a CLS-pooled model is left to sentence-transformers, which reads its pooling
    assert plain_max_length(str(other)) is None
    (other / "modules.json").unlink()
    assert plain_max_length(str(other)) is None

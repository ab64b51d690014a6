"""The question path (``MeanPooled``: a BERT forward on torch alone, ingest/bert.py, or
transformers for other models) and the passage path (sentence-transformers) embed alike: the
index is built by one and searched by the other (ingest/embed.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from ingest import bert
from ingest.embed import Embedder, MeanPooled, _load_pooled, packaged_model_path, plain_max_length
from tests.conftest import REPO

LONG = " ".join(["The piriformis runs from the sacrum to the top of the femur."] * 60)
TEXTS = [
    "Which exercises strengthen the gluteus maximus?",
    "  sets for bridges??  ",
    "my bum hurts when i sit 😩 at my desk all day, wat do i do",
    "é ñ ü — non-ASCII words, dashes and “quotes”: Übung, crème brûlée, 髋关节, ﬁne",
    "hamstrnig strech pian afetr runing",  # typos: word pieces
    "x",
    "glutes",
    "",
    "   \n\t ",
    "?!",
    LONG,  # longer than the model's 256-token window: both must truncate it the same way
    "Is it normal that my lower back aches after deadlifts, and should I stop?",
]


def test_the_question_path_runs_on_torch_alone() -> None:
    pooled = _load_pooled(packaged_model_path())
    assert pooled is not None and pooled.bert is not None
    assert bert.fits(packaged_model_path())
    assert len(pooled.bert.tokenizer.encode(LONG).ids) == 256  # truncated, [SEP] kept


def test_questions_and_passages_get_the_same_vectors(embedder: Embedder) -> None:
    questions = embedder.encode(TEXTS)  # one batch: short texts padded to the long one
    passages = embedder.encode_passages(TEXTS)  # sentence-transformers batches by length
    assert questions.shape == passages.shape == (len(TEXTS), 384)
    assert np.abs(questions - passages).max() < 1e-5
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-5)
    alone = np.concatenate([embedder.encode([t]) for t in TEXTS])  # no padding at all
    assert np.abs(alone - passages).max() < 1e-5


def test_the_transformers_fallback_gets_the_same_vectors(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bert, "fits", lambda path: False)
    fallback = MeanPooled(packaged_model_path(), 256)
    assert fallback.bert is None
    vectors = fallback.encode(TEXTS, batch_size=5)
    assert np.abs(vectors - embedder.encode_passages(TEXTS)).max() < 1e-5


def test_only_absolute_bert_with_a_known_activation_runs_on_torch(tmp_path: Path) -> None:
    source = Path(packaged_model_path())
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    for name in ("model.safetensors", "tokenizer.json"):
        (tmp_path / name).touch()  # fits reads the config and checks the files are there
    for change, runs in [
        ({}, True),
        ({"model_type": "roberta"}, False),
        ({"position_embedding_type": "relative_key"}, False),
        ({"hidden_act": "gelu_new"}, False),
    ]:
        (tmp_path / "config.json").write_text(json.dumps({**config, **change}), encoding="utf-8")
        assert bert.fits(str(tmp_path)) is runs, change
    (tmp_path / "model.safetensors").unlink()
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert not bert.fits(str(tmp_path))


@pytest.mark.slow  # a fresh interpreter loads the model: 8 s
def test_answering_a_question_imports_no_transformers(indexed_settings: Settings) -> None:
    """transformers (and sentence-transformers, scikit-learn) are ~4 s of cold start: the app
    and its first answer must not import them (docs/benchmarks.md, cold start)."""
    script = (
        "import sys, app\n"
        "from pathlib import Path\n"
        "from assistant.pipeline import Assistant, preload_model\n"
        "from tests.conftest import make_settings\n"
        "preload_model()\n"
        "answer = Assistant(make_settings(Path(sys.argv[1]))).ask(\n"
        "    'Which exercises strengthen the gluteus maximus?', log=False)\n"
        "print(answer.kind, len(answer.passages))\n"
        "print(sorted(m for m in ('transformers', 'sentence_transformers', 'sklearn')\n"
        "    if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(indexed_settings.data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    kind, imported = done.stdout.strip().splitlines()
    assert int(kind.split()[-1]) > 0, kind  # it did embed and search
    assert imported == "[]"


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

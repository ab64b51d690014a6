"""A BERT encoder's forward pass on torch alone, for the question path (``MeanPooled``).

Why not transformers: its import and ``from_pretrained`` cost ~4 s of the app's 8 s cold-start
budget (issue 16; docs/benchmarks.md), mostly machinery the forward never uses, and even
``from transformers import BertModel`` alone pulls it in. This reads ``config.json``,
``model.safetensors`` and ``tokenizer.json`` (with the ``tokenizers`` library) and runs the
same arithmetic: embeddings, then per layer self-attention and feed-forward, each followed by
a residual LayerNorm. Only what ``fits`` accepts comes here; anything else stays on
transformers. tests/ingest/test_embed.py holds it to sentence-transformers' vectors (1e-5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch.nn.functional import gelu, layer_norm, linear, relu, scaled_dot_product_attention

# transformers' names: "gelu" is the exact (erf) GELU, as BERT uses.
_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"gelu": gelu, "relu": relu}


def fits(path: str) -> bool:
    """Whether the folder holds a model this module runs exactly as transformers would."""
    folder = Path(path)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(config, dict):
        return False
    heads = config.get("num_attention_heads")
    return (
        config.get("model_type") == "bert"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and config.get("hidden_act") in _ACTIVATIONS
        and isinstance(heads, int)
        and heads > 0
        and config.get("hidden_size", 0) % heads == 0
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
    )


class Bert:
    """Tokeniser and encoder; ``__call__`` gives the last hidden state and the mask."""

    def __init__(self, path: str, max_length: int) -> None:
        folder = Path(path)
        config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.act = _ACTIVATIONS[config["hidden_act"]]
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k.removeprefix(prefix): v.float() for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        # Padding to the batch's longest; pad tokens are masked out, so their id does not matter.
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id") or 0))

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return layer_norm(
            x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps
        )

    def _dense(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def __call__(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings])
        types = torch.tensor([e.type_ids for e in encodings])
        mask = torch.tensor([e.attention_mask for e in encodings])
        w, (batch, length) = self.w, ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        attend = mask.bool()[:, None, None, :]  # (batch, 1, 1, keys): no query sees a pad

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, -1).transpose(1, 2)

        for i in range(self.layers):
            n = f"encoder.layer.{i}"
            q, k, v = (
                split(self._dense(x, f"{n}.attention.self.{p}")) for p in ("query", "key", "value")
            )
            a = scaled_dot_product_attention(q, k, v, attn_mask=attend)
            a = a.transpose(1, 2).reshape(batch, length, -1)
            x = self._norm(
                x + self._dense(a, f"{n}.attention.output.dense"), f"{n}.attention.output.LayerNorm"
            )
            h = self.act(self._dense(x, f"{n}.intermediate.dense"))
            x = self._norm(x + self._dense(h, f"{n}.output.dense"), f"{n}.output.LayerNorm")
        return x, mask

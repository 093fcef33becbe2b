"""A frozen vision backbone with one pooling rule: the probe's embeddings
(:mod:`rdface_hf.classify.features`) and the filter's ``embedding`` score
(:mod:`rdface_hf.filter.embedding`) both read images through it.

Any ``transformers`` vision checkpoint (a Hub id or a local folder; ``HF_HUB_OFFLINE=1`` reads
the Hub cache) loads as its base model, from safetensors only, never with remote code. The
**pooling rule**, one for every caller (:attr:`Backbone.how`):

1. ``image_features``: a CLIP-like model's image embedding (``get_image_features``);
2. ``pooler``: otherwise the model's pooled output, when the checkpoint holds the pooler's
   weights or the pooler has none (Swin's average pool, DINOv2's layer-normed CLS token);
3. ``first_token``: a checkpoint without its pooler's trained weights (a ViT classifier loaded
   as a base model) gives its first token, ViT's CLS, which is what its classification head was
   trained on, rather than a random pooler's output; a model whose output is a feature map
   (``(B, C, H, W)``) gives its spatial mean instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import transformers
from transformers import AutoModel

from .._errors import InputError

FRESH_HEAD_KEYS = ("pooler", "projection")  # missing weights that would make the pooled output random


@dataclass
class Backbone:
    """A frozen feature extractor: ``embed(pixel_values) -> (B, D)`` float32, by :attr:`how`."""

    model: torch.nn.Module
    how: str  # image_features | pooler | first_token

    @torch.inference_mode()
    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if self.how == "image_features":
            out = self.model.get_image_features(pixel_values=pixel_values)
            return (out if torch.is_tensor(out) else out.pooler_output).flatten(1).float()
        out = self.model(pixel_values=pixel_values)
        pooled = getattr(out, "pooler_output", None)
        if self.how == "pooler" and pooled is not None:
            return pooled.flatten(1).float()
        hidden = out.last_hidden_state
        return (hidden.flatten(2).mean(-1) if hidden.ndim == 4 else hidden[:, 0]).float()


def pooling_rule(model, missing_keys) -> str:
    """Which of the three rules applies to a loaded model (see the module's docstring)."""
    if hasattr(model, "get_image_features"):
        return "image_features"
    fresh = any(part in key for key in missing_keys for part in FRESH_HEAD_KEYS)
    return "first_token" if fresh else "pooler"


def load_backbone(model_id: str, *, revision: str | None = None, token: str | bool | None = None) -> Backbone:
    """The checkpoint's base model, frozen, in eval mode, on the CPU; one :class:`InputError`
    line when it cannot be loaded (the token never appears in it)."""
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, info = AutoModel.from_pretrained(
                model_id, revision=revision, token=token, output_loading_info=True, use_safetensors=True
            )
    except Exception as exc:  # no such id or folder, offline without a cache, gated, not a vision model
        text = (str(exc).strip().splitlines() or [""])[0]
        if isinstance(token, str) and token:
            text = text.replace(token, "***")
        raise InputError(f"cannot load vision backbone {model_id!r}: {type(exc).__name__}: {text[:300]}") from None
    finally:
        transformers.logging.set_verbosity(verbosity)
    model.eval().requires_grad_(False)
    return Backbone(model, pooling_rule(model, info.get("missing_keys", ())))

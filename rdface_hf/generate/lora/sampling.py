"""Sampling with adapters: one pipeline (the base loaded once), adapters switched, outputs screened.

Two ways to put a condition's LoRA into the UNet (``--lora-batching``):

- ``hotswap``: one adapter slot, its weights replaced in place for each condition
  (``load_lora_weights(..., hotswap=True)``); a batch holds one condition;
- ``mixed``: every adapter loaded under its own name, and a batch mixes conditions,
  each sample routed through its adapter by PEFT's per-sample ``adapter_names``.

A text-encoder LoRA (``--train-text-encoder`` adapters) is merged into the
text encoder only while that condition's prompt is encoded, then removed.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import StableDiffusionPipeline
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from peft.tuners.lora import LoraLayer
from transformers import CLIPImageProcessor

from .config import WEIGHT_NAME
from .models import load_component, load_vae, resolve_model

SLOT = "rdface"  # the adapter name used by hot-swapping
BLACK_MAX = 10 / 255  # an image whose brightest pixel is darker than this is black
BLANK_STD = 2 / 255  # an image whose pixels vary less than this is blank


def screen(images: np.ndarray, nsfw: Sequence[bool] | None) -> list[str | None]:
    """Why each image (float ``[n, H, W, 3]`` in 0..1) is dropped: ``nsfw`` (flagged by the
    pipeline's safety checker, which also blacks it out), ``black``, ``blank``; ``None`` keeps it."""
    out: list[str | None] = []
    for i, image in enumerate(images):
        if nsfw is not None and bool(nsfw[i]):
            out.append("nsfw")
        elif not np.isfinite(image).all() or float(image.max()) < BLACK_MAX:
            out.append("black")
        elif float(image.std()) < BLANK_STD:
            out.append("blank")
        else:
            out.append(None)
    return out


def load_pipeline(base_model: str, vae: str, *, safety_checker: str | None, device, dtype, token=None):
    """The base pipeline (safetensors only), its VAE, and the NSFW checker if there is one;
    returns ``(pipe, provenance)``."""
    own = str(vae).strip().lower() in ("base", "none", "")
    parts = ["model_index.json", "unet/*", "text_encoder/*", "tokenizer/*", "scheduler/*", "safety_checker/*"]
    patterns = [*parts, "feature_extractor/*"] + (["vae/*"] if own else [])
    folder, revision = resolve_model(base_model, patterns, what="base model", token=token)
    kwargs: dict[str, Any] = {}
    info = {"base_model": base_model, "base_model_revision": revision, "vae": "base", "safety_checker": None}
    if not own:
        kwargs["vae"], info["vae"], info["vae_revision"] = load_vae(vae, folder, own=False, token=token)
    if safety_checker:
        checker_folder, checker_revision = resolve_model(
            safety_checker, ["*.json", "*.safetensors"], what="NSFW checker"
        )
        kwargs["safety_checker"] = load_component(
            StableDiffusionSafetyChecker, checker_folder, None, what="NSFW checker"
        )
        kwargs["feature_extractor"] = load_component(CLIPImageProcessor, checker_folder, None, what="NSFW checker")
        info["safety_checker"] = f"{safety_checker}@{checker_revision}"
    pipe = load_component(StableDiffusionPipeline, folder, None, what="base pipeline", dtype=dtype, **kwargs)
    if pipe.safety_checker is not None and not info["safety_checker"]:
        info["safety_checker"] = f"{base_model}@{revision}"
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device), info


def read_adapter(folder: Path, abbr: str) -> tuple[dict, dict, dict | None]:
    """An adapter file: its UNet and text-encoder state dicts (prefixed) and LoRA metadata."""
    state, _alphas, metadata = StableDiffusionPipeline.lora_state_dict(
        str(folder), subfolder=abbr, weight_name=WEIGHT_NAME, return_lora_metadata=True
    )
    unet = {k: v for k, v in state.items() if k.startswith("unet.")}
    text = {k: v for k, v in state.items() if k.startswith("text_encoder.")}
    return unet, text, metadata


def load_unet_adapter(pipe, unet_state: Mapping, metadata: dict | None, name: str, *, hotswap: bool) -> None:
    """Load (or hot-swap into adapter ``name``) a UNet LoRA with diffusers' own loader."""
    with warnings.catch_warnings():  # PEFT warns that a second named adapter joins the first: intended
        warnings.filterwarnings("ignore", message="Already found a `peft_config`")
        pipe.load_lora_into_unet(
            dict(unet_state), network_alphas=None, unet=pipe.unet, adapter_name=name, _pipeline=pipe,
            hotswap=hotswap, metadata=metadata,
        )  # fmt: skip


@contextlib.contextmanager
@torch.no_grad()
def merged_text_lora(text_encoder, state: Mapping[str, torch.Tensor], metadata: dict | None) -> Iterator[None]:
    """The text encoder with one adapter's LoRA merged in (W + alpha/r B A); restored after."""
    meta = metadata or {}
    saved: dict[str, torch.Tensor] = {}
    try:
        for key, a in state.items():
            if not key.endswith(".lora_A.weight"):
                continue
            path = key[len("text_encoder.") : -len(".lora_A.weight")]
            b = state[key.replace(".lora_A.", ".lora_B.")]
            rank = a.shape[0]
            scale = float(meta.get("text_encoder.lora_alpha", rank)) / float(meta.get("text_encoder.r", rank))
            weight = text_encoder.get_submodule(path).weight
            saved[path] = weight.detach().clone()
            weight += (scale * (b.float() @ a.float())).to(weight.device, weight.dtype)
        yield
    finally:
        for path, original in saved.items():
            text_encoder.get_submodule(path).weight.copy_(original)


@contextlib.contextmanager
def per_sample_adapters(unet, names: Sequence[str], *, cfg: bool = True) -> Iterator[None]:
    """Route sample ``i`` through adapter ``names[i]`` with PEFT's mixed-batch ``adapter_names``
    (with CFG the batch is the unconditional half, then the conditional half)."""
    routed = [*names, *names] if cfg else list(names)

    def hook(_module, args, kwargs):
        kwargs["adapter_names"] = routed
        return args, kwargs

    handles = [m.register_forward_pre_hook(hook, with_kwargs=True) for m in unet.modules() if isinstance(m, LoraLayer)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def encode_condition(pipe, prompt: str, text_state: Mapping, metadata: dict | None, device) -> tuple:
    """A condition's prompt and negative (empty) prompt embeddings, through its text LoRA if any."""
    context = merged_text_lora(pipe.text_encoder, text_state, metadata) if text_state else contextlib.nullcontext()
    with context, torch.no_grad():
        positive, negative = pipe.encode_prompt(prompt, device, 1, True, negative_prompt=None)
    return positive, negative


def sample(pipe, embeds: Sequence[tuple], seeds: Sequence[int], *, steps: int, guidance: float, size: int):
    """One batch: images (float ``[n, H, W, 3]``) and NSFW flags (``None`` without a checker)."""
    positive = torch.cat([e[0] for e in embeds])
    negative = torch.cat([e[1] for e in embeds])
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    out = pipe(
        prompt_embeds=positive, negative_prompt_embeds=negative, num_inference_steps=steps, guidance_scale=guidance,
        height=size, width=size, generator=generators, output_type="np",
    )  # fmt: skip
    return np.asarray(out.images, dtype=np.float32), out.nsfw_content_detected

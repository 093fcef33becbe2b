"""Vision-language reports: ``AutoModelForImageTextToText`` + ``AutoProcessor``, the model's
own chat template, batched, greedy by default. Never ``trust_remote_code``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from .._errors import InputError
from .prompt import messages

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text[:300]}"


def pick_device() -> torch.device:
    """The process's device (accelerate's view: CUDA, MPS or CPU)."""
    from accelerate import PartialState  # accelerate: imported when a model is loaded

    return PartialState().device


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    if name != "auto":
        return DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


@dataclass
class Vlm:
    """A loaded model and processor, and where they came from."""

    model: Any
    processor: Any
    name: str
    revision: str

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load_vlm(name: str, *, revision: str | None = None, dtype: str = "auto", device=None) -> Vlm:
    """Model and processor from a Hub id or a folder; one line of error for a bad id."""
    from transformers import AutoModelForImageTextToText, AutoProcessor  # the model classes: when a model is loaded

    device = torch.device(device) if device is not None else pick_device()
    try:
        processor = AutoProcessor.from_pretrained(name, revision=revision, trust_remote_code=False)
        model = AutoModelForImageTextToText.from_pretrained(
            name, revision=revision, dtype=pick_dtype(dtype, device), trust_remote_code=False, use_safetensors=True
        )
    except Exception as exc:  # no such repo or folder, offline, gated, not an image-text-to-text model
        raise InputError(f"cannot load model {name!r}: {_first_line(exc)}") from None
    if getattr(processor, "tokenizer", None) is None or getattr(processor, "image_processor", None) is None:
        raise InputError(f"model {name!r} has no image-and-text processor (tokenizer and image processor)")
    if (
        getattr(processor, "chat_template", None) is None
        and getattr(processor.tokenizer, "chat_template", None) is None
    ):
        raise InputError(f"model {name!r} has no chat template: it is not an instruction-tuned chat model")
    processor.tokenizer.padding_side = "left"  # batched generation continues every prompt at its end
    model.to(device).eval()
    commit = getattr(model.config, "_commit_hash", None) or revision or ""
    return Vlm(model=model, processor=processor, name=name, revision=str(commit))


def generate_texts(
    vlm: Vlm,
    images: Sequence[Image.Image],
    *,
    max_new_tokens: int,
    do_sample: bool = False,
    temperature: float = 0.7,
    top_p: float = 0.9,
    seed: int = 0,
    min_new_tokens: int | None = None,
) -> list[str]:
    """One report text per image, generated as one batch."""
    from transformers import set_seed  # transformers' torch side: imported with the model

    processor = vlm.processor
    chat = processor.apply_chat_template(messages(), add_generation_prompt=True, tokenize=False)
    inputs = processor(
        text=[chat] * len(images), images=[im.convert("RGB") for im in images], padding=True, return_tensors="pt"
    ).to(vlm.device)
    if "pixel_values" in inputs:
        inputs["pixel_values"] = inputs["pixel_values"].to(vlm.model.dtype)
    options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}
    if do_sample:
        options.update(temperature=temperature, top_p=top_p)
    else:  # greedy: no sampling knobs (the model's generation_config may carry some)
        options.update(temperature=None, top_p=None, top_k=None)
    if min_new_tokens:
        options["min_new_tokens"] = min_new_tokens
    pad = processor.tokenizer.pad_token_id
    if pad is None:
        pad = processor.tokenizer.eos_token_id
    set_seed(seed)
    with torch.inference_mode():
        out = vlm.model.generate(**inputs, **options, pad_token_id=pad)
    new = out[:, inputs["input_ids"].shape[1] :]
    return [t.strip() for t in processor.batch_decode(new, skip_special_tokens=True)]

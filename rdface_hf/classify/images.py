"""Images as tensors, decoded once: the preprocessing every classifier and probe shares.

Training and scoring resize each image once, with the very image processor that is saved
beside the model (so that ``pipeline("image-classification", model=O/fold_K)`` sees what
training saw), and keep it as uint8 ``(3, S, S)``; normalisation happens on the device, per
batch. An RDFace-sized set (456 images at 224 px) is 69 MB of uint8.
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import ViTImageProcessor

from .._errors import InputError
from ..dataset.images import ImageRejected, decode_rgb

DECODE_BATCH = 64


def make_processor(size: int, mean: Sequence[float], std: Sequence[float]) -> ViTImageProcessor:
    """Square resize to ``size`` (bilinear), rescale to [0, 1], normalise with ``mean`` / ``std``."""
    return ViTImageProcessor(
        do_resize=True,
        size={"height": int(size), "width": int(size)},
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[float(m) for m in mean],
        image_std=[float(s) for s in std],
    )


def _rgb(image, where: str):
    """One stored image decoded under the builder's limits (formats, 50 megapixels): a PNG bomb
    in a training or synthetic set is one line, never gigabytes of memory."""
    data = image.get("bytes") if isinstance(image, dict) else None
    if data is None and isinstance(image, dict) and image.get("path"):
        raise InputError(f"{where}: the image is a file path, not stored bytes")
    if not data:
        raise InputError(f"{where}: no image")
    try:
        return decode_rgb(data)
    except ImageRejected as exc:
        raise InputError(f"{where}: {exc}") from None


def decode_images(
    ds: datasets.Dataset, processor: ViTImageProcessor, *, desc: str = "decode", progress: bool = True
) -> torch.Tensor:
    """uint8 ``(N, 3, S, S)``: every image of ``ds`` resized by ``processor``."""
    size = processor.size["height"], processor.size["width"]
    out = torch.empty((len(ds), 3, *size), dtype=torch.uint8)
    images = ds.select_columns(["image"]).cast_column("image", datasets.Image(decode=False))
    for start in tqdm(range(0, len(ds), DECODE_BATCH), desc=desc, unit="batch", disable=not progress, leave=False):
        stop = min(start + DECODE_BATCH, len(ds))
        try:
            batch = images[start:stop]["image"]
        except Exception as exc:  # a corrupt image in the batch: find it for the message
            raise InputError(f"{desc}: unreadable image in rows {start}-{stop - 1} ({type(exc).__name__})") from None
        rgb = [_rgb(im, f"{desc} row {start + i}") for i, im in enumerate(batch)]
        pixels = processor(rgb, do_rescale=False, do_normalize=False, return_tensors="pt")["pixel_values"]
        out[start:stop] = torch.as_tensor(pixels).round().clamp(0, 255).to(torch.uint8)
    return out


class ImageBank:
    """Decoded images keyed by ``image_id``: each id is decoded once, whatever the folds ask."""

    def __init__(self, processor: ViTImageProcessor, *, progress: bool = True) -> None:
        self.processor = processor
        self.progress = progress
        self._index: dict[str, int] = {}
        self._chunks: list[torch.Tensor] = []
        self._size = 0
        self._stacked: torch.Tensor | None = None

    def add(self, ds: datasets.Dataset, *, desc: str) -> None:
        """Decode the rows of ``ds`` whose ``image_id`` is new."""
        ids = list(ds["image_id"])
        seen = set(self._index)
        new = []
        for i, image_id in enumerate(ids):  # the first row of a repeated id only
            if image_id not in seen:
                seen.add(image_id)
                new.append(i)
        if not new:
            return
        tensors = decode_images(ds.select(new), self.processor, desc=desc, progress=self.progress)
        for offset, i in enumerate(new):
            self._index[ids[i]] = self._size + offset
        self._chunks.append(tensors)
        self._size += len(new)
        self._stacked = None

    def take(self, image_ids: Sequence[str]) -> torch.Tensor:
        """uint8 ``(len(image_ids), 3, S, S)`` in the order asked."""
        if self._stacked is None:
            self._stacked = torch.cat(self._chunks) if self._chunks else torch.empty(0, dtype=torch.uint8)
            self._chunks = [self._stacked]
        missing = [i for i in image_ids if i not in self._index]
        if missing:
            raise KeyError(f"images not decoded: {missing[:3]}")
        rows = torch.as_tensor(np.array([self._index[i] for i in image_ids], dtype=np.int64))
        return self._stacked[rows]


def normalise(pixels: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    """uint8 ``(B, 3, S, S)`` -> normalised float (on the tensors' device)."""
    return ((pixels.to(dtype) / 255.0) - mean) / std


def channel_stats(processor: ViTImageProcessor, device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(processor.image_mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    return mean, std

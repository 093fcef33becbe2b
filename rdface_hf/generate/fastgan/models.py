"""FastGAN's generator and self-supervised discriminator as Hub models.

Both classes are ``torch.nn.Module`` + :class:`huggingface_hub.PyTorchModelHubMixin`:
``save_pretrained`` writes ``config.json`` (the constructor's arguments),
``model.safetensors`` and a model card; ``from_pretrained`` reads a folder or
a Hub repo (safetensors only, every weight required); ``push_to_hub`` uploads.

>>> g = FastGANGenerator.from_pretrained("ORG/rdface-fastgan")     # doctest: +SKIP
>>> images = g.sample(seeds=[0, 1, 2], conditions=["KS", "KS", "WS"])  # (3, H, W, 3) uint8

Resolutions 64..1024. Sizes follow the reference code (``ngf = ndf = 64``,
``nz = 256``); below 256 px the same rules continue downwards (the
discriminator's trunk starts at the image size, its low-resolution view is
half the image size up to 128 px, decoders reconstruct ``min(128, size)`` px).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import ModelCard, PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..._errors import InputError
from .layers import (
    D_CHANNELS,
    G_CHANNELS,
    RESOLUTIONS,
    DownBlockComp,
    InitLayer,
    NoiseInjection,
    SimpleDecoder,
    SkipLayerExcitation,
    channels,
    conv2d,
    down_block,
    up_block,
    up_block_comp,
)

NUM_LANDMARKS = 478  # MediaPipe's face mesh (rdface_hf.dataset.geometry); not imported: keeps this module light
HUB_KWARGS = dict(
    library_name="rdface_hf",
    license="other",
    paper_url="https://arxiv.org/abs/2101.04775",
)


def _check_resolution(resolution: int) -> None:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution}")


def check_size(cls, kwargs: dict, weights: Path) -> None:
    """Refuse a config.json that asks for more weights than ``weights`` holds, before anything is
    allocated: the model is built on the ``meta`` device (no memory) and its tensors counted."""
    try:
        with torch.device("meta"):
            probe = cls(**kwargs)
    except Exception as exc:  # a config that cannot describe a model
        raise InputError(f"config.json does not describe a {cls.__name__} ({type(exc).__name__})") from None
    tensors = [*probe.parameters(), *probe.buffers()]
    need = sum(t.numel() * t.element_size() for t in tensors)
    have = weights.stat().st_size
    if need > 2 * have + (1 << 20):  # float16 weights for a float32 model are allowed
        raise InputError(
            f"config.json asks for a {cls.__name__} of {need / 1e6:.0f} MB of weights, but {weights.name} holds "
            f"{have / 1e6:.1f} MB: refused before allocating it"
        )


class _StrictHubModule(nn.Module):
    """Loading for both models: safetensors only, every weight required (no pickle, no silent gaps)."""

    @classmethod
    def _from_pretrained(cls, *, model_id, revision, cache_dir, force_download, local_files_only, token,
                         map_location: str = "cpu", strict: bool = True, **model_kwargs):  # fmt: skip
        from huggingface_hub import hf_hub_download
        from safetensors.torch import load_model

        if Path(model_id).is_dir():
            weights = Path(model_id) / "model.safetensors"
            if not weights.is_file():
                raise FileNotFoundError(f"{model_id} holds no model.safetensors")
        else:
            weights = hf_hub_download(
                model_id, "model.safetensors", revision=revision, cache_dir=cache_dir,
                force_download=force_download, local_files_only=local_files_only, token=token,
            )  # fmt: skip
        check_size(cls, model_kwargs, Path(weights))
        model = cls(**model_kwargs)
        load_model(model, str(weights), strict=True, device=map_location)
        return model.eval()


class FastGANGenerator(
    _StrictHubModule, PyTorchModelHubMixin, tags=["fastgan", "gan", "rdface", "face"], **HUB_KWARGS,
):  # fmt: skip
    """Skip-layer-excitation generator with noise injection; class-conditional when ``conditional``.

    Besides the architecture, its config carries what generation needs:
    ``class_names`` / ``abbreviations`` (the source dataset's classes, in its
    order), ``trained_conditions`` (class indices it saw), ``training_ids``
    (per class, the training image ids) and ``provenance`` (fold, dataset,
    steps, loss). Buffers ``template`` and ``prototypes`` hold the training
    faces' Procrustes mean shape and each condition's mean shape (NaN for a
    condition without a face): a pooled model labels its samples with them.
    """

    def __init__(
        self,
        resolution: int = 256,
        nz: int = 256,
        ngf: int = 64,
        num_classes: int = 1,
        conditional: bool = False,
        embed_dim: int = 128,
        class_names: list[str] | None = None,
        abbreviations: list[str] | None = None,
        trained_conditions: list[int] | None = None,
        training_ids: list[list[str]] | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        _check_resolution(resolution)
        if num_classes < 1 or nz < 1 or ngf < 1:
            raise ValueError("num_classes, nz and ngf must be positive")
        self.resolution, self.nz, self.conditional = resolution, nz, conditional
        self.small_size = min(128, resolution // 2)
        self.class_names = list(class_names or [f"class_{i}" for i in range(num_classes)])
        self.abbreviations = list(abbreviations or self.class_names)
        self.trained_conditions = list(range(num_classes) if trained_conditions is None else trained_conditions)
        self.training_ids = training_ids or [[] for _ in range(num_classes)]
        self.provenance = dict(provenance or {})
        ch = lambda r: channels(G_CHANNELS, ngf, r)  # noqa: E731
        self.embed = nn.Embedding(num_classes, embed_dim) if conditional else None
        self.init = InitLayer(nz + (embed_dim if conditional else 0), ch(4))
        self.blocks, self.excite = nn.ModuleDict(), nn.ModuleDict()
        res = 8
        while res <= resolution:
            make = up_block_comp if res in (8, 32, 128, 512) else up_block
            self.blocks[str(res)] = make(ch(res // 2), ch(res))
            if 64 <= res <= 512:
                self.excite[str(res)] = SkipLayerExcitation(ch(res // 16), ch(res))
            res *= 2
        self.to_small = conv2d(ch(self.small_size), 3, 1, 1, 0, bias=False)
        self.to_big = conv2d(ch(resolution), 3, 3, 1, 1, bias=False)
        self.register_buffer("template", torch.zeros(NUM_LANDMARKS, 2))
        self.register_buffer("prototypes", torch.full((num_classes, NUM_LANDMARKS, 2), float("nan")))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(image, small view)`` in [-1, 1]: (B, 3, resolution, resolution) and the low-resolution output."""
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)
        feats = {4: self.init(z)}
        for key, block in self.blocks.items():
            res = int(key)
            feat = block(feats[res // 2])
            feats[res] = self.excite[key](feats[res // 16], feat) if key in self.excite else feat
        return torch.tanh(self.to_big(feats[self.resolution])), torch.tanh(self.to_small(feats[self.small_size]))

    def noise_layers(self) -> list[tuple[NoiseInjection, int]]:
        """Each noise-injection layer and the side of its feature map."""
        return [(m, int(key)) for key, block in self.blocks.items() for m in block if isinstance(m, NoiseInjection)]

    def condition_index(self, condition: int | str) -> int:
        if isinstance(condition, str):
            if condition not in self.abbreviations:
                raise ValueError(f"unknown condition {condition!r}")
            condition = self.abbreviations.index(condition)
        if int(condition) not in self.trained_conditions:
            raise ValueError(f"condition {self.abbreviations[int(condition)]!r} was not trained")
        return int(condition)

    @torch.no_grad()
    def sample(self, seeds: Sequence[int], conditions: Sequence[int | str] | None = None, *,
               batch_size: int = 8, device: str | torch.device | None = None) -> np.ndarray:  # fmt: skip
        """Images for ``seeds`` (one each; the same seed, the same image): (N, H, W, 3) uint8.

        Latent and injected noise are drawn per image from ``torch.Generator(seed)``
        on the CPU, so an image depends on its seed (and condition) only, up to
        float rounding when it shares a batch with other images (a pixel may
        differ by one level between batch sizes).
        """
        if self.conditional and (conditions is None or len(conditions) != len(seeds)):
            raise ValueError("a conditional generator needs one condition per seed")
        device = torch.device(device) if device is not None else next(self.parameters()).device
        self.to(device).eval()
        layers, out = self.noise_layers(), []
        for start in range(0, len(seeds), batch_size):
            chunk = list(seeds)[start : start + batch_size]
            gens = [torch.Generator().manual_seed(int(s)) for s in chunk]
            z = torch.stack([torch.randn(self.nz, generator=g) for g in gens]).to(device)
            for layer, side in layers:
                layer.noise = torch.stack([torch.randn(1, side, side, generator=g) for g in gens]).to(device)
            labels = None
            if self.conditional:
                idx = [self.condition_index(c) for c in list(conditions)[start : start + batch_size]]
                labels = torch.tensor(idx, device=device)
            try:
                images = self(z, labels)[0]
            finally:
                for layer, _ in layers:
                    layer.noise = None
            out.append(((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, self.resolution, self.resolution, 3), np.uint8)

    def generate_model_card(self, *args, **kwargs) -> ModelCard:
        from .card import render_model_card  # jinja template from rdface_hf.model_cards

        return render_model_card(self, self._hub_mixin_info.model_card_data)


class FastGANDiscriminator(
    _StrictHubModule, PyTorchModelHubMixin, tags=["fastgan", "gan", "discriminator"], **HUB_KWARGS
):  # fmt: skip
    """Self-supervised discriminator: real/fake logits on the image and on a low-resolution
    view, and (for real images) decoders that reconstruct the whole image, a random quarter
    crop and the low-resolution view. Class-conditional by projection when ``conditional``."""

    def __init__(self, resolution: int = 256, ndf: int = 64, num_classes: int = 1, conditional: bool = False) -> None:
        super().__init__()
        _check_resolution(resolution)
        self.resolution, self.small_size = resolution, min(128, resolution // 2)
        self.rec_size = min(128, resolution)
        ch = lambda r: channels(D_CHANNELS, ndf, 2 * r)  # noqa: E731  (trunk channels at feature side r)
        top = min(resolution, 256)
        if resolution == 1024:
            self.from_big = nn.Sequential(
                conv2d(3, ch(512), 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                conv2d(ch(512), ch(256), 4, 2, 1, bias=False), nn.BatchNorm2d(ch(256)), nn.LeakyReLU(0.2),
            )  # fmt: skip
        elif resolution == 512:
            self.from_big = nn.Sequential(conv2d(3, ch(256), 4, 2, 1, bias=False), nn.LeakyReLU(0.2))
        else:
            self.from_big = nn.Sequential(conv2d(3, ch(top), 3, 1, 1, bias=False), nn.LeakyReLU(0.2))
        self.sides = [top >> i for i in range(int(math.log2(top // 8)) + 1)]  # top .. 8
        self.down = nn.ModuleList(DownBlockComp(ch(a), ch(a // 2)) for a in self.sides[:-1])
        self.excite = nn.ModuleDict(
            {
                str(i + 3): SkipLayerExcitation(ch(self.sides[i]), ch(self.sides[i + 3]))
                for i in range(len(self.sides) - 3)
            }
        )
        self.rf_big = nn.Sequential(
            conv2d(ch(8), ch(4), 1, 1, 0, bias=False), nn.BatchNorm2d(ch(4)), nn.LeakyReLU(0.2),
            conv2d(ch(4), 1, 4, 1, 0, bias=False),
        )  # fmt: skip
        small = lambda r: channels(D_CHANNELS, ndf, 4 * r)  # noqa: E731  (low-resolution branch)
        layers: list[nn.Module] = [conv2d(3, small(self.small_size // 2), 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        side = self.small_size // 2
        while side > 8:
            layers.append(down_block(small(side), small(side // 2)))
            side //= 2
        self.from_small = nn.Sequential(*layers)
        self.rf_small = conv2d(small(8), 1, 4, 1, 0, bias=False)
        width = max(4, ndf // 2)  # the reference code's decoders: 32 channels per unit at ndf 64
        self.decoder_big = SimpleDecoder(ch(8), self.rec_size, width=width)
        self.decoder_part = SimpleDecoder(ch(16), self.rec_size, width=width)
        self.decoder_small = SimpleDecoder(small(8), self.rec_size, width=width)
        self.embed_big = spectral_norm(nn.Embedding(num_classes, ch(8))) if conditional else None
        self.embed_small = spectral_norm(nn.Embedding(num_classes, small(8))) if conditional else None

    def views(self, images: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(image at ``resolution``, low-resolution view): a generator's pair, or made from one batch."""
        if isinstance(images, torch.Tensor):
            big = images if images.shape[-1] == self.resolution else F.interpolate(images, size=self.resolution)
            return big, F.interpolate(images, size=self.small_size, mode="area")
        return images[0], images[1]

    def generate_model_card(self, *args, **kwargs) -> ModelCard:
        from .card import render_discriminator_card  # gated like the generator (the dataset's questions)

        info = self._hub_mixin_info
        return render_discriminator_card(self, info.model_card_data, info.model_card_template)

    def forward(self, images, labels: torch.Tensor | None = None, part: int | None = None):
        """Logits (B * 50: two 5x5 maps per image); with ``part`` (0..3, real images) also the
        reconstructions ``(whole, small view, quarter part)`` at ``rec_size`` px."""
        big, small = self.views(images)
        feats = [self.from_big(big)]
        for i, block in enumerate(self.down):
            feat = block(feats[-1])
            key = str(i + 1)
            feats.append(self.excite[key](feats[i + 1 - 3], feat) if key in self.excite else feat)
        last, feat_small = feats[-1], self.from_small(small)
        rf_big, rf_small = self.rf_big(last), self.rf_small(feat_small)
        if self.embed_big is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            rf_big = rf_big + (self.embed_big(labels) * last.mean((2, 3))).sum(1).view(-1, 1, 1, 1)
            rf_small = rf_small + (self.embed_small(labels) * feat_small.mean((2, 3))).sum(1).view(-1, 1, 1, 1)
        logits = torch.cat([rf_big.flatten(), rf_small.flatten()])
        if part is None:
            return logits
        f16 = feats[self.sides.index(16)]
        rows, cols = (slice(0, 8), slice(8, 16))[part // 2], (slice(0, 8), slice(8, 16))[part % 2]
        recs = (self.decoder_big(last), self.decoder_small(feat_small), self.decoder_part(f16[:, :, rows, cols]))
        return logits, recs


def crop_part(images: torch.Tensor, part: int) -> torch.Tensor:
    """Quarter ``part`` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of a batch."""
    h, w = images.shape[-2] // 2, images.shape[-1] // 2
    rows, cols = (slice(0, h), slice(h, None))[part // 2], (slice(0, w), slice(w, None))[part % 2]
    return images[:, :, rows, cols]

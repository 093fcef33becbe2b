"""DiffAugment (Zhao et al., NeurIPS 2020): differentiable augmentation of real and fake
images alike, so the discriminator cannot memorise a few training images.

Policies: ``color`` (brightness, saturation, contrast), ``translation`` (shift by
up to 1/8 of the side, zero padding) and ``cutout`` (a zeroed square of half
the side). Randomness comes from torch's global generator (seeded per step).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _rand(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device)


def brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (_rand(x) - 0.5)


def saturation(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_rand(x) * 2) + mean


def contrast(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(x) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, size=[b, 1, 1], device=x.device)
    tx = torch.randint(-sw, sw + 1, size=[b, 1, 1], device=x.device)
    gb, gy, gx = torch.meshgrid(
        torch.arange(b, device=x.device), torch.arange(h, device=x.device), torch.arange(w, device=x.device),
        indexing="ij",
    )  # fmt: skip
    gy = torch.clamp(gy + ty + 1, 0, h + 1)
    gx = torch.clamp(gx + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gy, gx].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), size=[b, 1, 1], device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), size=[b, 1, 1], device=x.device)
    gb, gy, gx = torch.meshgrid(
        torch.arange(b, device=x.device), torch.arange(ch, device=x.device), torch.arange(cw, device=x.device),
        indexing="ij",
    )  # fmt: skip
    gy = torch.clamp(gy + oy - ch // 2, min=0, max=h - 1)
    gx = torch.clamp(gx + ox - cw // 2, min=0, max=w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gy, gx] = 0
    return x * mask.unsqueeze(1)


FUNCTIONS = {"color": (brightness, saturation, contrast), "translation": (translation,), "cutout": (cutout,)}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> names; an unknown name raises ``ValueError``."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown} (known: {', '.join(POLICIES)})")
    return names


def diff_augment(x: torch.Tensor, policy: str | tuple[str, ...] = POLICIES) -> torch.Tensor:
    """Augment a batch (B, C, H, W); the same call on real and fake batches."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    for name in names:
        for fn in FUNCTIONS[name]:
            x = fn(x)
    return x.contiguous()

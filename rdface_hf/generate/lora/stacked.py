"""Stacked multi-condition LoRA: one frozen base, one LoRA per slot, per-sample routing.

Each targeted ``nn.Linear`` of the base model is wrapped by
:class:`StackedLoRALinear`, which holds the LoRA factors of ``S`` slots (one
condition each) stacked in two tensors, ``lora_A`` ``[S, r, in]`` and
``lora_B`` ``[S, out, r]``. Inside :func:`routed`, sample ``i`` of a batch goes
through the LoRA of slot ``route[i]`` (a gather and two batched matmuls), the
way multi-adapter serving systems batch LoRAs, so many conditions train
concurrently in one batch through one copy of the base model.

A condition's slot sees only its own samples' gradients (the loss is a sum of
per-sample losses), Adam is elementwise and gradient clipping is per slot, so
training conditions together gives the same adapters as training each alone.
A slot exports to the PEFT / diffusers LoRA key layout
(``<module path>.lora_A.weight`` ``[r, in]`` and ``.lora_B.weight`` ``[out, r]``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

import torch
from torch import nn


class StackedLoRALinear(nn.Module):
    """A frozen linear layer plus ``slots`` LoRA adapters, chosen per sample."""

    def __init__(self, base: nn.Linear, *, slots: int, rank: int, scale: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        kw = {"device": base.weight.device, "dtype": torch.float32}
        self.lora_A = nn.Parameter(torch.zeros(slots, rank, base.in_features, **kw))
        self.lora_B = nn.Parameter(torch.zeros(slots, base.out_features, rank, **kw))
        self.scale = float(scale)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.route: torch.Tensor | None = None
        self.identity = False  # route is 0, 1, ..., slots - 1 (set by :func:`routed`)

    @property
    def slots(self) -> int:
        return self.lora_A.shape[0]

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        out = self.base(x, *args, **kwargs)
        route = self.route
        if route is None:
            return out
        n = x.shape[0]
        if route.shape[0] != n:
            raise RuntimeError(f"LoRA routing has {route.shape[0]} entries for a batch of {n}")
        if n == self.slots and self.identity:  # sample i in slot i: no gather (nor scatter in backward)
            a, b = self.lora_A, self.lora_B
        else:
            a = self.lora_A[route]  # [n, r, in]
            b = self.lora_B[route]  # [n, out, r]
        h = self.dropout(x).reshape(n, -1, x.shape[-1]).to(a.dtype)
        low = torch.bmm(h, a.transpose(1, 2))  # [n, L, r]
        if self.scale != 1.0:  # scaled at rank r, not on the full-width output
            low = low * self.scale
        if out.dtype == a.dtype:  # out + low @ B^T in one kernel: no full-width delta, product or sum pass
            return torch.baddbmm(out.reshape(n, -1, out.shape[-1]), low, b.transpose(1, 2)).reshape(out.shape)
        return out + torch.bmm(low, b.transpose(1, 2)).reshape(out.shape).to(out.dtype)


def _matches(name: str, targets: Sequence[str]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def inject(
    model: nn.Module, targets: Sequence[str], *, slots: int, rank: int, alpha: float, dropout: float = 0.0
) -> dict[str, StackedLoRALinear]:
    """Wrap every ``nn.Linear`` of ``model`` whose path ends with a target; returns them by
    their original module path (the names the exported state dict uses), sorted."""
    found = {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and _matches(name, targets)
    }
    if not found:
        raise ValueError(f"no linear layer of {type(model).__name__} matches {list(targets)}")
    layers = {}
    for name in sorted(found):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        layer = StackedLoRALinear(found[name], slots=slots, rank=rank, scale=alpha / rank, dropout=dropout)
        setattr(parent, child, layer)
        layers[name] = layer
    return layers


@contextlib.contextmanager
def routed(layers: Iterable[StackedLoRALinear], route: torch.Tensor, *, identity: bool | None = None) -> Iterator[None]:
    """Route sample ``i`` through slot ``route[i]`` in every layer (base only outside).
    ``identity``: whether ``route`` is ``0, 1, ..., n - 1`` (computed if not given)."""
    layers = list(layers)
    if identity is None:
        identity = bool(torch.equal(route.cpu(), torch.arange(route.shape[0])))
    for layer in layers:
        layer.route, layer.identity = route, identity
    try:
        yield
    finally:
        for layer in layers:
            layer.route, layer.identity = None, False


def parameters(layers: Mapping[str, StackedLoRALinear]) -> list[nn.Parameter]:
    """The trainable tensors, in a fixed order (by module path)."""
    return [p for name in sorted(layers) for p in (layers[name].lora_A, layers[name].lora_B)]


@torch.no_grad()
def reset_slot(layers: Mapping[str, StackedLoRALinear], slot: int, seed: int) -> None:
    """Fresh LoRA for one slot: A ~ N(0, 1/r) (diffusers' "gaussian" init), B = 0.

    Drawn from a generator of ``seed`` alone, so a condition's start does not depend on
    which slot or group it trains in."""
    gen = torch.Generator().manual_seed(int(seed))
    for name in sorted(layers):
        layer = layers[name]
        rank = layer.lora_A.shape[1]
        a = torch.randn(layer.lora_A.shape[1:], generator=gen) / rank
        layer.lora_A[slot].copy_(a)
        layer.lora_B[slot].zero_()


@torch.no_grad()
def clip_per_slot(params: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Clip each slot's gradient (over every tensor) to ``max_norm``; returns the norms [S]."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    squares = torch.stack([g.float().pow(2).flatten(1).sum(1) for g in grads]).sum(0)
    norms = squares.sqrt()
    if max_norm > 0:
        factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(factor.view(-1, *([1] * (g.dim() - 1))).to(g.dtype))
    return norms


def slot_state_dict(layers: Mapping[str, StackedLoRALinear], slot: int) -> dict[str, torch.Tensor]:
    """One slot as a PEFT LoRA state dict (``<path>.lora_A.weight`` / ``.lora_B.weight``)."""
    out = {}
    for name in sorted(layers):
        layer = layers[name]
        out[f"{name}.lora_A.weight"] = layer.lora_A[slot].detach().float().cpu().contiguous().clone()
        out[f"{name}.lora_B.weight"] = layer.lora_B[slot].detach().float().cpu().contiguous().clone()
    return out


def lora_metadata(targets: Sequence[str], rank: int, alpha: float, dropout: float) -> dict:
    """The ``LoraConfig`` fields that diffusers stores beside the weights (so that
    ``load_lora_weights`` rebuilds the same rank, alpha and targets)."""
    return {
        "r": int(rank),
        "lora_alpha": float(alpha),
        "lora_dropout": float(dropout),
        "target_modules": sorted(targets),
        "init_lora_weights": "gaussian",
        "bias": "none",
    }

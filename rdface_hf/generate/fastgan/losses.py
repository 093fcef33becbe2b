"""FastGAN's losses: hinge adversarial terms and the discriminator's reconstruction loss.

The paper reconstructs with LPIPS (VGG). Its weights cannot always be had (an
offline machine, no ``lpips`` package), so ``--recon-loss`` chooses:

- ``lpips``: the ``lpips`` package's VGG LPIPS; needs ``pip install lpips`` and
  torchvision's VGG-16 weights already in the torch hub cache;
- ``backbone``: an LPIPS-style distance on a frozen ``transformers`` vision
  backbone (``--perceptual-model``, default ``facebook/convnext-tiny-224``):
  every hidden state unit-normalised over channels, squared differences summed
  over channels, averaged over positions and summed over layers (LPIPS with
  uniform layer weights, as in its "baseline" variant);
- ``l1``: mean absolute pixel difference (tests, or nothing better at hand);
- ``auto`` (default): the first of these that can be loaded; the choice is
  printed and recorded in the model's config and card.

Every loss returns one value per image (the reference code sums them over the batch).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..._errors import InputError
from ..._outputs import note

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG16_WEIGHTS = "vgg16-397923af.pth"  # what lpips' torchvision VGG-16 loads


def d_hinge_real(logits: torch.Tensor) -> torch.Tensor:
    """The reference code's hinge with a random margin in [0.8, 1.0]."""
    return F.relu(torch.rand_like(logits) * 0.2 + 0.8 - logits).mean()


def d_hinge_fake(logits: torch.Tensor) -> torch.Tensor:
    return F.relu(torch.rand_like(logits) * 0.2 + 0.8 + logits).mean()


def g_hinge(logits: torch.Tensor) -> torch.Tensor:
    return -logits.mean()


class L1Reconstruction(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).abs().flatten(1).mean(1)


class BackboneReconstruction(nn.Module):
    """LPIPS-style distance on a frozen ``transformers`` backbone's hidden states."""

    def __init__(self, model: nn.Module, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> None:
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> BackboneReconstruction:  # the backbone stays in eval mode
        super().train(mode)
        self.model.eval()
        return self

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        both = ((torch.cat([x, y]).float() + 1) / 2 - self.mean) / self.std
        states = self.model(pixel_values=both, output_hidden_states=True).hidden_states
        total = torch.zeros(x.size(0), device=x.device)
        for h in states:
            dim = 1 if h.dim() == 4 else -1
            h = h / (h.norm(dim=dim, keepdim=True) + 1e-10)
            a, b = h.chunk(2)
            diff = ((a - b) ** 2).sum(dim)
            total = total + diff.flatten(1).mean(1)
        return total


class LpipsReconstruction(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        import lpips  # optional: pip install lpips

        self.lpips = lpips.LPIPS(net="vgg", verbose=False).eval().requires_grad_(False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.lpips(x.float(), y.float()).flatten()


def lpips_available() -> bool:
    """The ``lpips`` package is importable and torchvision's VGG-16 weights are cached (never downloaded)."""
    try:
        import lpips  # noqa: F401
    except ImportError:
        return False
    return (Path(torch.hub.get_dir()) / "checkpoints" / VGG16_WEIGHTS).is_file()


def _backbone(model_id: str) -> BackboneReconstruction:
    from transformers import AutoModel  # vision models: only for the backbone loss

    try:
        model = AutoModel.from_pretrained(model_id, use_safetensors=True)  # never trust_remote_code, never unpickle
    except Exception as exc:  # missing id, offline without a cache, not a vision model: one line
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"cannot load the perceptual model {model_id}: {type(exc).__name__}: {first}") from None
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    try:
        from transformers import AutoImageProcessor  # the backbone's own normalisation, if saved with it

        processor = AutoImageProcessor.from_pretrained(model_id)
        mean, std = tuple(processor.image_mean), tuple(processor.image_std)
    except Exception:  # no processor saved with the model: ImageNet statistics
        pass
    return BackboneReconstruction(model, mean, std)


def reconstruction_loss(kind: str, perceptual_model: str) -> tuple[nn.Module, str]:
    """The reconstruction loss for ``--recon-loss`` and the name of what was used."""
    if kind == "l1":
        return L1Reconstruction(), "l1"
    if kind == "lpips":
        if not lpips_available():
            raise InputError(
                "--recon-loss lpips needs the lpips package and torchvision's VGG-16 weights in the torch hub "
                "cache (nothing is downloaded); use --recon-loss backbone or auto"
            )
        return LpipsReconstruction(), "lpips"
    if kind == "backbone":
        return _backbone(perceptual_model), f"backbone:{perceptual_model}"
    if lpips_available():
        return LpipsReconstruction(), "lpips"
    try:
        loss = _backbone(perceptual_model)
    except InputError as exc:
        note(f"LPIPS and the perceptual model are unavailable ({exc}); the reconstruction loss is plain L1")
        return L1Reconstruction(), "l1"
    note(f"LPIPS weights are unavailable: the reconstruction loss uses {perceptual_model}'s features")
    return loss, f"backbone:{perceptual_model}"

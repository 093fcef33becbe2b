"""DiffAugment and the reconstruction losses (LPIPS is never downloaded; its substitutes work)."""

from __future__ import annotations

import pytest
import torch

from rdface_hf._errors import InputError
from rdface_hf.generate.fastgan import losses
from rdface_hf.generate.fastgan.diffaug import cutout, diff_augment, parse_policy, translation


def test_diff_augment_keeps_shape_and_is_seeded():
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    torch.manual_seed(1)
    a = diff_augment(x)
    torch.manual_seed(1)
    b = diff_augment(x)
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)


def test_cutout_zeroes_a_square_of_half_the_side():
    torch.manual_seed(0)
    out = cutout(torch.ones(8, 1, 32, 32))
    zeros = (out == 0).float().mean(dim=(1, 2, 3))
    assert ((zeros > 0) & (zeros <= 0.25)).all()
    assert zeros.max() == 0.25  # a cutout that falls inside the image covers (16 x 16) / (32 x 32)


def test_translation_shifts_content_with_zero_padding():
    torch.manual_seed(3)
    x = torch.ones(16, 1, 16, 16)
    out = translation(x)
    assert out.shape == x.shape
    assert (out == 0).any() and set(out.unique().tolist()) <= {0.0, 1.0}


def test_diff_augment_passes_gradients():
    x = torch.rand(2, 3, 16, 16, requires_grad=True)
    diff_augment(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        parse_policy("color,zoom")


def test_hinge_losses():
    logits = torch.tensor([2.0, -2.0])
    assert losses.d_hinge_real(torch.full((4,), 2.0)) == 0
    assert losses.d_hinge_fake(torch.full((4,), -2.0)) == 0
    assert losses.g_hinge(logits) == 0


@pytest.fixture
def tiny_backbone(tmp_path):
    """A seeded 2-stage ConvNeXt saved to a folder: a stand-in for the perceptual model."""
    from transformers import ConvNextConfig, ConvNextModel

    torch.manual_seed(0)
    config = ConvNextConfig(num_channels=3, hidden_sizes=[8, 16], depths=[1, 1], num_stages=2)
    ConvNextModel(config).save_pretrained(tmp_path / "backbone")
    return str(tmp_path / "backbone")


def test_backbone_loss_is_per_image_and_differentiable(tiny_backbone):
    loss, name = losses.reconstruction_loss("backbone", tiny_backbone)
    assert name == f"backbone:{tiny_backbone}"
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    y = torch.rand(2, 3, 32, 32) * 2 - 1
    value = loss(x, y)
    assert value.shape == (2,) and (value > 0).all()
    assert torch.allclose(loss(y, y), torch.zeros(2), atol=1e-6)
    value.sum().backward()
    assert x.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss.model.parameters())
    loss.train()
    assert not loss.model.training  # the backbone stays frozen in eval mode


def test_auto_prefers_lpips_then_backbone_then_l1(tiny_backbone, monkeypatch, capsys):
    monkeypatch.setattr(losses, "lpips_available", lambda: False)
    assert losses.reconstruction_loss("auto", tiny_backbone)[1] == f"backbone:{tiny_backbone}"
    assert losses.reconstruction_loss("auto", "org/not-cached")[1] == "l1"
    assert "plain L1" in capsys.readouterr().err
    with pytest.raises(InputError, match="cannot load the perceptual model org/not-cached"):
        losses.reconstruction_loss("backbone", "org/not-cached")
    with pytest.raises(InputError, match="lpips"):
        losses.reconstruction_loss("lpips", tiny_backbone)


def test_l1_loss():
    loss, name = losses.reconstruction_loss("l1", "unused")
    x = torch.zeros(2, 3, 4, 4)
    assert name == "l1" and torch.equal(loss(x, x + 0.5), torch.full((2,), 0.5))

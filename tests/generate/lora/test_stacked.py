"""Stacked multi-condition LoRA layers: routing, per-slot clipping, export to diffusers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rdface_hf.generate.lora import stacked


def _layer(slots=3, rank=2, in_f=5, out_f=4, scale=1.5, seed=0):
    torch.manual_seed(seed)
    layer = stacked.StackedLoRALinear(nn.Linear(in_f, out_f), slots=slots, rank=rank, scale=scale)
    with torch.no_grad():
        layer.lora_A.normal_()
        layer.lora_B.normal_()
    return layer


@settings(max_examples=25, deadline=None)
@given(
    route=st.lists(st.integers(0, 3), min_size=1, max_size=6),
    seq=st.integers(1, 4),
    rank=st.integers(1, 3),
)
def test_each_sample_goes_through_its_own_slot(route, seq, rank):
    layer = _layer(slots=4, rank=rank)
    x = torch.randn(len(route), seq, 5)
    with torch.no_grad(), stacked.routed([layer], torch.tensor(route)):
        out = layer(x)
    for i, slot in enumerate(route):
        expected = layer.base(x[i]) + layer.scale * x[i] @ layer.lora_A[slot].T @ layer.lora_B[slot].T
        torch.testing.assert_close(out[i], expected, rtol=1e-5, atol=1e-5)


def test_the_identity_route_takes_no_gather_and_gives_the_same():
    layer = _layer(slots=3)
    x = torch.randn(3, 2, 5)
    with torch.no_grad(), stacked.routed([layer], torch.arange(3)):
        assert layer.identity
        fast = layer(x)
    with torch.no_grad(), stacked.routed([layer], torch.arange(3), identity=False):
        gathered = layer(x)
    torch.testing.assert_close(fast, gathered)


def test_outside_routing_the_base_alone_and_a_wrong_route_fails():
    layer = _layer()
    x = torch.randn(2, 3, 5)
    torch.testing.assert_close(layer(x), layer.base(x))
    with stacked.routed([layer], torch.tensor([0, 1, 2])), pytest.raises(RuntimeError, match="3 entries"):
        layer(x)
    assert layer.route is None  # reset even after an error


def test_gradients_of_a_slot_come_only_from_its_samples():
    layer = _layer()
    x = torch.randn(3, 2, 5)
    with stacked.routed([layer], torch.tensor([0, 2, 2])):
        layer(x)[0].sum().backward()  # only sample 0 (slot 0) in the loss
    assert layer.lora_A.grad[0].abs().sum() > 0 or layer.lora_B.grad[0].abs().sum() > 0
    assert layer.lora_A.grad[1:].abs().sum() == 0 and layer.lora_B.grad[1:].abs().sum() == 0


def test_clip_per_slot_caps_each_slot_alone():
    a, b = nn.Parameter(torch.zeros(3, 2, 4)), nn.Parameter(torch.zeros(3, 4, 2))
    a.grad = torch.ones(3, 2, 4) * torch.tensor([10.0, 0.01, 3.0]).view(3, 1, 1)
    b.grad = torch.ones(3, 4, 2) * torch.tensor([10.0, 0.01, 3.0]).view(3, 1, 1)
    small = a.grad[1].clone()
    norms = stacked.clip_per_slot([a, b], 1.0)
    assert norms.shape == (3,) and norms[0] > 1 and norms[1] < 1
    after = torch.sqrt(a.grad.pow(2).flatten(1).sum(1) + b.grad.pow(2).flatten(1).sum(1))
    torch.testing.assert_close(after[[0, 2]], torch.ones(2), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(a.grad[1], small)  # under the cap: untouched


def test_reset_slot_depends_on_the_seed_only():
    layers = stacked.inject(nn.Sequential(nn.Linear(4, 4)), ["0"], slots=2, rank=2, alpha=2)
    stacked.reset_slot(layers, 0, 7)
    stacked.reset_slot(layers, 1, 7)
    layer = layers["0"]
    torch.testing.assert_close(layer.lora_A[0], layer.lora_A[1])
    assert layer.lora_B.abs().sum() == 0  # B starts at zero: a fresh adapter changes nothing
    with pytest.raises(ValueError, match="no linear layer"):
        stacked.inject(nn.Sequential(nn.Linear(4, 4)), ["to_q"], slots=1, rank=1, alpha=1)


def test_an_exported_slot_loads_into_a_stock_pipeline_with_the_same_output(tiny_sd, tmp_path):
    """The stacked layer and PEFT (through diffusers' load_lora_weights) compute the same UNet."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.loaders import StableDiffusionLoraLoaderMixin

    from rdface_hf.generate.lora.config import UNET_TARGETS, WEIGHT_NAME

    unet = UNet2DConditionModel.from_pretrained(tiny_sd, subfolder="unet")
    layers = stacked.inject(unet, UNET_TARGETS, slots=2, rank=4, alpha=8)
    torch.manual_seed(1)
    with torch.no_grad():
        for layer in layers.values():
            layer.lora_A.normal_(0, 0.3)
            layer.lora_B.normal_(0, 0.3)
    StableDiffusionLoraLoaderMixin.save_lora_weights(
        tmp_path / "c1", unet_lora_layers=stacked.slot_state_dict(layers, 1), weight_name=WEIGHT_NAME,
        unet_lora_adapter_metadata=stacked.lora_metadata(UNET_TARGETS, 4, 8, 0.0),
    )  # fmt: skip
    x, t, e = torch.randn(1, 4, 32, 32), torch.tensor([500]), torch.randn(1, 77, 32)
    with torch.no_grad(), stacked.routed(layers.values(), torch.tensor([1])):
        ours = unet(x, t, e).sample
    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd)
    with torch.no_grad():
        before = pipe.unet(x, t, e).sample
    pipe.load_lora_weights(str(tmp_path), subfolder="c1", weight_name=WEIGHT_NAME)
    with torch.no_grad():
        theirs = pipe.unet(x, t, e).sample
    assert (before - ours).abs().max() > 0.05
    torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-4)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), per=st.integers(1, 64), processes=st.integers(1, 9))
def test_balanced_groups(n, per, processes):
    from rdface_hf.generate.lora.train import balanced_groups

    groups = balanced_groups(list(range(n)), per, processes)
    assert [x for g in groups for x in g] == list(range(n))
    assert all(1 <= len(g) <= per for g in groups)
    if groups:
        assert max(map(len, groups)) - min(map(len, groups)) <= 1
        assert len(groups) == -(-n // per) or len(groups) % processes == 0 or len(groups) == n
    assert [len(g) for g in balanced_groups(list(range(103)), 32)] == [26, 26, 25, 26]

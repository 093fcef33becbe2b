"""The one pooling rule of the frozen backbone shared by the probe and the filter."""

import pytest
import torch
from transformers import ViTConfig, ViTForImageClassification, ViTModel

from rdface_hf._errors import InputError
from rdface_hf.dataset.backbone import load_backbone

CONFIG = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32, patch_size=8
)


@pytest.fixture(scope="module")
def pixels():
    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def test_a_trained_pooler_gives_the_pooled_output(tmp_path, pixels):
    torch.manual_seed(0)
    model = ViTModel(ViTConfig(**CONFIG), add_pooling_layer=True).eval()
    model.save_pretrained(tmp_path / "vit")
    backbone = load_backbone(str(tmp_path / "vit"))
    assert backbone.how == "pooler"
    with torch.no_grad():
        expected = model(pixel_values=pixels).pooler_output
    torch.testing.assert_close(backbone.embed(pixels), expected)


def test_without_trained_pooler_the_cls_token_not_a_random_pooler_nor_the_token_mean(tmp_path, pixels):
    torch.manual_seed(0)
    classifier = ViTForImageClassification(ViTConfig(**CONFIG, num_labels=3)).eval()
    classifier.save_pretrained(tmp_path / "clf")  # a classifier's checkpoint: no pooler weights
    backbone = load_backbone(str(tmp_path / "clf"))
    assert backbone.how == "first_token"
    with torch.no_grad():
        hidden = classifier.vit(pixel_values=pixels).last_hidden_state
    emb = backbone.embed(pixels)
    torch.testing.assert_close(emb, hidden[:, 0])
    assert not torch.allclose(emb, hidden.mean(dim=1))


def test_a_missing_model_is_one_line_without_the_token(tmp_path):
    with pytest.raises(InputError, match="cannot load vision backbone") as info:
        load_backbone(str(tmp_path / "missing"), token="hf_secret_token")
    assert "hf_secret_token" not in str(info.value) and "\n" not in str(info.value)

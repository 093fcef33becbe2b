"""FastGAN networks: shapes at every resolution, reproducible sampling, the Hub mixin round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from rdface_hf._errors import InputError
from rdface_hf.generate.fastgan.hub import load_generator
from rdface_hf.generate.fastgan.models import FastGANDiscriminator, FastGANGenerator, crop_part


def _tiny(resolution=64, conditional=True, **kw):
    torch.manual_seed(0)
    g = FastGANGenerator(resolution=resolution, nz=8, ngf=4, num_classes=3, conditional=conditional,
                         abbreviations=["AA", "BB", "CC"], **kw)  # fmt: skip
    d = FastGANDiscriminator(resolution=resolution, ndf=4, num_classes=3, conditional=conditional)
    return g, d


@pytest.mark.parametrize("resolution", [64, 128, 256])
@pytest.mark.parametrize("conditional", [True, False])
def test_shapes(resolution, conditional):
    g, d = _tiny(resolution, conditional)
    labels = torch.tensor([0, 2]) if conditional else None
    big, small = g(torch.randn(2, 8), labels)
    assert big.shape == (2, 3, resolution, resolution)
    assert small.shape == (2, 3, min(128, resolution // 2), min(128, resolution // 2))
    assert big.abs().max() <= 1
    logits, recs = d([big, small], labels, part=1)
    assert logits.shape == (2 * 2 * 25,)
    assert [tuple(r.shape) for r in recs] == [(2, 3, d.rec_size, d.rec_size)] * 3
    assert d(big, labels).shape == (100,)  # a plain batch: D makes the low-resolution view itself


def test_largest_resolutions_build():
    for resolution in (512, 1024):
        g, _ = _tiny(resolution, conditional=False)
        assert g(torch.randn(1, 8))[0].shape[-1] == resolution
    with pytest.raises(ValueError, match="resolution"):
        FastGANGenerator(resolution=96)


def test_conditional_models_need_labels():
    g, d = _tiny()
    with pytest.raises(ValueError, match="labels"):
        g(torch.randn(1, 8))
    with pytest.raises(ValueError, match="labels"):
        d(torch.zeros(1, 3, 64, 64))


def test_sample_depends_on_seed_only():
    g, _ = _tiny()
    batch = g.sample([5, 6, 7], ["AA", "BB", "AA"], batch_size=2)
    alone = g.sample([6], [1])
    assert batch.dtype == np.uint8 and batch.shape == (3, 64, 64, 3)
    assert np.abs(batch[1].astype(int) - alone[0]).max() <= 1  # equal up to float rounding across batch sizes
    assert not np.array_equal(batch[0], batch[2])  # other seed
    with pytest.raises(ValueError, match="one condition per seed"):
        g.sample([1, 2], ["AA"])
    with pytest.raises(ValueError, match="unknown condition"):
        g.sample([1], ["ZZ"])


def test_untrained_condition_is_refused():
    g, _ = _tiny(trained_conditions=[0, 1])
    with pytest.raises(ValueError, match="not trained"):
        g.sample([0], ["CC"])


def test_crop_part_quarters():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert crop_part(x, 0).flatten().tolist() == [0, 1, 4, 5]
    assert crop_part(x, 3).flatten().tolist() == [10, 11, 14, 15]


def test_save_and_reload_through_the_mixin(tmp_path):
    g, d = _tiny(provenance={"trained_on": "fold_0", "dataset": "sim"})
    g.prototypes.copy_(torch.randn_like(g.prototypes))
    g.save_pretrained(tmp_path / "g")
    d.save_pretrained(tmp_path / "d")
    assert {p.name for p in (tmp_path / "g").iterdir()} == {"config.json", "model.safetensors", "README.md"}
    config = json.loads((tmp_path / "g" / "config.json").read_text())
    assert config["abbreviations"] == ["AA", "BB", "CC"] and config["conditional"] is True
    card = (tmp_path / "g" / "README.md").read_text()
    assert "Privacy warning" in card and "library_name: rdface_hf" in card
    g2 = FastGANGenerator.from_pretrained(tmp_path / "g")
    assert not g2.training and g2.abbreviations == ["AA", "BB", "CC"]
    assert torch.equal(g2.prototypes, g.prototypes)
    assert np.array_equal(g2.sample([3], ["CC"]), g.sample([3], ["CC"]))
    d2 = FastGANDiscriminator.from_pretrained(tmp_path / "d")
    x = torch.zeros(1, 3, 64, 64)
    assert torch.equal(d2.eval()(x, torch.tensor([1])), d.eval()(x, torch.tensor([1])))


def test_missing_weights_are_an_error_not_random(tmp_path):
    g, _ = _tiny()
    g.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    weights.pop(next(k for k in weights if k.startswith("to_big")))
    save_file(weights, tmp_path / "model.safetensors")
    with pytest.raises(RuntimeError, match="Missing"):
        FastGANGenerator.from_pretrained(tmp_path)
    with pytest.raises(InputError, match="cannot load FastGAN") as exc:
        load_generator(str(tmp_path))
    assert "\n" not in str(exc.value)


def test_pickle_weights_are_never_loaded(tmp_path):
    g, _ = _tiny()
    g.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    torch.save(g.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(InputError, match=r"no model\.safetensors"):
        load_generator(str(tmp_path))


def test_from_the_offline_hub_cache(tmp_path, hub_cache):
    g, _ = _tiny()
    g.save_pretrained(tmp_path / "g")
    revision = hub_cache(tmp_path / "g", "org/tiny-fastgan")
    loaded, source = load_generator("org/tiny-fastgan")
    assert source == f"org/tiny-fastgan@{revision}"
    assert np.array_equal(loaded.sample([1], ["BB"]), g.sample([1], ["BB"]))
    assert np.array_equal(FastGANGenerator.from_pretrained("org/tiny-fastgan").sample([1], [0]), g.sample([1], [0]))
    with pytest.raises(InputError, match="cannot open model org/absent") as exc:
        load_generator("org/absent")
    assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="not a Hub repo id"):
        load_generator("no/such/model")


def test_an_absurd_config_is_refused_before_allocating(tmp_path, monkeypatch):
    """config.json asks for ngf 100000 (hundreds of GB of weights) beside a tiny weights file."""
    g, _ = _tiny()
    g.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "ngf": 100_000}))
    built = []
    real_init = FastGANGenerator.__init__

    def record(self, *args, **kw):
        built.append(torch.empty(0).device.type)  # the default device while the model is built
        real_init(self, *args, **kw)

    monkeypatch.setattr(FastGANGenerator, "__init__", record)
    with pytest.raises(InputError, match="refused before allocating") as exc:
        load_generator(str(tmp_path))
    assert "\n" not in str(exc.value) and built == ["meta"], "only the meta-device probe was built"

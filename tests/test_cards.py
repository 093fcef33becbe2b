"""Every command that writes a card, table-driven: each card parses with ``DatasetCard`` or
``ModelCard`` and has a licence (``license_name`` and ``license_link`` for ``other``), the
dataset's access questions where the artefact derives from the gated faces, no repeated tag,
FastGAN's ``pipeline_tag`` by mode, and, on model cards, the framework versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, ModelCard

from rdface_hf.cli import main
from rdface_hf.dataset.card import GATED_FIELDS

TINY_GAN = ["--resolution", "64", "--max-train-steps", "2", "--batch-size", "2", "--ngf", "4", "--ndf", "4",
            "--nz", "8", "--recon-loss", "l1", "--checkpointing-steps", "2", "--sample-steps", "2"]  # fmt: skip


def _run(argv: list[str]) -> None:
    assert main([*argv, "--no-progress"] if argv[0] in ("filter", "report", "train-classifier") else argv) == 0


@pytest.fixture(scope="session")
def outputs(tmp_path_factory, sim_build) -> dict[str, Path]:
    """One small run of every card-writing command on the simulated build (and a tiny LoRA build)."""
    root = tmp_path_factory.mktemp("cards")
    sim = str(sim_build)
    _run(["train-fastgan", "--dataset", sim, "--output-dir", str(root / "gan"), *TINY_GAN])
    _run(["train-fastgan", "--dataset", sim, "--output-dir", str(root / "pooled"), "--mode", "pooled", *TINY_GAN])
    _run(["generate", "--generator", "fastgan", "--model", str(root / "gan"), "--per-condition", "1",
          "--output-dir", str(root / "gen_fastgan")])  # fmt: skip
    _run(["generate", "--generator", "morph", "--dataset", sim, "--per-condition", "1", "--workers", "1",
          "--output-dir", str(root / "gen_morph")])  # fmt: skip
    _run(["filter", "--dataset", sim, "--synthetic", str(root / "gen_morph"), "--workers", "1",
          "--output-dir", str(root / "filtered")])  # fmt: skip
    _run(["merge", "--dataset", sim, "--synthetic", str(root / "filtered"), "--output-dir", str(root / "merged")])
    _run(["report", "--dataset", sim, "--model", "landmarks", "--split", "test", "--output-dir", str(root / "rep")])
    _run(["train-classifier", "--dataset", sim, "--model", str(_tiny_vit(root / "vit")), "--fold", "0",
          "--epochs", "1", "--batch-size", "8", "--image-size", "32", "--output-dir", str(root / "clf")])  # fmt: skip
    from tests.generate.lora.tiny_pipelines import save_tiny_pipeline, write_tiny_build

    sd = save_tiny_pipeline(root / "sd")
    lora_build = write_tiny_build(root / "lora_build" / "rdface", ("AAS", "BBS"))
    _run(["train-lora", "--dataset", str(lora_build), "--base-model", str(sd), "--max-train-steps", "1",
          "--output-dir", str(root / "lora"), "--no-progress"])  # fmt: skip
    _run(["generate", "--generator", "lora", "--adapters", str(root / "lora"), "--base-model", str(sd),
          "--per-condition", "1", "--steps", "2", "--output-dir", str(root / "gen_lora")])  # fmt: skip
    return {"build": sim_build, **{p.name: p for p in root.iterdir()}}


def _tiny_vit(folder: Path) -> Path:
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, num_labels=2)  # fmt: skip
    ViTForImageClassification(config).save_pretrained(folder)
    return folder


# (command, card under its output, card class, FastGAN pipeline tag or None, gated)
CARDS = [
    ("build", "build/README.md", DatasetCard, None, True),
    ("train-classifier", "clf/fold_0/README.md", ModelCard, None, True),
    ("train-lora", "lora/README.md", ModelCard, None, True),
    ("train-fastgan conditional", "gan/README.md", ModelCard, "conditional", True),
    ("train-fastgan conditional discriminator", "gan/discriminator/README.md", ModelCard, "discriminator", True),
    ("train-fastgan pooled", "pooled/README.md", ModelCard, "pooled", True),
    ("generate lora", "gen_lora/README.md", DatasetCard, None, True),
    ("generate fastgan", "gen_fastgan/README.md", DatasetCard, None, True),
    ("generate morph", "gen_morph/README.md", DatasetCard, None, True),
    ("filter", "filtered/README.md", DatasetCard, None, True),
    ("merge", "merged/README.md", DatasetCard, None, True),
    ("report", "rep/README.md", DatasetCard, None, True),
]


@pytest.mark.parametrize(("command", "relative", "kind", "gan", "gated"), CARDS, ids=[c[0] for c in CARDS])
def test_every_card_is_complete(outputs, command, relative, kind, gan, gated):
    name, _, rest = relative.partition("/")
    path = outputs[name] / rest
    card = kind.load(path)
    data = card.data.to_dict()
    assert data.get("license"), f"{command}: no license"
    if data["license"] == "other":
        assert data.get("license_name") and data.get("license_link"), f"{command}: other without name and link"
    if gated:
        assert data.get("extra_gated_fields") == GATED_FIELDS, f"{command}: not the dataset's access questions"
        assert data.get("extra_gated_prompt") and data.get("extra_gated_button_content")
    tags = data.get("tags") or []
    assert len(tags) == len(set(tags)), f"{command}: repeated tags {tags}"
    if gan == "pooled":
        assert data.get("pipeline_tag") == "unconditional-image-generation"
    elif gan in ("conditional", "discriminator"):
        assert data.get("pipeline_tag") != "unconditional-image-generation", f"{command}: {data.get('pipeline_tag')}"
    if kind is ModelCard:
        assert "### Framework versions" in card.text and "- torch " in card.text, f"{command}: no framework versions"
        if command == "train-lora":
            assert "- diffusers " in card.text and "- peft " in card.text
        if command == "train-classifier":
            assert "- transformers " in card.text

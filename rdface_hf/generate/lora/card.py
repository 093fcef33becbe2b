"""The model card of an adapter set: ``model_cards/lora.md.jinja`` through ``ModelCard``."""

from __future__ import annotations

from importlib import resources
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from ..._version import __version__
from ...dataset.card import gated_card_fields, unique_tags, with_framework_versions
from .config import SAMPLES_FILE, TEXT_TARGETS, UNET_TARGETS, VALIDATION_FILE, WEIGHT_NAME, is_repo_id

DEFAULT_REPO_ID = "ORG/rdface-lora"
SAMPLES_SECTION = f"""## Samples

![One row per condition: images drawn by its adapter at the end of training]({SAMPLES_FILE})

Drawn by each condition's adapter with its instance prompt at the end of training
(`{SAMPLES_FILE}`; each condition's grids over training: `<condition>/{VALIDATION_FILE}`). These
are faces derived from gated data: they are published only in this gated repository.

"""
GATED_PROMPT = (
    "These LoRA adapters were trained on photographs of children with rare genetic conditions and "
    "can reproduce those faces. Access is granted manually to researchers with ethics approval for "
    "the intended use. You agree not to attempt to identify any person, not to redistribute the "
    "weights or images from which a training face could be recovered, and to acknowledge RDFace."
)


def render_card(index: dict[str, Any], *, repo_id: str = DEFAULT_REPO_ID, samples: bool = False) -> ModelCard:
    """The card of the adapter set described by ``index`` (the content of ``adapters.json``)."""
    base = str(index.get("base_model", ""))
    data = ModelCardData(
        base_model=base if is_repo_id(base) else None,
        library_name="diffusers",
        pipeline_tag="text-to-image",
        tags=unique_tags(
            ["lora", "dreambooth", "diffusers", "stable-diffusion", "text-to-image", "rdface", "template:sd-lora"]
        ),
        **gated_card_fields(prompt=GATED_PROMPT, source_repo=_hub_dataset(index.get("dataset"))),
    )
    adapters = [index["adapters"][k] for k in sorted(index.get("adapters", {}))]
    template = resources.files("rdface_hf.model_cards").joinpath("lora.md.jinja").read_text(encoding="utf-8")
    settings = index.get("settings", {})
    card = ModelCard.from_template(
        data,
        template_str=template,
        title="RDFace LoRA DreamBooth adapters",
        version=__version__,
        repo_id=repo_id,
        adapters=adapters,
        skipped=sorted(index.get("skipped", {})),
        weight_name=WEIGHT_NAME,
        unet_targets=UNET_TARGETS,
        text_targets=TEXT_TARGETS,
        **{k: index.get(k) for k in ("base_model", "base_model_revision", "vae", "dataset", "trained_on")},
        **settings,
    )
    if samples:  # the pictures are published only in the gated repo this card belongs to
        card.text = card.text.replace("## Adapters", SAMPLES_SECTION + "## Adapters", 1)
    return with_framework_versions(card, ("torch", "transformers", "diffusers", "peft", "accelerate", "safetensors"))


def _hub_dataset(dataset: Any) -> str | None:
    """The source dataset's Hub id (its agreement is the card's licence link), not a local folder."""
    return str(dataset) if dataset and is_repo_id(str(dataset)) and not str(dataset).startswith("/") else None

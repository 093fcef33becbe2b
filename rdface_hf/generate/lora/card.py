"""The model card of an adapter set: ``model_cards/lora.md.jinja`` through ``ModelCard``."""

from __future__ import annotations

from importlib import resources
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from ... import __version__
from ...dataset.card import GATED_FIELDS, LICENSE_NAME
from .config import TEXT_TARGETS, UNET_TARGETS, WEIGHT_NAME, is_repo_id

DEFAULT_REPO_ID = "ORG/rdface-lora"
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
        license="other",
        license_name=LICENSE_NAME,
        pipeline_tag="text-to-image",
        tags=["lora", "dreambooth", "diffusers", "stable-diffusion", "text-to-image", "rdface", "template:sd-lora"],
        extra_gated_prompt=GATED_PROMPT,
        extra_gated_fields=GATED_FIELDS,
        extra_gated_button_content="Request access",
    )
    adapters = [index["adapters"][k] for k in sorted(index.get("adapters", {}))]
    template = resources.files("rdface_hf.model_cards").joinpath("lora.md.jinja").read_text(encoding="utf-8")
    settings = index.get("settings", {})
    return ModelCard.from_template(
        data,
        template_str=template,
        title="RDFace LoRA DreamBooth adapters",
        version=__version__,
        repo_id=repo_id,
        adapters=adapters,
        skipped=sorted(index.get("skipped", {})),
        samples=samples,
        weight_name=WEIGHT_NAME,
        unet_targets=UNET_TARGETS,
        text_targets=TEXT_TARGETS,
        **{k: index.get(k) for k in ("base_model", "base_model_revision", "vae", "dataset", "trained_on")},
        **settings,
    )

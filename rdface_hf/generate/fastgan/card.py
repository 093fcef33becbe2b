"""The model card of a FastGAN: ``model_cards/fastgan.md.jinja`` through ``ModelCard``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

from ..._version import __version__
from ...dataset.card import gated_card_fields, unique_tags, with_framework_versions

TEMPLATE = "fastgan.md.jinja"
GATED_PROMPT = (
    "This GAN was trained on photographs of children with rare genetic conditions and may reproduce those "
    "faces. Access is granted manually to researchers with ethics approval for the intended use. You agree not "
    "to attempt to identify any person, not to redistribute the weights or images from which a training face "
    "could be recovered, and to acknowledge RDFace."
)
VERSIONS = ("torch", "accelerate", "huggingface_hub", "safetensors")


def pipeline_tag(conditional: bool) -> str | None:
    """The Hub task of a FastGAN: a pooled model samples unconditionally; a class-conditional one
    has no Hub task of its own (its tags say class-conditional)."""
    return None if conditional else "unconditional-image-generation"


def gated_data(card_data: ModelCardData, *, conditional: bool, source_repo: str | None, tags=()) -> ModelCardData:
    """``card_data`` with the dataset's licence and access questions, the pipeline tag of the mode
    and each tag once; shared by the generator's and the discriminator's cards."""
    data = card_data.to_dict()
    data.update(gated_card_fields(prompt=GATED_PROMPT, source_repo=source_repo))
    mode_tag = "class-conditional" if conditional else "unconditional"
    data["tags"] = unique_tags([*(data.get("tags") or []), *tags, mode_tag])
    data["pipeline_tag"] = pipeline_tag(conditional)
    if source_repo:
        data["datasets"] = [source_repo]
    return ModelCardData(**data)


def render_discriminator_card(discriminator, card_data: ModelCardData, template: str) -> ModelCard:
    """The discriminator's card (the mixin's template), gated like the generator's."""
    conditional = bool((getattr(discriminator, "_hub_mixin_config", None) or {}).get("conditional"))
    data = gated_data(card_data, conditional=conditional, source_repo=None)
    data.pipeline_tag = None  # a discriminator generates nothing
    return with_framework_versions(ModelCard.from_template(data, template_str=template), VERSIONS)


def card_template() -> str:
    """The template shipped as ``rdface_hf.model_cards`` (the repository's ``model_cards/``)."""
    try:
        return resources.files("rdface_hf.model_cards").joinpath(TEMPLATE).read_text(encoding="utf-8")
    except ModuleNotFoundError:  # an editable install made before model_cards/ was mapped
        return (Path(__file__).resolve().parents[3] / "model_cards" / TEMPLATE).read_text(encoding="utf-8")


def render_model_card(generator, card_data: ModelCardData) -> ModelCard:
    """The card of ``generator`` (a ``FastGANGenerator``): what it was trained on, how, and how to use it."""
    prov = generator.provenance
    data = gated_data(
        card_data, conditional=generator.conditional, source_repo=prov.get("dataset_repo_id"),
        tags=("rdface", "fastgan", "face", "synthetic-data", "pediatric"),
    )  # fmt: skip
    conditions = [
        {"abbr": generator.abbreviations[c], "images": len(generator.training_ids[c])}
        for c in generator.trained_conditions
    ]
    mode = "class-conditional" if generator.conditional else "pooled"
    card = ModelCard.from_template(
        data,
        template_str=card_template(),
        title=f"FastGAN ({mode}, {generator.resolution} px) on {prov.get('dataset', 'an RDFace build')}",
        version=prov.get("rdface_hf_version", __version__),
        resolution=generator.resolution,
        conditional=generator.conditional,
        conditions=conditions,
        images=sum(c["images"] for c in conditions),
        repo_id=prov.get("repo_id") or "ORG/NAME",
        dataset=prov.get("dataset", "?"),
        trained_on=prov.get("trained_on", "?"),
        nz=generator.nz,
        **{k: prov.get(k, "?") for k in ("ngf", "ndf", "reconstruction_loss", "steps", "batch_size")},
        **{k: prov.get(k, "?") for k in ("learning_rate", "augment", "seed", "ema_decay")},
    )
    return with_framework_versions(card, VERSIONS)

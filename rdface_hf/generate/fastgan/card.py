"""The model card of a FastGAN: ``model_cards/fastgan.md.jinja`` through ``ModelCard``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

from ..._version import __version__

TEMPLATE = "fastgan.md.jinja"


def card_template() -> str:
    """The template shipped as ``rdface_hf.model_cards`` (the repository's ``model_cards/``)."""
    try:
        return resources.files("rdface_hf.model_cards").joinpath(TEMPLATE).read_text(encoding="utf-8")
    except ModuleNotFoundError:  # an editable install made before model_cards/ was mapped
        return (Path(__file__).resolve().parents[3] / "model_cards" / TEMPLATE).read_text(encoding="utf-8")


def render_model_card(generator, card_data: ModelCardData) -> ModelCard:
    """The card of ``generator`` (a ``FastGANGenerator``): what it was trained on, how, and how to use it."""
    prov = generator.provenance
    data = ModelCardData(**card_data.to_dict())
    data.tags = sorted({*(data.tags or []), "rdface", "fastgan", "face", "synthetic-data", "pediatric"})
    if prov.get("dataset_repo_id"):
        data.datasets = [prov["dataset_repo_id"]]
    conditions = [
        {"abbr": generator.abbreviations[c], "images": len(generator.training_ids[c])}
        for c in generator.trained_conditions
    ]
    mode = "class-conditional" if generator.conditional else "pooled"
    return ModelCard.from_template(
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

"""The dataset card: rendered from ``dataset_card/README.md.jinja`` with
:class:`huggingface_hub.DatasetCard`, its YAML carrying gating and configs."""

from __future__ import annotations

import json
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData
from jinja2 import Template

from .._version import __version__
from . import splits
from .build_files import AGREEMENT_FILE
from .columns import describe as describe_column

DEFAULT_REPO_ID = "ORG/rdface"
LICENSE_NAME = "rdface-data-use-agreement"

GATED_PROMPT = (
    "RDFace contains photographs of children with rare genetic conditions. Access is granted "
    "manually to researchers with ethics approval for the intended use. By requesting access you "
    "agree not to attempt to identify any person shown, not to redistribute the images, and to "
    "acknowledge RDFace."
)
GATED_FIELDS = {
    "Name": "text",
    "Affiliation": "text",
    "Ethics approval reference (IRB / REC number)": "text",
    "Intended use": "text",
    "I will not attempt to identify or re-identify any person in the images": "checkbox",
    "I will not redistribute the images or any derivative from which they can be recovered": "checkbox",
    "I will acknowledge RDFace in any publication or product that uses it": "checkbox",
}


def agreement_link(source_repo: str | None = None) -> str:
    """The ``license_link``: the agreement file of the dataset's own repo, or, for an artefact
    derived from a dataset on the Hub, that dataset's agreement."""
    if source_repo:
        return f"https://huggingface.co/datasets/{source_repo}/blob/main/{AGREEMENT_FILE}"
    return AGREEMENT_FILE


def gated_card_fields(*, prompt: str = GATED_PROMPT, source_repo: str | None = None) -> dict[str, Any]:
    """The licence and access questions of the dataset card, shared by every card of an artefact
    derived from the gated faces (classifier, LoRA, FastGAN, synthetic, filtered, merged, reports):
    ``license: other`` with its name and link, and the same questions (``prompt`` may say what
    the artefact is)."""
    return {
        "license": "other",
        "license_name": LICENSE_NAME,
        "license_link": agreement_link(source_repo),
        "extra_gated_prompt": prompt,
        "extra_gated_fields": dict(GATED_FIELDS),
        "extra_gated_button_content": "Request access",
    }


FRAMEWORKS = ("torch", "transformers", "diffusers", "peft", "accelerate", "huggingface_hub", "safetensors")


def framework_versions(names: tuple[str, ...] = FRAMEWORKS) -> dict[str, str]:
    """The installed versions of the frameworks a model was made with (those installed)."""

    out = {"rdface_hf": __version__}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def with_framework_versions(card, names: tuple[str, ...] = FRAMEWORKS):
    """``card`` with a "Framework versions" section (as transformers' Trainer writes one)."""
    lines = "\n".join(f"- {k} {v}" for k, v in framework_versions(names).items())
    card.text = card.text.rstrip("\n") + f"\n\n### Framework versions\n\n{lines}\n"
    return card


def unique_tags(tags) -> list[str]:
    """Tags in order, each once."""
    return list(dict.fromkeys(t for t in tags if t))


def dataset_configs(folds: int, shard_files: dict[str, str]) -> list[dict[str, Any]]:
    """YAML ``configs``: ``default`` plus ``fold_0 .. fold_{folds-1}`` over shared shards.

    ``shard_files`` maps partition names (``test``, ``train-always``,
    ``cv-k``) to their files. Empty shards are not written (``datasets``
    cannot read a split with no rows), so a split left with no file is left out.
    """

    def shards(names: list[str]) -> list[str]:
        return [shard_files[n] for n in names if n in shard_files]

    def config(name: str, splits_: dict[str, list[str]]) -> dict[str, Any]:
        files = [{"split": s, "path": paths if len(paths) > 1 else paths[0]} for s, paths in splits_.items() if paths]
        return {"config_name": name, "data_files": files}

    always = splits.partition_name(splits.ALWAYS_TRAIN)
    test = shards([splits.partition_name(splits.TEST)])
    parts = [f"cv-{k}" for k in range(folds)]
    configs = [{**config("default", {"train": shards([always, *parts]), "test": test}), "default": True}]
    for k in range(folds):
        train = shards([always, *(p for j, p in enumerate(parts) if j != k)])
        configs.append(config(f"fold_{k}", {"train": train, "validation": shards([parts[k]]), "test": test}))
    return configs


def _size_category(n: int) -> str:
    return "n<1K" if n < 1_000 else "1K<n<10K" if n < 10_000 else "10K<n<100K"


def pretty_name(simulated: bool) -> str:
    return "RDFace (simulated)" if simulated else "RDFace"


def _template(name: str) -> str:
    return resources.files("rdface_hf.dataset_card").joinpath(name).read_text(encoding="utf-8")


def render_agreement(pretty: str) -> str:
    """The data-use agreement (``DATA_USE_AGREEMENT.md``) that the card's ``license_link`` names."""
    text = Template(_template(f"{AGREEMENT_FILE}.jinja"), keep_trailing_newline=True)
    return text.render(pretty_name=pretty, simulated=pretty != pretty_name(False))


# --- simulator settings (rdface_hf.sim) on the card of a simulated build --------------------


def simulator_settings(raw) -> dict | None:
    """The settings of a simulated release (its ``simulate_config.json``) that the card states:
    difficulty, source style, the number of source portraits, seed; ``None`` when unreadable."""
    try:
        saved = json.loads((Path(raw) / "simulate_config.json").read_text(encoding="utf-8"))
    except (OSError, TypeError, ValueError):
        return None
    if not isinstance(saved, dict):
        return None
    provenance = saved.get("provenance") if isinstance(saved.get("provenance"), dict) else {}
    return {
        "difficulty": saved.get("difficulty"),
        "source_style": saved.get("source_style", 0.0),
        "source_portraits": provenance.get("source_portraits", 2),
        "seed": saved.get("seed"),
    }


# --------------------------------------------------------------------------------------------


def render_dataset_card(
    *, stats: dict, config, shard_files: dict[str, str], simulated: bool, repo_id: str = DEFAULT_REPO_ID
):
    """Return a :class:`huggingface_hub.DatasetCard` for one build."""
    pretty = pretty_name(simulated)
    card_data = DatasetCardData(
        pretty_name=pretty,
        task_categories=["image-classification"],
        tags=["medical", "rare-disease", "dysmorphology", "face", "pediatric", "facial-landmarks", "rdface"]
        + (["simulated"] if simulated else []),
        size_categories=[_size_category(stats["images"])],
        configs=dataset_configs(config.folds, shard_files),
        **gated_card_fields(),
    )
    template = _template("README.md.jinja")
    extra_columns = list(stats.get("extra_columns", []))
    return DatasetCard.from_template(
        card_data,
        template_str=template,
        pretty_name=pretty,
        simulated=simulated,
        stats=stats,
        folds=config.folds,
        seed=config.seed,
        test_fraction=config.test_fraction,
        build_config=stats["build_config"],
        extra_columns=[(c, describe_column(c)) for c in extra_columns],
        columns=stats.get("columns", {}),
        anonymize_names=bool(getattr(config, "anonymize_names", False)),
        agreement_file=AGREEMENT_FILE,
        repo_id=repo_id,
        version=__version__,
        simulator=simulator_settings(getattr(config, "raw", None)) if simulated else None,
    )

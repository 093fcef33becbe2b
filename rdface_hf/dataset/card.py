"""The dataset card: rendered from ``dataset_card/README.md.jinja`` with
:class:`huggingface_hub.DatasetCard`, its YAML carrying gating and configs."""

from __future__ import annotations

from importlib import resources
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from .. import __version__
from . import splits

DEFAULT_REPO_ID = "ORG/rdface"

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


def render_dataset_card(
    *, stats: dict, config, shard_files: dict[str, str], simulated: bool, repo_id: str = DEFAULT_REPO_ID
):
    """Return a :class:`huggingface_hub.DatasetCard` for one build."""
    pretty = "RDFace (simulated)" if simulated else "RDFace"
    card_data = DatasetCardData(
        pretty_name=pretty,
        license="other",
        license_name="rdface-data-use-agreement",
        task_categories=["image-classification"],
        tags=["medical", "rare-disease", "dysmorphology", "face", "pediatric", "facial-landmarks", "rdface"]
        + (["simulated"] if simulated else []),
        size_categories=[_size_category(stats["images"])],
        configs=dataset_configs(config.folds, shard_files),
        extra_gated_prompt=GATED_PROMPT,
        extra_gated_fields=GATED_FIELDS,
        extra_gated_button_content="Request access",
    )
    template = resources.files("rdface_hf.dataset_card").joinpath("README.md.jinja").read_text(encoding="utf-8")
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
        extra_columns=extra_columns,
        repo_id=repo_id,
        version=__version__,
    )

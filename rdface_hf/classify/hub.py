"""The classifier's model card and its push to the Hub (private and gated).

The card is ``model_cards/classifier.md.jinja`` rendered with
:class:`huggingface_hub.ModelCard`; its YAML ``model-index`` carries, per metric, the mean
over the fold models on the fixed test split (parseable with ``ModelCard.load(...).data.eval_results``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import huggingface_hub
from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData

from .._errors import InputError, RDFaceError, hub_error
from .._version import __version__
from ..dataset.card import gated_card_fields, unique_tags, with_framework_versions
from .config import TOP_K
from .scoring import METRICS

CARD_TEMPLATE = "classifier.md.jinja"
GATED_PROMPT = (
    "This model was trained on RDFace, photographs of children with rare genetic conditions shared under "
    "ethics approval. Access is granted manually to researchers who agree to use it for research only, never "
    "for diagnosis or identification, and not to redistribute it."
)
MODEL_FILES = ("config.json", "model.safetensors", "preprocessor_config.json")
PUBLISHED_FILES = (*MODEL_FILES, "README.md", "train_config.json", "results.json", "summary.json", "summary.md")
METRIC_IDS = {
    **{
        f"top_{k}": ("accuracy" if k == 1 else "top_k_accuracy", f"Top-{k} accuracy", None if k == 1 else f"k={k}")
        for k in TOP_K
    },
    "macro_f1": ("f1", "Macro-F1", "macro"),
    "balanced_accuracy": ("balanced_accuracy", "Balanced accuracy", None),
}


def hub_id(value: str | None) -> str | None:
    """``value`` if it reads as a Hub repo id (ORG/NAME) and is not a local path."""
    if not value or os.path.exists(value):
        return None
    parts = value.split("/")
    return value if len(parts) == 2 and all(parts) else None


def eval_results(row: Mapping[str, Any], *, dataset_id: str | None, dataset_name: str, revision=None) -> list:
    """``model-index`` entries: per metric, the mean over folds on the test split."""
    out = []
    folds = len(row["folds"])
    for metric in METRICS:
        stats = row["test"].get(metric)
        if not stats or stats.get("mean") is None:
            continue
        metric_type, pretty, metric_config = METRIC_IDS[metric]
        out.append(
            EvalResult(
                task_type="image-classification",
                task_name="Rare-disease classification from facial images",
                dataset_type=dataset_id or "rdface",
                dataset_name=dataset_name,
                dataset_config="default",
                dataset_split="test",
                dataset_revision=revision,
                metric_type=metric_type,
                metric_name=f"{pretty} (mean over {folds} fold{'s' if folds != 1 else ''})",
                metric_config=metric_config,
                metric_value=round(float(stats["mean"]), 4),
            )
        )
    return out


def render_card(*, row: Mapping[str, Any], info: Mapping[str, Any], table: str, repo_id: str) -> ModelCard:
    """The model card of the pushed fold model; ``info`` comes from the run (see ``classifier``)."""
    simulated = bool(info.get("simulated"))
    dataset_id = info.get("dataset_id")
    data = ModelCardData(
        model_name=repo_id.split("/")[-1],
        base_model=hub_id(info["config"]["model"]),
        datasets=[dataset_id] if dataset_id else None,
        library_name="transformers",
        pipeline_tag="image-classification",
        tags=unique_tags(
            ["rdface", "rare-disease", "dysmorphology", "medical", "face", "image-classification", "rdface_hf"]
            + (["simulated"] if simulated else [])
        ),
        metrics=["accuracy", "top_k_accuracy", "f1", "balanced_accuracy"],
        eval_results=eval_results(
            row,
            dataset_id=dataset_id,
            dataset_name=info["dataset_name"],
            revision=info["config"].get("dataset_revision"),
        ),
        **gated_card_fields(prompt=GATED_PROMPT, source_repo=dataset_id),
    )
    template = resources.files("rdface_hf.model_cards").joinpath(CARD_TEMPLATE).read_text(encoding="utf-8")
    card = ModelCard.from_template(
        data,
        template_str=template,
        repo_id=repo_id,
        model_name=repo_id.split("/")[-1],
        version=__version__,
        table=table,
        gated=True,
        fold_count=len(row["folds"]),
        **info,
    )
    return with_framework_versions(card, ("torch", "transformers", "accelerate", "timm", "safetensors"))


@contextlib.contextmanager
def staged(files: Mapping[str, Path], texts: Mapping[str, str]) -> Iterator[Path]:
    """A temporary folder with the files to upload (hard links where possible) and ``texts``."""
    with tempfile.TemporaryDirectory(prefix=".push-") as tmp:
        root = Path(tmp)
        for name, path in files.items():
            try:
                os.link(path, root / name)
            except OSError:
                shutil.copy2(path, root / name)
        for name, text in texts.items():
            (root / name).write_text(text, encoding="utf-8")
        yield root


_LIBRARY_HFAPI = HfApi


def _api_class():
    """``HfApi``, or a stand-in patched over this module's name or over ``huggingface_hub.HfApi``."""
    return HfApi if HfApi is not _LIBRARY_HFAPI else huggingface_hub.HfApi


def push(
    files: Mapping[str, Path], texts: Mapping[str, str], repo_id: str, *, token: str | None = None, api=None
) -> str:
    """Create ``repo_id`` private and gated, then upload ``files`` and ``texts`` (the card is
    ``texts["README.md"]``); returns the repo's URL."""
    missing = [n for n in MODEL_FILES if n not in files or not Path(files[n]).is_file()]
    if missing:
        raise InputError(f"cannot push to {repo_id}: the model folder lacks {missing}")
    api = api or _api_class()(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="model", private=True, exist_ok=True)
        api.update_repo_settings(repo_id, repo_type="model", private=True, gated="manual")
        with staged(files, texts) as folder:
            api.upload_folder(
                folder_path=str(folder),
                repo_id=repo_id,
                repo_type="model",
                commit_message=f"Upload RDFace classifier (rdface_hf {__version__})",
                allow_patterns=list(PUBLISHED_FILES),
            )
    except RDFaceError:
        raise
    except Exception as exc:  # network, auth, Hub errors: one line, never the token
        raise RDFaceError(f"could not push to {repo_id}: {hub_error(exc, token)}") from None
    return str(url)

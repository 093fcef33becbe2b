"""Loading classifiers and frozen backbones: any ``AutoModelForImageClassification``
checkpoint or folder, and timm checkpoints (``timm/<name>``) through transformers' timm
wrapper (``TimmWrapperForImageClassification``). Never ``trust_remote_code``.

A checkpoint that cannot be loaded (no such id or folder, offline with nothing cached,
gated, an architecture transformers does not know) is one :class:`InputError` line.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import transformers
from transformers import AutoConfig, AutoImageProcessor, AutoModelForImageClassification

from .._errors import InputError
from .config import IMAGENET_MEAN, IMAGENET_STD

DEFAULT_SIZE = 224


@contextlib.contextmanager
def quiet_loading(progress: bool = False) -> Iterator[None]:
    """transformers' load reports and warnings off (a fresh head is expected here)."""
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    bars = transformers.utils.logging.is_progress_bar_enabled()
    if not progress:
        transformers.utils.logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.utils.logging.enable_progress_bar()


def _first_line(exc: BaseException, token: str | bool | None) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(token, str) and token:
        text = text.replace(token, "***")
    return text[:300]


@contextlib.contextmanager
def model_errors(model_id: str, token: str | bool | None = None) -> Iterator[None]:
    """Any failure to load ``model_id`` becomes one line (OSError, HFValidationError, offline, ...)."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot load model {model_id!r}: {type(exc).__name__}: {_first_line(exc, token)}") from None


def _load_config(model_id: str, *, revision=None, token=None, **kwargs):
    with model_errors(model_id, token), quiet_loading():
        config = AutoConfig.from_pretrained(model_id, revision=revision, token=token, **kwargs)
    return config


def load_classifier(
    model_id: str, class_names: Sequence[str], *, revision: str | None = None, token: str | bool | None = None
):
    """The checkpoint with a classification head for ``class_names`` (a fresh one when the
    checkpoint's classes differ: ``ignore_mismatched_sizes``), labels in ``id2label``."""
    labels = {"id2label": dict(enumerate(class_names)), "label2id": {n: i for i, n in enumerate(class_names)}}
    config = _load_config(model_id, revision=revision, token=token, num_labels=len(class_names), **labels)
    if getattr(config, "model_type", None) == "timm_wrapper" and config.model_args:
        config.model_args = {k: v for k, v in config.model_args.items() if k != "num_classes"}
    with model_errors(model_id, token), quiet_loading():
        model = AutoModelForImageClassification.from_pretrained(
            model_id,
            config=config,
            revision=revision,
            token=token,
            ignore_mismatched_sizes=True,
            use_safetensors=True,  # never unpickle weights
        )
    model.config.id2label, model.config.label2id = labels["id2label"], labels["label2id"]
    return model


def _size_of(processor, config) -> int | None:
    """The input size a checkpoint expects, from its processor or config."""
    data_config = getattr(processor, "data_config", None)
    if data_config and data_config.get("input_size"):
        return int(data_config["input_size"][-1])
    for attribute in ("crop_size", "size"):
        size = getattr(processor, attribute, None)
        if isinstance(size, dict):
            for key in ("height", "shortest_edge", "width"):
                if size.get(key):
                    return int(size[key])
        elif isinstance(size, int):
            return size
    image_size = getattr(config, "image_size", None) or getattr(
        getattr(config, "vision_config", None), "image_size", None
    )
    if isinstance(image_size, (list, tuple)):
        image_size = image_size[0]
    if image_size:
        return int(image_size)
    pretrained = getattr(config, "pretrained_cfg", None) or {}
    return int(pretrained["input_size"][-1]) if pretrained.get("input_size") else None


def _stats_of(processor, config) -> tuple[list[float], list[float]] | None:
    data_config = getattr(processor, "data_config", None)
    if data_config and data_config.get("mean"):
        return list(data_config["mean"]), list(data_config["std"])
    mean, std = getattr(processor, "image_mean", None), getattr(processor, "image_std", None)
    if mean is not None and std is not None:
        return list(mean), list(std)
    pretrained = getattr(config, "pretrained_cfg", None) or {}
    if pretrained.get("mean"):
        return list(pretrained["mean"]), list(pretrained["std"])
    return None


def _check_fits(model_id: str, config, size: int) -> None:
    """A patch model (ViT and kin) has position embeddings for one input size: another is refused
    here, in one line, instead of failing inside the first forward pass."""
    vision = getattr(config, "vision_config", None) or config
    fixed, patch = getattr(vision, "image_size", None), getattr(vision, "patch_size", None)
    if isinstance(fixed, (list, tuple)):
        fixed = fixed[0]
    if isinstance(fixed, int) and patch and size != fixed:
        raise InputError(
            f"--image-size {size} does not fit {Path(str(model_id)).name}: it takes {fixed}x{fixed} images "
            "(its position embeddings are for that size); leave --image-size out"
        )


def preprocessing(
    model_id: str, *, image_size: int | None, normalization: str, revision=None, token=None
) -> tuple[int, list[float], list[float]]:
    """``(size, mean, std)``: ``image_size`` or the checkpoint's own (224 when unknown); ImageNet
    statistics, or with ``normalization="model"`` the checkpoint's (ImageNet when unknown)."""
    config = _load_config(model_id, revision=revision, token=token)
    try:
        with quiet_loading():
            processor = AutoImageProcessor.from_pretrained(model_id, revision=revision, token=token)
    except Exception:  # no preprocessor_config.json: the config and defaults decide
        processor = None
    size = image_size or _size_of(processor, config) or DEFAULT_SIZE
    _check_fits(model_id, config, int(size))
    stats = _stats_of(processor, config) if normalization == "model" else None
    mean, std = stats or (list(IMAGENET_MEAN), list(IMAGENET_STD))
    return int(size), mean, std


def silence_library_logs() -> None:
    """Keep third-party INFO chatter (httpx, urllib3) out of the run's output."""
    for name in ("httpx", "urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.WARNING)

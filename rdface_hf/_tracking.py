"""Experiment tracking (``--report-to``, ``--run-name``) through accelerate's trackers.

The trainers (train-classifier, train-lora, train-fastgan) pass :func:`accelerator_kwargs` to
``Accelerator`` (``log_with``, ``project_dir``), call :func:`start` once the output folder is
known (``init_trackers`` with the run's config as hyperparameters), log through
``accelerator.log`` and call :func:`finish` (``end_training``'s tracker part). TensorBoard writes under
``O/logs/<run name>/rdface-<stage>/``; wandb and trackio go where their own settings say. A tracker that is not
installed is one line of error before any training (:func:`check_report_to`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._errors import InputError

TRACKERS = ("tensorboard", "wandb", "trackio")
CHOICES = ("none", *TRACKERS, "all")
# the module each tracker needs (accelerate's own check imports it)
_MODULES = {"tensorboard": "tensorboard", "wandb": "wandb", "trackio": "trackio"}
LOG_DIR = "logs"


REPORT_TO_HELP = (
    "experiment tracking through accelerate: none, tensorboard (O/logs/), wandb, trackio, or all (every one installed)"
)
RUN_NAME_HELP = "the tracked run's name (default: the output folder's name)"


def installed(tracker: str) -> bool:
    return importlib.util.find_spec(_MODULES[tracker]) is not None


def check_report_to(report_to: str) -> list[str]:
    """The trackers to use; an unknown or uninstalled one is one line of error, before training."""
    value = str(report_to).strip().lower()
    if value not in CHOICES:
        raise InputError(f"--report-to must be one of {', '.join(CHOICES)}, got {report_to!r}")
    if value == "none":
        return []
    if value == "all":
        return [t for t in TRACKERS if installed(t)]
    if not installed(value):
        raise InputError(f"--report-to {value}: the {value} package is not installed (pip install {value})")
    return [value]


def run_name(config: Any) -> str:
    """``--run-name``, or the output folder's name."""
    return getattr(config, "run_name", None) or Path(str(config.output_dir)).resolve().name or "run"


def accelerator_kwargs(config: Any) -> dict[str, Any]:
    """``log_with`` and ``project_dir`` for ``Accelerator``; nothing when tracking is off. Checks
    that the trackers are installed: a missing one is refused before any work."""
    trackers = check_report_to(config.report_to)
    if not trackers:
        return {}
    return {"log_with": trackers, "project_dir": str(Path(config.output_dir) / LOG_DIR)}


def hyperparameters(config: Any) -> dict[str, Any]:
    """The config as flat scalar hyperparameters (TensorBoard's hparams take no lists or None);
    private fields and tokens are left out, a local path is reduced to its name (a tracker such as
    wandb is a service: no local path goes there)."""
    private = set(getattr(config, "private", ())) | {"hub_token", "token", "output_dir"}
    out: dict[str, Any] = {}
    for key, value in config.to_dict().items():
        if key in private:
            continue
        if value is None or isinstance(value, (list, tuple, dict)):
            value = json.dumps(value)
        elif isinstance(value, str) and value and os.path.exists(value):
            value = Path(value).resolve().name
        out[key] = value
    return out


def start(accelerator: Any, config: Any, folder: str | os.PathLike) -> bool:
    """``init_trackers`` (project ``rdface-<stage>``; TensorBoard under ``folder/logs/<run name>/``,
    ``folder`` being the run's real output folder) with the config as hyperparameters. On the
    main process only (accelerate's trackers log from there); False when tracking is off."""
    if not getattr(accelerator, "log_with", None):
        return False
    name = run_name(config)
    accelerator.project_configuration.logging_dir = str(Path(folder) / LOG_DIR / name)
    init = {"wandb": {"name": name}, "trackio": {"name": name}}
    accelerator.init_trackers(f"rdface-{config.stage}", config=hyperparameters(config), init_kwargs=init)
    return True


@contextlib.contextmanager
def tracked(accelerator: Any, config: Any, folder: str | os.PathLike) -> Iterator[bool]:
    """:func:`start` on entry, :func:`finish` on exit (also when training stops early); yields
    whether tracking is on."""
    on = start(accelerator, config, folder)
    try:
        yield on
    finally:
        finish(accelerator)


def log_image(accelerator: Any, name: str, path: str | os.PathLike, step: int) -> None:
    """A picture the stage wrote (a sample grid) to every tracker that takes images."""
    if not getattr(accelerator, "log_with", None) or not accelerator.is_main_process:
        return
    import numpy as np  # only when an image is logged: the CLI starts without numpy or PIL
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    for tracker in accelerator.trackers:
        if tracker.name == "tensorboard":
            tracker.log_images({name: pixels[None]}, step=step, dataformats="NHWC")
        elif tracker.name == "wandb":
            tracker.log_images({name: [pixels]}, step=step)


def finish(accelerator: Any) -> None:
    """Finish the trackers (flush and close), as ``accelerator.end_training`` does, without its
    ``destroy_process_group``: the run folder's last barriers (and a later run in the same
    process) still need the process group."""
    for tracker in getattr(accelerator, "trackers", []):
        tracker.finish()
    if hasattr(accelerator, "trackers"):
        accelerator.trackers = []

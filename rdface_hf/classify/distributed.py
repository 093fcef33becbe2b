"""The few things processes of one ``accelerate launch`` share: the main process decides.

Only the main process touches the output folder (its lock, checkpoints, results); the
others train and wait. Decisions (the folder, which folds remain, errors) travel as JSON in
a uint8 tensor (``accelerate.utils.broadcast``), never as pickled objects.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import broadcast

from .._config import StageConfig, open_run_dir
from .._errors import InputError, RDFaceError


def share_json(accelerator, value: Any) -> Any:
    """The main process's ``value`` (JSON-able) on every process."""
    if accelerator.num_processes == 1:
        return value
    data = json.dumps(value).encode("utf-8") if accelerator.is_main_process else b""
    length = broadcast(torch.tensor([len(data)], dtype=torch.int64, device=accelerator.device))
    buffer = torch.zeros(int(length.item()), dtype=torch.uint8, device=accelerator.device)
    if accelerator.is_main_process:
        buffer.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8).to(accelerator.device))
    buffer = broadcast(buffer)
    return json.loads(bytes(buffer.cpu().tolist()).decode("utf-8"))


@contextlib.contextmanager
def shared_run_dir(config: StageConfig, accelerator, *, inputs=(), **provenance: Any) -> Iterator[tuple[Path, bool]]:
    """:func:`~rdface_hf._config.open_run_dir` on the main process, its answer on every process
    (an error there is the same one line everywhere)."""
    with contextlib.ExitStack() as stack:
        message: dict[str, Any] | None = None
        error: RDFaceError | None = None
        if accelerator.is_main_process:
            try:
                folder, resumed = stack.enter_context(
                    open_run_dir(config, config.output_dir, overwrite=config.overwrite, inputs=inputs, **provenance)
                )
                message = {"folder": str(folder), "resumed": resumed}
            except RDFaceError as exc:
                error, message = exc, {"error": str(exc)}
        message = share_json(accelerator, message)
        if error is not None:
            raise error
        if "error" in message:
            raise InputError(message["error"])
        yield Path(message["folder"]), bool(message["resumed"])

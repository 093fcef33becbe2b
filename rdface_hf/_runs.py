"""A run folder shared by the processes of one ``accelerate launch``: the main process decides.

Only the main process touches the output folder (its lock, owner marker, manifest,
checkpoints, results); the others train and read what it tells them. Every process checks
O first (so a bad O is one clear line everywhere, before any work), and all of them pass
a barrier before the main process creates it: a slower process must never look at a
half-made O (it would read as a folder this command did not make). The main process's
answer (the folder, which may be a temporary sibling under ``--overwrite``, and whether
the run resumes, or its error line) travels as JSON in a uint8 tensor
(``accelerate.utils.broadcast``), never as a pickled object.

Used by train-classifier, train-lora and train-fastgan; one process runs the same code.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._config import StageConfig, open_run_dir
from ._errors import InputError, RDFaceError
from ._outputs import check_output_dir


def share_json(accelerator, value: Any) -> Any:
    """The main process's ``value`` (JSON-able) on every process."""
    if accelerator.num_processes == 1:
        return value
    import torch  # the trainers' processes have it; the CLI's start-up does not need it
    from accelerate.utils import broadcast

    data = json.dumps(value).encode("utf-8") if accelerator.is_main_process else b""
    length = broadcast(torch.tensor([len(data)], dtype=torch.int64, device=accelerator.device))
    buffer = torch.zeros(int(length.item()), dtype=torch.uint8, device=accelerator.device)
    if accelerator.is_main_process:
        buffer.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8).to(accelerator.device))
    buffer = broadcast(buffer)
    return json.loads(bytes(buffer.cpu().tolist()).decode("utf-8"))


@contextlib.contextmanager
def shared_run_dir(
    config: StageConfig, accelerator, *, inputs=(), digests: dict[str, str | None] | None = None, **provenance: Any
) -> Iterator[tuple[Path, bool]]:
    """:func:`~rdface_hf._config.open_run_dir` of ``config.output_dir`` on the main process,
    ``(folder, resumed)`` on every process; an error there is the same one line everywhere.
    On a normal exit every process passes a barrier before the main process closes the
    folder (with ``--overwrite``, that is when the new output replaces the old one)."""
    overwrite = bool(getattr(config, "overwrite", False))
    check_output_dir(config.output_dir, owner=config.owner(), overwrite=overwrite, resume=True, inputs=inputs)
    accelerator.wait_for_everyone()
    with contextlib.ExitStack() as stack:
        message: dict[str, Any] | None = None
        error: RDFaceError | None = None
        if accelerator.is_main_process:
            try:
                folder, resumed = stack.enter_context(
                    open_run_dir(
                        config, config.output_dir, overwrite=overwrite, inputs=inputs, digests=digests, **provenance
                    )
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
        accelerator.wait_for_everyone()

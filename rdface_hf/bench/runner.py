"""Running the plan: each unit claimed by a lock, skipped when done with the same settings.

``O/state/<id>.json`` records a finished unit (``done`` with its settings digest, or
``failed`` with the error line); it is written only after the stage has published its
output, so an interrupted unit has no state and a rerun resumes it. Several runners may
share one O: a unit is claimed by an ``fcntl`` lock on ``O/locks/<id>.lock``; a runner
that finds a unit claimed goes on with others and comes back to wait for it at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .._config import ConfigError
from .._errors import InputError
from .._io import atomic_write_json
from .plan import Stages, Unit


def _safe(uid: str) -> str:
    return uid.replace("/", "__")


def state_path(out: Path, unit: Unit) -> Path:
    return out / "state" / f"{_safe(unit.id)}.json"


def read_state(out: Path, unit: Unit) -> dict | None:
    try:
        data = json.loads(state_path(out, unit).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_done(out: Path, unit: Unit) -> bool:
    state = read_state(out, unit)
    return bool(state) and state.get("status") == "done" and state.get("digest") == unit.digest


def changed_units(out: Path, units: list[Unit]) -> list[Unit]:
    """Units finished earlier under other settings (refused without --overwrite)."""
    return [u for u in units if (s := read_state(out, u)) and s.get("status") == "done" and s["digest"] != u.digest]


@contextlib.contextmanager
def claim(out: Path, unit: Unit, *, wait: bool) -> Iterator[bool]:
    """Hold the unit's lock (``False`` when another runner holds it and ``wait`` is off)."""
    lock = out / "locks" / f"{_safe(unit.id)}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@dataclass
class Outcome:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    overhead_s: list[float] = field(default_factory=list)


def _error_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if isinstance(exc, InputError) else f"{type(exc).__name__}: {text}"


def _release_memory() -> None:
    """No model is held between units."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class Runner:
    def __init__(self, out: Path, stages: Stages, *, overwrite: bool, log=print) -> None:
        self.out, self.stages, self.overwrite, self.log = out, stages, overwrite, log
        self.outcome = Outcome()

    def _blocked_by(self, unit: Unit) -> str | None:
        for dep in unit.deps:
            state = self.states.get(dep)
            if state is not None and state.get("status") != "done":
                return dep
        return None

    def _execute(self, unit: Unit) -> dict:
        t0 = time.perf_counter()
        folder = Path(unit.config.output_dir)
        previous = read_state(self.out, unit)
        # Our own run folder: a published-but-unrecorded run or changed settings start again;
        # a generator set of the same settings resumes (the stage checks its own inputs).
        unit.config.overwrite = bool(previous) or (folder.exists() and unit.stage != "generate")
        begin = time.perf_counter()
        try:
            self.stages[unit.stage].run(unit.config)
            state = {"status": "done", "digest": unit.digest, "error": None}
        except ConfigError as exc:
            state = {"status": "failed", "digest": unit.digest, "error": f"{exc.field} {exc.message}"}
        except Exception as exc:
            state = {"status": "failed", "digest": unit.digest, "error": _error_line(exc)}
        end = time.perf_counter()
        state.update({"id": unit.id, "stage": unit.stage, "seconds": round(end - begin, 3)})
        atomic_write_json(state_path(self.out, unit), state)
        _release_memory()
        self.outcome.overhead_s.append((time.perf_counter() - t0) - (end - begin))
        return state

    def _run_one(self, unit: Unit, *, wait: bool) -> bool:
        """``False`` when another runner holds the unit or one it needs (and ``wait`` is off)."""
        if not wait and any(dep not in self.states for dep in unit.deps):
            return False
        with claim(self.out, unit, wait=wait) as mine:
            if not mine:
                return False
            if is_done(self.out, unit):
                self.states[unit.id] = read_state(self.out, unit)
                self.outcome.skipped.append(unit.id)
                return True
            blocker = self._blocked_by(unit)
            if blocker is not None:
                error = f"skipped: depends on {blocker}, which failed"
                self.states[unit.id] = {"status": "skipped", "error": error}
                self.outcome.failed[unit.id] = error
                return True
            self.log(f"  run  {unit.id}")
            state = self._execute(unit)
            self.states[unit.id] = state
            if state["status"] == "done":
                self.outcome.ran.append(unit.id)
            else:
                self.outcome.failed[unit.id] = state["error"]
                self.log(f"  FAILED {unit.id}: {state['error']}")
        return True

    def run(self, units: list[Unit]) -> Outcome:
        self.states: dict[str, dict] = {}
        deferred = [u for u in units if not self._run_one(u, wait=False)]
        for unit in deferred:  # claimed by another runner: wait for it, then use (or redo) its result
            self._run_one(unit, wait=True)
        return self.outcome

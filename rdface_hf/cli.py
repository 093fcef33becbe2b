"""The ``rdface`` command line: thin wiring of stages, one module per command.

Each command lives in :mod:`rdface_hf.commands` as a module with
``register(subparsers)`` (adds its parser, sets ``func``) and is also
reachable as ``python -m rdface_hf.cli <command>`` (and so under
``accelerate launch -m rdface_hf.cli``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from typing import Sequence

from . import __version__
from ._errors import RDFaceError

# Command name -> module in rdface_hf.commands. Later stages add their rows.
COMMANDS = {
    "simulate": "simulate",
    "build": "build",
    "publish": "publish",
    "demo": "demo",
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a bad flag already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rdface", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"rdface_hf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        importlib.import_module(f"rdface_hf.commands.{module}").register(sub)
    return parser


def _exit_cleanly_on_sigterm():
    """SIGTERM (``timeout``, a job scheduler) unwinds like Ctrl-C, so that
    partial outputs are removed instead of left behind; returns the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieten MediaPipe's TFLite banner
    os.environ.setdefault("GLOG_minloglevel", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _exit_cleanly_on_sigterm()
    try:
        return int(args.func(args) or 0)
    except RDFaceError as exc:
        print(f"rdface {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rdface {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

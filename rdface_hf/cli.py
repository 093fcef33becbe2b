"""The ``rdface`` command line: one module per command, flags made from configs.

Each command is a module in :mod:`rdface_hf.commands` with ``NAME``, ``HELP``,
``CONFIG`` (its :class:`~rdface_hf._config.StageConfig`) and ``run(config)``.
It is registered here by a static import. The same commands run as
``python -m rdface_hf.cli <command>`` and ``accelerate launch -m rdface_hf.cli
<command>``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence

from . import __version__
from ._argparse import (
    ConfigParser,
    TopParser,
    add_command,
    apply_config_file,
    command_of,
    config_from_namespace,
    config_path_of,
    flag_message,
)
from ._config import ConfigError
from ._errors import RDFaceError
from .commands import (
    audit_synthetic,
    benchmark,
    build,
    demo,
    generate,
    merge,
    probe,
    publish,
    report,
    simulate,
    train_classifier,
    train_fastgan,
    train_lora,
)
from .commands import filter as filter_command

# The commands in the order `rdface --help` lists them (the pipeline's order); a new command adds its module here.
PAGES = (
    simulate, build, publish, train_classifier, probe, train_lora, train_fastgan, generate, filter_command, merge,
    audit_synthetic, report, benchmark, demo,
)  # fmt: skip
COMMANDS = {module.NAME: module for module in PAGES}


def build_parser() -> tuple[TopParser, dict]:
    """The top-level parser and each command's sub-parser."""
    parser = TopParser(prog="rdface", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", action="version", version=f"rdface_hf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ConfigParser)
    sub.required = True
    subparsers = {
        name: add_command(sub, name, module.CONFIG, help=module.HELP, description=getattr(module, "DESCRIPTION", None))
        for name, module in COMMANDS.items()
    }
    return parser, subparsers


def _exit_cleanly_on_sigterm():
    """SIGTERM (``timeout``, a job scheduler) unwinds like Ctrl-C, so that
    partial outputs are removed instead of left behind; returns the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieten MediaPipe's TFLite banner
    os.environ.setdefault("GLOG_minloglevel", "2")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, subparsers = build_parser()
    name = command_of(argv, list(COMMANDS))
    previous = _exit_cleanly_on_sigterm()
    try:
        config_file = config_path_of(argv) if name else None
        if config_file:
            apply_config_file(subparsers[name], COMMANDS[name].CONFIG, config_file)
        args = parser.parse_args(argv)
        module = COMMANDS[args.command]
        return int(module.run(config_from_namespace(module.CONFIG, args)) or 0)
    except ConfigError as exc:  # names the field: say the flag
        print(f"rdface {name}: error: {flag_message(COMMANDS[name].CONFIG, exc)}", file=sys.stderr)
        return 2
    except RDFaceError as exc:
        print(f"rdface {name or 'error'}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rdface {name}: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

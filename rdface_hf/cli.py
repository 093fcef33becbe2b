"""The ``rdface`` command line: one module per command, flags made from configs.

Each command is a module in :mod:`rdface_hf.commands` with ``NAME``, ``HELP``,
``CONFIG`` (its :class:`~rdface_hf._config.StageConfig`) and ``run(config)``.
It is registered in :data:`COMMANDS` (name -> module path and one-line help), and
imported only when it runs or its ``--help`` is asked, so that ``rdface --help``
imports no stage. The same commands run as ``python -m rdface_hf.cli <command>``
and ``accelerate launch -m rdface_hf.cli <command>``.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

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
from ._errors import RDFaceError, one_line
from ._version import __version__

# Every command, in the order `rdface --help` lists them (the pipeline's order): name -> (module, one-line help).
# A new command: add its page rdface_hf/commands/<name>.py (NAME, HELP, CONFIG, run) and an entry here;
# the help here equals the page's HELP (tests/test_layout.py checks it).
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": (
        "rdface_hf.commands.simulate",
        "write a simulated raw release in RDFace's layout (rd_images/, disease_images.csv, phenotypes.json)",
    ),
    "build": (
        "rdface_hf.commands.build",
        "validate a raw release and write a Hub-layout dataset folder",
    ),
    "publish": (
        "rdface_hf.commands.publish",
        "upload a build to a private, gated Hub dataset repo",
    ),
    "train-classifier": (
        "rdface_hf.commands.train_classifier",
        "fine-tune an image classifier per fold (best epoch on validation, scored once on the fixed test split)",
    ),
    "probe": (
        "rdface_hf.commands.probe",
        "frozen-embedding and landmark-geometry baselines per fold "
        "(same folds, metrics and summary as train-classifier)",
    ),
    "train-lora": (
        "rdface_hf.commands.train_lora",
        "train one LoRA DreamBooth adapter per condition (all in one launch, leak-free)",
    ),
    "train-fastgan": (
        "rdface_hf.commands.train_fastgan",
        "train a FastGAN (class-conditional or pooled) on the training images of one fold",
    ),
    "generate": (
        "rdface_hf.commands.generate",
        "generate synthetic faces (lora, fastgan or morph) as a synthetic set with provenance",
    ),
    "filter": (
        "rdface_hf.commands.filter",
        "score a synthetic set against one fold's real training faces and keep the best (leak-free)",
    ),
    "merge": (
        "rdface_hf.commands.merge",
        "merge one fold's real training split with the kept images of a filtered synthetic set",
    ),
    "audit-synthetic": (
        "rdface_hf.commands.audit_synthetic",
        "memorisation audit: each synthetic face's nearest real faces (test included) by face-identity distance",
    ),
    "report": (
        "rdface_hf.commands.report",
        "phenotype reports of faces: a vision-language model's, or measured from landmarks with HPO terms",
    ),
    "benchmark": (
        "rdface_hf.commands.benchmark",
        "run a study (models x regimes x settings x folds) into O: results.parquet, summary.md, report.html",
    ),
    "demo": (
        "rdface_hf.commands.demo",
        "simulate an RDFace-shaped release, build it, load its folds and print a summary",
    ),
}


def command(name: str) -> ModuleType:
    """The page of command ``name`` (imported now: its config and whatever that imports)."""
    return importlib.import_module(COMMANDS[name][0])


def build_parser(selected: Sequence[str] | None = None) -> tuple[TopParser, dict]:
    """The top-level parser and each command's sub-parser; only the ``selected``
    commands (default: all) get their flags, which imports their configs."""
    parser = TopParser(prog="rdface", description="rdface: rare-disease facial image analysis, Hugging Face native")
    parser.add_argument("--version", action="version", version=f"rdface_hf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ConfigParser)
    sub.required = True
    subparsers = {}
    for name, (_, help) in COMMANDS.items():
        if selected is None or name in selected:
            module = command(name)
            description = getattr(module, "DESCRIPTION", None)
            subparsers[name] = add_command(sub, name, module.CONFIG, help=help, description=description)
        else:
            subparsers[name] = sub.add_parser(name, help=help)
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
    name = command_of(argv, list(COMMANDS))
    parser, subparsers = build_parser([name] if name else [])
    previous = _exit_cleanly_on_sigterm()
    try:
        config_file = config_path_of(argv) if name else None
        if config_file:
            apply_config_file(subparsers[name], command(name).CONFIG, config_file)
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the command's parser: `rdface simulate: error: ...`
            subparsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
        module = command(args.command)
        return int(module.run(config_from_namespace(module.CONFIG, args)) or 0)
    except ConfigError as exc:  # names the field: say the flag
        print(one_line(f"rdface {name}: error: {flag_message(command(name).CONFIG, exc)}"), file=sys.stderr)
        return 2
    except RDFaceError as exc:
        print(one_line(f"rdface {name or 'error'}: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rdface {name}: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

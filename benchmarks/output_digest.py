"""Byte-identity of `rdface simulate` and `rdface build` output: a tree digest per stage.

    python benchmarks/output_digest.py                       # default release (seed 0), 2 workers
    python benchmarks/output_digest.py --conditions 12 --seed 3

Runs the commands through the CLI (the interface that a refactor must keep),
then prints one JSON line with the sha256 of every output tree (relative path
and content of every file). Equal digests before and after a change mean the
change did not alter a single output byte; equal ``*_data_sha256`` digests mean that
only the saved configs and the card (provenance) changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def tree_digest(root: Path, *, data_only: bool = False) -> str:
    """sha256 over every file's relative path and bytes; ``data_only`` leaves out the
    saved configs (``*_config.json``) and the card (``README.md``), which record provenance.
    The output guard's manifest (``.rdface_manifest.json``: names and sizes of the files
    below) is bookkeeping, left out so the digests stay comparable across versions."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".rdface_manifest.json"):
        if data_only and (path.name.endswith("_config.json") or path.name == "README.md"):
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def rdface(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rdface_hf.cli", *args], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=103)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "built"
        rdface(
            "simulate",
            str(raw),
            "--conditions",
            str(args.conditions),
            "--seed",
            str(args.seed),
            "--workers",
            str(args.workers),
            "--preview",
        )
        rdface("build", str(raw), str(out), "--workers", str(args.workers), "--no-progress")
        print(
            json.dumps(
                {
                    "benchmark": "output_digest",
                    "conditions": args.conditions,
                    "seed": args.seed,
                    "simulate_sha256": tree_digest(raw),
                    "build_sha256": tree_digest(out),
                    "simulate_data_sha256": tree_digest(raw, data_only=True),
                    "build_data_sha256": tree_digest(out, data_only=True),
                    "files": {
                        "simulate": sum(1 for p in raw.rglob("*") if p.is_file()),
                        "build": sum(1 for p in out.rglob("*") if p.is_file()),
                    },
                }
            )
        )


if __name__ == "__main__":
    main()

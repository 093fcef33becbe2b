"""Fixtures of the dataset tests: small releases of noise images (built with
``--no-landmarks``, fast) and the ``rdface build`` command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

HEADER = ["image_name", "disease_name", "disease_abbr", "sub_category", "gene_name", "orphanet_code"]


@pytest.fixture
def noise_release(write_release, condition_row, noise_image):
    """``make(root, conditions=2, per=3, extra=None)``: a release of distinct noise images;
    ``extra`` maps extra column names to a value per row (a function of the row index)."""

    def make(root: Path, conditions: int = 2, per: int = 3, extra: dict | None = None, size: int = 64) -> Path:
        rows, images, k = [], {}, 0
        for c in range(conditions):
            for i in range(per):
                name = f"img{i}.png"
                values = {col: fn(k) for col, fn in (extra or {}).items()}
                rows.append(condition_row(f"K{c}", name, c, **values))
                images[(f"K{c}", name)] = noise_image(100 + k, size)
                k += 1
        return write_release(root, rows, images, extra_columns=tuple(extra or ()))

    return make


@pytest.fixture
def rdface_build(capsys):
    """``run(*args) -> (code, stdout, stderr lines)``: ``rdface build`` on the command line
    (no progress bars, one worker, two folds; ``--no-landmarks`` unless ``landmarks=True``)."""
    from rdface_hf.cli import main

    def run(*args, landmarks: bool = False):
        flags = ["--no-progress", "--workers", "1", "--folds", "2", *([] if landmarks else ["--no-landmarks"])]
        capsys.readouterr()
        code = main(["build", *map(str, args), *flags])
        captured = capsys.readouterr()
        out = Path(str(args[1])).absolute() if len(args) > 1 and str(args[1]).strip() else None
        if out is not None and out.name and out.parent.is_dir():
            left = [
                p.name
                for p in out.parent.iterdir()
                if p.name.startswith((f".{out.name}.partial-", f".{out.name}.old-"))
            ]
            assert not left, f"leftovers of the build: {left}"
        return code, captured.out, [line for line in captured.err.splitlines() if line.strip()]

    return run


@pytest.fixture
def read_report():
    def read(out: Path) -> list[dict]:
        with open(out / "validation_report.csv", newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    return read


@pytest.fixture
def tree():
    """``snapshot(root)``: every path under ``root`` with its kind or text (to prove nothing changed)."""

    def snapshot(root: Path) -> list[tuple[str, str]]:
        out = []
        for p in sorted(root.rglob("*")):
            if p.is_symlink():
                kind = "link"
            elif p.is_dir():
                kind = "dir"
            elif p.is_file():
                kind = p.read_bytes().hex()[:64]
            else:
                kind = "special"
            out.append((p.relative_to(root).as_posix(), kind))
        return out

    return snapshot

"""A contact sheet of a simulated release: a random sample of its images, as written.

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/sim_contact_sheet.py [--release OUT] [--out benchmarks/sim_contact_sheet.png]

Without ``--release`` it simulates the default release (seed 0) in a temporary
folder. Cells are letterboxed on white (images keep their own crop and aspect);
the PNG is palette-quantised to stay small.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def sheet(paths: list[Path], columns: int, cell: int) -> Image.Image:
    rows = (len(paths) + columns - 1) // columns
    out = Image.new("RGB", (columns * cell, rows * cell), (255, 255, 255))
    for k, path in enumerate(paths):
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((cell - 2, cell - 2), Image.LANCZOS)
            out.paste(
                im, ((k % columns) * cell + (cell - im.width) // 2, (k // columns) * cell + (cell - im.height) // 2)
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", type=Path, default=None, help="a simulated release (default: simulate one)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/sim_contact_sheet.png"))
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--columns", type=int, default=8)
    ap.add_argument("--cell", type=int, default=112)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rdface-sheet-") as tmp:
        release = args.release
        if release is None:
            from rdface_hf.sim import SimConfig, simulate

            release = Path(tmp) / "release"
            simulate(SimConfig(out=str(release), seed=args.seed), progress=False)
        paths = sorted((release / "rd_images").rglob("*.jpg"))
        pick = np.random.default_rng(args.seed).choice(len(paths), size=min(args.count, len(paths)), replace=False)
        img = sheet([paths[i] for i in sorted(pick)], args.columns, args.cell)
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
        args.out, optimize=True
    )
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB, {len(pick)} images of {release})")


if __name__ == "__main__":
    main()

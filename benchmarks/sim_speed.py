"""Time ``rdface simulate`` on the default 103-condition release (~456 images).

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/sim_speed.py [--workers 2] [--repeat 1]

Reports wall time (including building the identity bank and the process pool),
images per second, redraws, and checks that two runs give identical bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def main() -> None:
    from rdface_hf.sim import SimConfig, simulate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="runs (the 2nd also checks byte-identity)")
    args = ap.parse_args()
    digests = []
    with tempfile.TemporaryDirectory(prefix="rdface-sim-speed-") as tmp:
        for k in range(args.repeat):
            out = Path(tmp) / f"run{k}"
            t0 = time.perf_counter()
            res = simulate(SimConfig(out=str(out), seed=args.seed, workers=args.workers), progress=False)
            dt = time.perf_counter() - t0
            digests.append(tree_digest(out))
            print(
                f"run {k}: {res.images} images, {res.conditions} conditions, {dt:.1f} s "
                f"({res.images / dt:.1f} img/s), {res.redrawn} redrawn (near-duplicates), "
                f"face in {100 * res.face_rate:.1f} % of first draws, digest {digests[-1][:16]}",
                flush=True,
            )
    if len(digests) > 1:
        print("byte-identical across runs:", len(set(digests)) == 1)


if __name__ == "__main__":
    main()

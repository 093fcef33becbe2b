"""``rdface simulate OUT``: a simulated raw release with known phenotypes."""

from __future__ import annotations

import argparse

HELP = "write a simulated raw release in RDFace's layout (rd_images/, disease_images.csv, phenotypes.json)"


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help=HELP, description=HELP + ". Needs no gated data: faces are public-domain photos "
                              "morphed into new individuals, conditions are controlled dysmorphic features.")
    p.add_argument("out", metavar="OUT", help="output folder (must be absent or empty unless --overwrite)")
    p.add_argument("--conditions", type=int, default=103, help="number of simulated conditions (default 103, as RDFace)")
    p.add_argument("--per-condition-mean", type=float, default=round(456 / 103, 4), help="mean images per condition, 1..7 (default 4.4272: 456 images)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives byte-identical output (default 0)")
    p.add_argument("--image-size", type=int, default=256, help="image side in pixels (default 256)")
    p.add_argument("--difficulty", type=float, default=0.5, help="0 (strong features, little identity variation) .. 1 (as hard as the real data); default 0.5")
    p.add_argument("--identities", metavar="DIR", default=None, help="folder of extra face photos to morph into identities")
    p.add_argument("--preview", action="store_true", help="also write OUT/preview.png, a contact sheet of conditions x identities")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores); does not change the output")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists and is not empty")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sim import SimConfig, simulate

    config = SimConfig(
        out=args.out, conditions=args.conditions, per_condition_mean=args.per_condition_mean, seed=args.seed,
        image_size=args.image_size, difficulty=args.difficulty, identities=args.identities, preview=args.preview,
        workers=args.workers, overwrite=args.overwrite,
    )
    result = simulate(config)
    print(f"simulated {result.images} images of {result.conditions} conditions into {result.out} "
          f"in {result.seconds:.1f} s ({result.redrawn} redrawn to avoid near-duplicates)")
    return 0

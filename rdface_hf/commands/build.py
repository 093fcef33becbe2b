"""rdface build RAW OUT: validated Hub-layout dataset folder."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="validate a raw release and write a Hub-layout dataset folder",
        description="Validate RAW (rd_images/<abbr>/<image>, disease_images.csv) and write OUT: "
        "parquet shards, fold configs, dataset card and validation_report.csv.",
    )
    p.add_argument("raw", metavar="RAW", help="raw release folder")
    p.add_argument("out", metavar="OUT", help="output dataset folder (must not exist, or be empty)")
    p.add_argument("--test-fraction", type=float, default=0.25, help="fixed test fraction (default 0.25)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    p.add_argument("--no-face-check", action="store_true", help="keep images where no face is found (with a warning)")
    p.add_argument("--no-landmarks", action="store_true", help="do not run the landmarker (implies --no-face-check)")
    p.add_argument("--landmarker", metavar="PATH", help="face_landmarker.task (default: $RDFACE_FACE_LANDMARKER, cache)")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    from rdface_hf.builder import BuildConfig, build_dataset

    config = BuildConfig(
        raw=args.raw, out=args.out, test_fraction=args.test_fraction, folds=args.folds, seed=args.seed,
        face_check=not (args.no_face_check or args.no_landmarks), landmarks=not args.no_landmarks,
        landmarker_model=args.landmarker, workers=args.workers, overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    result = build_dataset(config)
    parts = ", ".join(f"{k} {v}" for k, v in result.partitions.items())
    print(
        f"built {result.out}: {result.accepted + result.warnings} images of {result.conditions} conditions "
        f"({result.warnings} with warnings, {result.rejected} rows rejected; see validation_report.csv); {parts}",
        file=sys.stdout,
    )
    if result.folds_without_validation:
        empty = ", ".join(f"fold_{k}" for k in result.folds_without_validation)
        print(f"rdface build: warning: {empty} have no validation split (too few images for {args.folds} folds)",
              file=sys.stderr)
    return 0

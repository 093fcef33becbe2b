"""rdface demo: the pipeline on the embedded simulator default, CPU, minutes."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="simulate an RDFace-shaped release, build it, load its folds and print a summary",
        description="Runs offline on the phenotype simulator (no gated data): simulate -> build -> load_dataset.",
    )
    p.add_argument("--output-dir", default="demo_output", help="where to write (default ./demo_output; replaced)")
    p.add_argument("--conditions", type=int, default=103, help="simulated conditions (default 103, as RDFace)")
    p.add_argument("--per-condition-mean", type=float, default=None, help="mean images per condition (default as RDFace)")
    p.add_argument("--difficulty", type=float, default=None, help="simulator difficulty 0..1")
    p.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rdface_hf.demo import DemoConfig, run_demo

    config = DemoConfig(
        output_dir=args.output_dir, conditions=args.conditions, per_condition_mean=args.per_condition_mean,
        difficulty=args.difficulty, seed=args.seed, workers=args.workers,
    )
    print(run_demo(config))
    return 0

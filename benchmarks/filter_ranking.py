"""Ranking quality of the filter's scores on the simulator, where the truth is known.

For each difficulty: ``rdface simulate`` (103 conditions, seed 0) -> ``rdface build``
(seed 42) -> fresh patients drawn with other seeds (``rdface_hf.sim.draw.draw_patients``):

- positives: a fresh patient of condition c, labelled c;
- negatives: the same fresh patients labelled with another condition (wrong phenotype),
  and unaffected patients labelled with a condition (no phenotype).

Every row goes through ``filter_synthetic`` (``--mode threshold`` with a threshold that
keeps everything, prototypes from fold ``--fold``'s training split) once per score, and
the AUROC of each score separating positives from negatives is reported (overall, against
wrong-condition negatives only, against unaffected negatives only).

No pretrained vision backbone can be downloaded here: unless ``--embedding-model`` names
one (a local folder or a cached Hub id), the ``embedding`` row uses a ViT-Tiny-shaped
backbone with seeded *random* weights, i.e. random image features.

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task HF_HUB_OFFLINE=1 \\
        python benchmarks/filter_ranking.py --difficulties 0.25 0.5 0.75

Prints one JSON line per difficulty, then one JSON line with everything and a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import tempfile
import time
from pathlib import Path

SCORES = ("landmarks", "paper5pt", "embedding")


def random_backbone(folder: Path) -> str:
    """A ViT-Tiny-shaped backbone (192 wide, 12 layers, 224 px) with seeded random weights."""
    import torch
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    if not (folder / "config.json").is_file():
        torch.manual_seed(0)
        config = ViTConfig(hidden_size=192, num_hidden_layers=12, num_attention_heads=3, intermediate_size=768)
        ViTModel(config, add_pooling_layer=False).save_pretrained(folder)
        ViTImageProcessor().save_pretrained(folder)
    return str(folder)


def make_release(work: Path, difficulty: float, conditions: int) -> tuple[Path, Path, float]:
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate

    raw, built = work / "raw", work / "built"
    start = time.perf_counter()
    if not (built / "README.md").is_file():
        simulate(SimConfig(out=str(raw), difficulty=difficulty, seed=0, conditions=conditions), progress=False)
        build_dataset(BuildConfig(raw=str(raw), out=str(built), seed=42, progress=False))
    return raw, built, time.perf_counter() - start


def candidate_set(work: Path, raw: Path, built: Path, per_condition: int) -> tuple[Path, list[str]]:
    """The synthetic set of positives and negatives, and each row's truth."""
    import numpy as np

    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
    from rdface_hf.sim.draw import draw_patients

    folder = work / f"candidates_{per_condition}"
    if (folder / "README.md").is_file():  # a rerun on the same --work: the same draws
        from rdface_hf.dataset.synthetic import SyntheticSet

        return folder, [json.loads(p)["truth"] for p in SyntheticSet(folder).dataset["params"]]
    rd = RDFaceDataset(built)
    index = {abbr: i for i, abbr in enumerate(rd.abbreviations)}
    patients = draw_patients(raw, per_condition=per_condition, seed=1001)
    controls = draw_patients(raw, per_condition=1, seed=2002, affected=False)
    rng = np.random.default_rng(0)
    truth = []
    writer = SyntheticSetWriter(folder, rd.class_names, shard_size=256)

    def add(pixels, label, kind, seed):
        writer.add(SyntheticImage(image=pixels, condition=int(label), generator="simulate", source="draw_patients",
                                  seed=seed, trained_on="none", params={"truth": kind}))  # fmt: skip
        truth.append(kind)

    for k, p in enumerate(patients):
        true = index[p.disease_abbr]
        add(p.pixels, true, "right", k)
        add(p.pixels, (true + rng.integers(1, rd.num_classes)) % rd.num_classes, "wrong", k)
    for k, p in enumerate(controls):
        add(p.pixels, k % rd.num_classes, "unaffected", 100000 + k)
    writer.finish(synthetic_card(title="ranking benchmark", description="simulated candidates",
                                 generator="simulate", source_dataset="sim", gated=False))  # fmt: skip
    return folder, truth


def aurocs(scores, truth) -> dict:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    s = np.array([np.nan if v is None else v for v in scores], dtype=float)
    t = np.array(truth)
    s = np.where(np.isnan(s), -np.inf, s)  # a rejected row (no face) ranks last
    out = {}
    for name, negatives in (("all", ("wrong", "unaffected")), ("wrong", ("wrong",)), ("unaffected", ("unaffected",))):
        rows = (t == "right") | np.isin(t, negatives)
        out[name] = round(float(roc_auc_score(t[rows] == "right", s[rows])), 4)
    return out


def run_difficulty(args, difficulty: float, root: Path, backbone: str) -> dict:
    from datasets import load_dataset

    from rdface_hf.filter.config import FilterConfig
    from rdface_hf.filter.run import filter_synthetic

    work = root / f"d{difficulty}"
    raw, built, made = make_release(work, difficulty, args.conditions)
    candidates, truth = candidate_set(work, raw, built, args.per_condition)
    result = {"difficulty": difficulty, "fold": args.fold, "candidates": len(truth),
              "positives": truth.count("right"), "simulate_build_s": round(made, 1)}  # fmt: skip
    for score in args.scores:
        out = work / f"filtered_{score}_fold{args.fold}"
        config = FilterConfig(dataset=str(built), synthetic=str(candidates), output_dir=str(out), fold=args.fold,
                              score=score, mode="threshold", threshold=-1e30, embedding_model=backbone,
                              landmark_cache=str(root / "landmark_cache"), overwrite=True, progress=False)  # fmt: skip
        run = filter_synthetic(config)
        ds = load_dataset(str(out), split="train")
        result[score] = {**aurocs(ds["score"], truth), "no_face": run.no_face, "seconds": round(run.seconds, 1)}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--difficulties", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    ap.add_argument("--conditions", type=int, default=103)
    ap.add_argument("--per-condition", type=int, default=2, help="fresh patients per condition")
    ap.add_argument("--fold", default="0", help="prototypes from this fold's training split ('test': all non-test)")
    ap.add_argument("--scores", nargs="+", choices=SCORES, default=list(SCORES))
    ap.add_argument("--embedding-model", default=None, help="a vision backbone (default: random ViT-Tiny shape)")
    ap.add_argument("--work", type=Path, default=None, help="keep the releases here (reused on a rerun)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rdface-filter-bench-") as tmp:
        root = args.work or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        backbone = args.embedding_model or (
            random_backbone(root / "random_vit_tiny") if "embedding" in args.scores else ""
        )
        results = [run_difficulty(args, d, root, backbone) for d in args.difficulties]
    summary = {"date": datetime.date.today().isoformat(), "embedding_model": args.embedding_model or "random ViT-Tiny",
               "results": results}  # fmt: skip
    print(json.dumps(summary))
    print(f"\n| difficulty | fold | {' | '.join(args.scores)} (AUROC: all / vs wrong / vs unaffected) |")
    print("|---|---|" + "---|" * len(args.scores))
    for r in results:
        cells = " | ".join(f"{r[s]['all']:.3f} / {r[s]['wrong']:.3f} / {r[s]['unaffected']:.3f}" for s in args.scores)
        print(f"| {r['difficulty']:.2f} | {args.fold} | {cells} |")


if __name__ == "__main__":
    main()

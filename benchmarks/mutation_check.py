"""Protocol mutation check: break the leak-free protocol on purpose and see which tests notice.

Copies ``rdface_hf/``, ``tests/`` and ``pyproject.toml`` to a temporary folder, then for each
mutation below replaces one exact piece of package code (``old`` -> ``new``), runs only the tests
named with it (``pytest -x``) and puts the file back. A mutation is

- ``caught`` when its tests fail (what we want),
- ``survived`` when they pass (a leak the suite cannot see),
- ``stale`` when its ``old`` text is no longer in the file exactly once (update the list:
  never counted as caught), ``timeout`` when its tests ran past ``--timeout``.

First the union of the selected tests runs unmutated (``--no-baseline`` skips it): a mutation
only counts as caught if its tests pass without it. Prints one line per mutation, then one JSON
line. Exit status 0 only when every mutation is caught.

    PYTHONPATH=. python benchmarks/mutation_check.py [--only NAME ...] [--timeout 600] [--list] [--show]

(set ``RDFACE_FACE_LANDMARKER`` as for the tests; CI does not run it, but
``tests/test_mutation_check.py`` checks that every ``old`` text still exists.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONCAT = '__import__("datasets").concatenate_datasets'


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the repository root
    old: str  # exact text, present exactly once in the file
    new: str
    tests: tuple[str, ...]  # pytest node ids, relative to the repository root


PROTOCOL = "tests/classify/test_protocol.py::test_changing_test_images_changes_neither_selection_nor_weights"
PROBE = "tests/classify/test_probe.py::test_probe_selection_never_sees_the_test_split"
FILTER_TEST = "tests/filter/test_filter.py::test_output_is_byte_identical_when_test_images_change"
SELECTION = "tests/classify/test_selection.py"
PROTOTYPES = "tests/filter/test_prototypes.py"

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "classifier: test split in the training rows",
        "rdface_hf/classify/data.py",
        "    train = dataset.training_split(fold)\n",
        f"    train = {CONCAT}([dataset.training_split(fold), dataset.test])\n",
        (PROTOCOL,),
    ),
    Mutation(
        "classifier: epoch selection on the test split",
        "rdface_hf/classify/classifier.py",
        "        val_x=bank.take(data.validation.image_ids).to(device),\n        val_y=data.validation.labels,\n",
        '        val_x=(bank.add(data.test.rows, desc="test"), bank.take(data.test.image_ids))[1].to(device),\n'
        "        val_y=data.test.labels,\n",
        (PROTOCOL,),
    ),
    Mutation(
        "classifier: saves the last epoch's weights, not the selected one's",
        "rdface_hf/classify/classifier.py",
        "    model.load_state_dict(best)\n",
        "    pass  # the last epoch's weights stay\n",
        (f"{SELECTION}::test_saved_weights_are_the_selected_epochs_not_the_last",),
    ),
    Mutation(
        "summary: population SD (ddof 0)",
        "rdface_hf/classify/scoring.py",
        "arr.std(ddof=1)",
        "arr.std(ddof=0)",
        (f"{SELECTION}::test_summary_sd_is_the_sample_sd",),
    ),
    Mutation(
        "probe: C chosen on the test split",
        "rdface_hf/classify/probe.py",
        '        (vx, vp) = feats["validation"]\n'
        '        c, model, trials = _choose_c(tx, ty, vx, labels["validation"][vp],',
        '        (vx, vp) = feats["test"]\n        c, model, trials = _choose_c(tx, ty, vx, labels["test"][vp],',
        (PROBE,),
    ),
    Mutation(
        "probe: Procrustes template fitted with test landmarks",
        "rdface_hf/classify/features.py",
        '        train, template = shape_features(points["train"])',
        '        train, template = shape_features(points["train"] + points["test"])\n'
        '        train = train[: len(points["train"])]',
        (PROBE,),
    ),
    Mutation(
        "geometry baseline: test landmarks in the fit",
        "rdface_hf/classify/geometry.py",
        "    template, model = fit_geometry_baseline(list(lm_train), list(y_train))",
        "    template, model = fit_geometry_baseline(list(lm_train) + list(lm_test), list(y_train) + list(y_test))",
        ("tests/classify/test_geometry.py::test_test_split_never_reaches_fitting",),
    ),
    Mutation(
        "filter: test split in the prototypes",
        "rdface_hf/filter/inputs.py",
        "    rows = dataset.training_split(fold).cast_column(",
        f"    rows = {CONCAT}([dataset.training_split(fold), dataset.test]).cast_column(",
        (f"{FILTER_TEST}[landmarks]",),
    ),
    Mutation(
        "filter: prototypes from train plus validation",
        "rdface_hf/filter/inputs.py",
        "    rows = dataset.training_split(fold).cast_column(",
        f'    rows = {CONCAT}([dataset.training_split(fold), dataset.split("validation", int(fold))]).cast_column(',
        (
            f"{PROTOTYPES}::test_prototypes_use_the_folds_training_split_only",
            f"{PROTOTYPES}::test_changing_validation_images_changes_no_output_byte",
        ),
    ),
    Mutation(
        "filter: prototypes not shrunk by n / (n + 1)",
        "rdface_hf/filter/scores.py",
        "        weight = counts / (counts + MEAN_SHRINK)",
        "        weight = np.minimum(counts, 1.0)",
        (PROTOTYPES + "::test_prototypes_are_shrunk_by_n_over_n_plus_one",),
    ),
    Mutation(
        "train-lora: test images reach the adapter",
        "rdface_hf/generate/lora/train.py",
        "    split = rd.training_split(config.fold)",
        f"    split = {CONCAT}([rd.training_split(config.fold), rd.test])",
        ("tests/generate/lora/test_train.py::test_leak_free_test_images_never_reach_an_adapter",),
    ),
    Mutation(
        "train-fastgan: test images reach the model",
        "rdface_hf/generate/fastgan/data.py",
        "    split = dataset.training_split(fold)\n",
        f"    split = {CONCAT}([dataset.training_split(fold), dataset.test])\n",
        ("tests/generate/fastgan/test_train.py::test_leak_free_the_test_split_never_reaches_the_model",),
    ),
    Mutation(
        "morph: test faces reach a morph",
        "rdface_hf/generate/morph/generate.py",
        "        split = dataset.training_split(fold)\n",
        f"        split = {CONCAT}([dataset.training_split(fold), dataset.test])\n",
        ("tests/generate/morph/test_generate.py::test_leak_free_the_test_split_never_reaches_a_morph",),
    ),
    Mutation(
        "report: test faces in the z-score reference",
        "rdface_hf/reports/inputs.py",
        "    train = rd.training_split(fold)\n    points = rd.landmarks(train)",
        f"    train = {CONCAT}([rd.training_split(fold), rd.test])\n    points = rd.landmarks(train)",
        ("tests/reports/test_landmark_reports.py::test_z_scores_never_see_the_test_split",),
    ),
    Mutation(
        "--extra-train: rows made from test images accepted",
        "rdface_hf/classify/data.py",
        "        from_test = sum(1 for p in parents if p & test_ids)\n",
        "        from_test = 0\n",
        ("tests/classify/test_extra_train.py",),
    ),
)


def apply(text: str, mutation: Mutation) -> str | None:
    """The mutated text, or None when ``old`` is not in ``text`` exactly once (stale)."""
    if text.count(mutation.old) != 1:
        return None
    return text.replace(mutation.old, mutation.new)


def stale(root: Path = ROOT) -> list[str]:
    """The mutations whose ``old`` text is not in their file exactly once."""
    out = []
    for m in MUTATIONS:
        path = root / m.file
        if not path.is_file() or apply(path.read_text(encoding="utf-8"), m) is None:
            out.append(m.name)
    return out


def _copy(work: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("rdface_hf", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")


def _pytest(work: Path, tests: tuple[str, ...], timeout: float, show: bool = False) -> str:
    """``passed``, ``failed`` or ``timeout`` (no test collected counts as failed: a wrong node id);
    ``show``: print the failure lines (``E ...``), to see that a test, not a crash, caught it."""
    env = {**os.environ, "PYTHONPATH": str(work), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if show and done.returncode != 0:
        print("\n".join([line for line in done.stdout.splitlines() if line.startswith("E ")][:6]), flush=True)
    return "passed" if done.returncode == 0 else "failed"


def run_one(work: Path, mutation: Mutation, timeout: float, show: bool = False) -> str:
    path = work / mutation.file
    original = path.read_text(encoding="utf-8")
    mutated = apply(original, mutation)
    if mutated is None:
        return "stale"
    path.write_text(mutated, encoding="utf-8")
    try:
        result = _pytest(work, mutation.tests, timeout, show)
    finally:
        path.write_text(original, encoding="utf-8")
    return {"passed": "survived", "failed": "caught"}.get(result, result)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", default=None, help="run the mutations whose name contains one of these")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of the selected tests")
    ap.add_argument("--list", action="store_true", help="list the mutations and stop")
    ap.add_argument("--show", action="store_true", help="print each caught mutation's failure lines")
    args = ap.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or any(o.lower() in m.name.lower() for o in args.only)]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.file} -> {' '.join(m.tests)}")
        return 0
    start, results = time.perf_counter(), {}
    with tempfile.TemporaryDirectory(prefix="rdface-mutants-") as tmp:
        work = Path(tmp)
        _copy(work)
        if not args.no_baseline:
            union = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            baseline = _pytest(work, union, args.timeout * 2)
            print(f"baseline (unmutated, {len(union)} test selections): {baseline}", flush=True)
            if baseline != "passed":
                print(json.dumps({"baseline": baseline, "commit": _commit()}))
                return 1
        for m in chosen:
            results[m.name] = run_one(work, m, args.timeout, args.show)
            print(f"{results[m.name]:>8}  {m.name}", flush=True)
    groups = {k: [n for n, r in results.items() if r == k] for k in ("caught", "survived", "stale", "timeout")}
    summary = {"mutations": len(results), **{k: len(v) for k, v in groups.items()},
               "not_caught": [n for n, r in results.items() if r != "caught"], "commit": _commit(),
               "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    print(json.dumps(summary))
    return 0 if summary["caught"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Face identity (issue 19) on the simulator: embedding speed, planted-copy recall, near copies
per morph setting, and the face-identity probe beside the landmark probe.

    rdface simulate RAW && rdface build RAW D
    rdface generate --generator morph --dataset D --fold 0 --per-condition 2 --output-dir M_default
    (and --mix-max 0.5, --toward-mean 1, --caricature 1 into other folders)
    PYTHONPATH=. python benchmarks/face_identity.py --dataset D --morphs default=M_default mix_max_0.5=M2 ...
        [--probe]

Everything runs on the CPU; the near-copy threshold is calibrated on fold 0's training images
(the filter's guard), the 1st percentile of their distances to their nearest other training image.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time

import datasets
import numpy as np
from PIL import Image

from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.identity import DlibEmbedder, EmbeddingCache, embed_faces, embed_rows
from rdface_hf.dataset.landmarks import detect_landmarks
from rdface_hf.dataset.near_copies import calibrated_threshold, nearest_real, quantiles, references


def _pixels(cell) -> np.ndarray:
    with Image.open(io.BytesIO(cell["bytes"])) as im:
        return np.asarray(im.convert("RGB"))


def speed(ds: RDFaceDataset, embedder, n: int) -> dict:
    rows = ds.default()["train"].select(range(n)).cast_column("image", datasets.Image(decode=False))
    start = time.perf_counter()
    _, status = embed_rows(rows, embedder)  # no cache: every image embedded
    seconds = time.perf_counter() - start
    return {"images": n, "seconds": round(seconds, 2), "images_per_s": round(n / seconds, 2),
            "embedded": status.count("ok")}  # fmt: skip


def embed_set(images: list[np.ndarray], embedder, cache) -> np.ndarray:
    faces = detect_landmarks(images, workers=2, progress=False)
    emb, _ = embed_faces(images, faces, embedder, cache=cache)
    return emb


def copies_of(train, k: int, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    out, kinds = [], []
    for j, i in enumerate(rng.choice(len(train), size=k, replace=False)):
        px = _pixels(train[int(i)]["image"])
        kind = ("exact", "flip", "recrop", "recompress")[j % 4]
        if kind == "flip":
            px = np.ascontiguousarray(px[:, ::-1])
        elif kind == "recrop":
            h, w = px.shape[:2]
            px = np.asarray(Image.fromarray(px[h // 20 : h - h // 20, w // 25 : w - w // 20]).resize((w, h)))
        elif kind == "recompress":
            buf = io.BytesIO()
            Image.fromarray(px).save(buf, format="JPEG", quality=70)
            px = _pixels({"bytes": buf.getvalue()})
        out.append(px)
        kinds.append(kind)
    return out, kinds


def morphs(path: str) -> list[np.ndarray]:
    from pathlib import Path

    import pyarrow.parquet as pq

    cells = []
    for shard in sorted(Path(path).glob("data/train-*.parquet")):
        cells += pq.read_table(shard, columns=["image"]).column("image").to_pylist()
    return [_pixels(c) for c in cells]


def probe(dataset: str, model: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "rdface_hf.cli", "probe", "--dataset", dataset, "--model", model, "--fold", "all",
               "--output-dir", f"{tmp}/p", "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        with open(f"{tmp}/p/summary.json") as fh:
            summary = json.load(fh)
    return {r["name"]: {k: round(100 * r["test"][k]["mean"], 2) for k in ("top_1", "top_5")} |
            {"top_1_sd": round(100 * r["test"]["top_1"]["sd"], 2)} for r in summary["rows"]} | {
            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--morphs", nargs="*", default=[], help="NAME=FOLDER of morph sets made from fold 0")
    ap.add_argument("--speed-images", type=int, default=100)
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--cache", help="embedding cache folder (default: a fresh temporary one)")
    args = ap.parse_args()
    ds, embedder = RDFaceDataset(args.dataset), DlibEmbedder()
    cache = EmbeddingCache(args.cache or tempfile.mkdtemp(prefix="face-bench-"), embedder.digest)
    report: dict = {"speed": speed(ds, embedder, args.speed_images) if args.speed_images else None}
    print(json.dumps(report), flush=True)
    train = ds.training_split("0").cast_column("image", datasets.Image(decode=False))
    refs = references(*(embed_rows(train, embedder, cache=cache, mirror=m)[0] for m in (False, True)))
    threshold, nn = calibrated_threshold(refs)
    report["threshold"] = {"value": round(threshold, 4), "training_nn": quantiles(nn)}
    sets = dict(s.split("=", 1) for s in args.morphs)
    for name, folder in sets.items():
        emb = embed_set(morphs(folder), embedder, cache)
        _, dist = nearest_real(emb, refs)
        d = dist[:, 0]
        near = d < threshold
        report[f"morph {name}"] = {"images": len(d), "near_copies": int(near.sum()),
                                   "share": round(float(near.mean()), 4), "distance": quantiles(d)}  # fmt: skip
        if name == "default":
            planted, kinds = copies_of(train, max(4, round(0.05 * len(d) / 0.95)))
            pd = nearest_real(embed_set(planted, embedder, cache), refs)[1][:, 0]
            report["planted"] = {"copies": len(pd), "recall": round(float((pd < threshold).mean()), 4),
                                 "false_flags": round(float((d < threshold).mean()), 4),
                                 "missed": [k for k, v in zip(kinds, pd) if not v < threshold],
                                 "copy_distance": quantiles(pd)}  # fmt: skip
        print(json.dumps({k: report[k] for k in list(report)[-2:]}), flush=True)
    if args.probe:
        report["probe"] = {m: probe(args.dataset, m) for m in ("face-identity", "landmarks")}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

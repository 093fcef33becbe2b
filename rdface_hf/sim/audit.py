"""Shortcut audit: can a condition be told from anything but the face?

On a built (simulated or real) dataset, fit simple models on the non-test
images and score top-1 on the fixed test split, from descriptors that carry no
facial phenotype:

- ``pixels32``: the whole image at 32x32 RGB;
- ``colour_hist``: 8-bin histograms of R, G, B and of saturation;
- ``corners``: mean colour of the four corners (1/8 of each side);
- ``image_stats``: width, height, aspect, per-channel mean and SD, saturation,
  sharpness (Laplacian variance), JPEG blockiness, border uniformity,
  greyscale;
- ``raw_file`` (when the release folder is given): each image file as the
  release wrote it: byte size, width, height, format and the JPEG quantisation
  tables (zeros for other formats);
- ``raw_size``: the file's width and height alone;

each with a standardised logistic regression, a 1-nearest-neighbour classifier
and a random forest (nonlinear: it finds thresholds and interactions the linear
model and 1-NN miss). With ``--source-style 0`` every score should sit near chance; with
``--source-style 1`` the shared per-condition styles make them far above it.

The metadata columns are audited too: ``identity`` and ``age`` (1-NN on their
values) must predict no condition, and ``disease_name`` must not say which
features a condition has (no feature word in it; a character n-gram model of
the names predicts each feature no better than chance, condition by condition).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

DESCRIPTORS = ("pixels32", "colour_hist", "corners", "image_stats")
RAW_DESCRIPTORS = ("raw_file", "raw_size")
MODELS = ("logreg", "knn1", "forest")
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")


def _as_rgb(image) -> np.ndarray:
    if isinstance(image, (bytes, bytearray)):
        image = Image.open(io.BytesIO(image))
    if isinstance(image, Image.Image):
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[..., :3])


def _blockiness(grey: np.ndarray) -> float:
    """Mean jump across 8-pixel block boundaries over the mean jump elsewhere (JPEG artefacts)."""
    dx = np.abs(np.diff(grey, axis=1))
    if dx.shape[1] < 16:
        return 1.0
    at = dx[:, 7::8].mean()
    return float(at / (dx.mean() + 1e-6))


def _stats(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    f = rgb.astype(np.float32)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    edge = np.concatenate(
        [f[:2].reshape(-1, 3), f[-2:].reshape(-1, 3), f[:, :2].reshape(-1, 3), f[:, -2:].reshape(-1, 3)]
    )
    return np.array([w, h, w / h, *f.mean(axis=(0, 1)), *f.std(axis=(0, 1)), hsv[..., 1].mean(),
                     float(cv2.Laplacian(grey, cv2.CV_32F).var()), _blockiness(grey), float(edge.std(axis=0).mean()),
                     float(np.abs(f[..., 0] - f[..., 1]).mean() + np.abs(f[..., 1] - f[..., 2]).mean())])  # fmt: skip


def describe(image) -> dict[str, np.ndarray]:
    """The shortcut descriptors of one image (array, PIL image or encoded bytes)."""
    rgb = _as_rgb(image)
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255.0
    sat = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1]
    hists = [np.histogram(c, bins=8, range=(0, 256))[0] for c in (rgb[..., 0], rgb[..., 1], rgb[..., 2], sat)]
    hist = np.concatenate(hists).astype(np.float32) / (h * w)
    ch, cw = max(1, h // 8), max(1, w // 8)
    corners = [rgb[:ch, :cw], rgb[:ch, -cw:], rgb[-ch:, :cw], rgb[-ch:, -cw:]]
    corner = np.concatenate([c.reshape(-1, 3).mean(axis=0) for c in corners]).astype(np.float32) / 255.0
    return {"pixels32": small, "colour_hist": hist, "corners": corner, "image_stats": _stats(rgb)}


def describe_file(path) -> dict[str, np.ndarray]:
    """The raw-file descriptors of one image file: ``raw_file`` (byte size, width, height,
    format one-hot, the first two JPEG quantisation tables, 64 values each, zeros when absent)
    and ``raw_size`` (width, height)."""
    path = Path(path)
    with Image.open(path) as im:
        w, h, fmt = im.width, im.height, (im.format or "").upper()
        tables = getattr(im, "quantization", None) or {}
    quant = np.zeros(128, np.float32)
    for i, key in enumerate(sorted(tables)[:2]):
        values = np.asarray(list(tables[key])[:64], np.float32)
        quant[64 * i : 64 * i + len(values)] = values
    onehot = np.array([fmt == f for f in FORMATS], np.float32)
    raw = np.concatenate([[path.stat().st_size, w, h], onehot, quant]).astype(np.float32)
    return {"raw_file": raw, "raw_size": np.array([w, h], np.float32)}


def _models():
    return {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        "knn1": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1)),
        "forest": RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1),
    }


def top1(model, x_train, y_train, x_test, y_test) -> float:
    with threadpool_limits(1):  # small problems: threads only fight over the cores
        model.fit(x_train, y_train)
        return float((model.predict(x_test) == np.asarray(y_test)).mean())


def image_audit(train_images: Sequence, y_train, test_images: Sequence, y_test, describe=describe,
                names: Sequence[str] = DESCRIPTORS) -> dict[str, dict[str, float]]:  # fmt: skip
    """Top-1 on the test images of every descriptor x model (``describe`` maps an image, or a
    file path for :func:`describe_file`, to its descriptors)."""
    d_train = [describe(im) for im in train_images]
    d_test = [describe(im) for im in test_images]
    out: dict[str, dict[str, float]] = {}
    for name in names:
        xa = np.stack([d[name] for d in d_train])
        xb = np.stack([d[name] for d in d_test])
        out[name] = {m: top1(model, xa, y_train, xb, y_test) for m, model in _models().items()}
    return out


def _hex_value(token: str) -> float:
    digits = "".join(ch for ch in str(token) if ch in "0123456789abcdefABCDEF")
    return float(int(digits[-12:], 16)) if digits else 0.0


def _permutation_p(x_train, y_train, x_test, y_test, observed: float, rounds: int = 200) -> float:
    """How often 1-NN with shuffled training labels scores at least ``observed`` (the null of "no signal")."""
    rng = np.random.default_rng(0)
    y_train = np.asarray(y_train)
    hits = sum(
        top1(KNeighborsClassifier(n_neighbors=1), x_train, rng.permutation(y_train), x_test, y_test) >= observed
        for _ in range(rounds)
    )
    return (1 + hits) / (1 + rounds)


def metadata_audit(train_rows: dict[str, list], y_train, test_rows: dict[str, list], y_test) -> dict[str, dict]:
    """Top-1 of 1-NN on each metadata column's value (``identity`` as its hex number, ``age`` as a
    number), with a permutation p-value (small p: the column carries the condition)."""
    out = {}
    for column, value in (("identity", _hex_value), ("age", float)):
        if column not in train_rows or column not in test_rows:
            continue
        xa = np.array([[value(v)] for v in train_rows[column]])
        xb = np.array([[value(v)] for v in test_rows[column]])
        score = top1(KNeighborsClassifier(n_neighbors=1), xa, y_train, xb, y_test)
        out[column] = {"top1": score, "p": _permutation_p(xa, y_train, xb, y_test, score)}
    return out


def name_audit(names: Sequence[str], features: Sequence[Sequence[str]], catalogue: Sequence[str]) -> dict:
    """Does a condition's name tell its features? ``names`` and ``features`` per condition.

    Returns the feature words found in names, and the mean balanced accuracy (over
    features present in at least 4 conditions) of a character n-gram logistic
    regression predicting each feature from the name, cross-validated over
    conditions (4 folds; 0.5 = chance).
    """
    lowered = [n.lower() for n in names]
    words = sorted({f for f in catalogue for n in lowered if f.lower() in n})
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(names)
    scores = []
    for feature in catalogue:
        y = np.array([feature in fs for fs in features])
        if 4 <= y.sum() <= len(y) - 4:
            cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
            model = LogisticRegression(max_iter=1000, solver="liblinear", class_weight="balanced")
            with threadpool_limits(1):
                pred = cross_val_predict(model, x, y, cv=cv)
            scores.append(balanced_accuracy_score(y, pred))
    return {"feature_words_in_names": words, "feature_balanced_accuracy": float(np.mean(scores)) if scores else 0.5,
            "features_tested": len(scores)}  # fmt: skip


def _columns(split, release_rows: dict[str, dict] | None) -> dict[str, list]:
    """``identity`` and ``age`` of a split: its own columns, else the release CSV's (by image name)."""
    out = {c: list(split[c]) for c in ("identity", "age") if c in split.column_names}
    if release_rows and "image_name" in split.column_names:
        names = list(split["image_name"])
        for c in ("identity", "age"):
            if c not in out and all(c in release_rows.get(n, {}) for n in names):
                out[c] = [release_rows[n][c] for n in names]
    return out


def _release_rows(release) -> dict[str, dict]:
    path = Path(release) / "disease_images.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["image_name"]: row for row in csv.DictReader(fh)}


def _release_files(release, split) -> list[Path] | None:
    """The release's own file of every image of a split (by its unique image name), else None."""
    if "image_name" not in split.column_names:
        return None
    found: dict[str, list[Path]] = {}
    for p in (Path(release) / "rd_images").glob("*/*"):
        found.setdefault(p.name, []).append(p)
    names = list(split["image_name"])
    return [found[n][0] for n in names] if all(len(found.get(n, ())) == 1 for n in names) else None


def shortcut_audit(dataset, release=None) -> dict:
    """The whole audit on an :class:`~rdface_hf.dataset.RDFaceDataset` (train = every
    non-test image, scored on the fixed test split). ``release``: the raw release folder,
    for the name audit (its ``phenotypes.json``) and metadata the build did not publish."""
    train, test = dataset.default()["train"], dataset.test
    y_train, y_test = dataset.labels(train), dataset.labels(test)
    rows = _release_rows(release) if release is not None else None
    result = {
        "train_images": len(train),
        "test_images": len(test),
        "classes": dataset.num_classes,
        "chance_top1": 1.0 / dataset.num_classes,
        "images": image_audit(train["image"], y_train, test["image"], y_test),
        "metadata": metadata_audit(_columns(train, rows), y_train, _columns(test, rows), y_test),
    }
    files = [_release_files(release, s) for s in (train, test)] if release is not None else [None]
    if all(f is not None for f in files):
        result["images"].update(image_audit(files[0], y_train, files[1], y_test, describe_file, RAW_DESCRIPTORS))
    truth = Path(release) / "phenotypes.json" if release is not None else None
    if truth is not None and truth.is_file():
        phenotypes = json.loads(truth.read_text(encoding="utf-8"))
        conds = phenotypes["conditions"]
        result["names"] = name_audit([c["disease_name"] for c in conds], [list(c["features"]) for c in conds],
                                     list(phenotypes["features"]))  # fmt: skip
    scores = [v for d in result["images"].values() for v in d.values()]
    result["max_image_top1"] = max(scores)
    result["max_over_chance"] = max(scores) / result["chance_top1"]
    return result

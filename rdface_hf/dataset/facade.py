"""``RDFaceDataset``: the one way every stage opens a built RDFace dataset."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from huggingface_hub import DatasetCard, snapshot_download

from .._errors import InputError, hub_error
from .build_files import (
    CARD_FILE,
    HUB_FILES,
    REPORT_FILE,  # noqa: F401  (re-exported for callers of the facade)
    SHARD_GLOB,
)
from .build_files import CONFIG_FILE as BUILD_CONFIG_FILE
from .files import refuse_special
from .folds import ALL_TRAINING, fold_problem
from .geometry import NUM_LANDMARKS

SPLITS = ("train", "validation", "test")


def config_name(fold: int | None) -> str:
    """``None`` -> ``default``; ``k`` -> ``fold_k``."""
    if fold is None:
        return "default"
    if isinstance(fold, bool) or not isinstance(fold, (int, np.integer)) or fold < 0:
        raise InputError(f"fold must be a non-negative integer, got {fold!r}")
    return f"fold_{int(fold)}"


def read_card_configs(folder: Path) -> list[str]:
    """The config names that a build folder's card declares."""
    try:
        card = DatasetCard.load(folder / CARD_FILE)
        return [c["config_name"] for c in card.data.to_dict().get("configs", []) or []]
    except Exception as exc:  # malformed YAML or card: one line, not a yaml traceback
        raise InputError(f"{folder / CARD_FILE} is not a valid dataset card ({type(exc).__name__})") from None


def snapshot(repo_id: str, *, revision: str | None = None, token: str | bool | None = None) -> str:
    """Download (or find in the Hub cache, offline too) a dataset repo's build files."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InputError(f"no such folder, and not a Hub repo id (ORG/NAME): {repo_id}")
    try:
        return snapshot_download(
            repo_id, repo_type="dataset", revision=revision, token=token, allow_patterns=list(HUB_FILES)
        )
    except Exception as exc:  # offline with nothing cached, gated, no such repo: one line
        raise InputError(f"cannot open dataset {repo_id}: {hub_error(exc, token)}") from None


@contextlib.contextmanager
def _quiet_parquet_reader():
    """``datasets`` logs an unreadable shard before raising; the raised error is reported instead."""
    logger = logging.getLogger("datasets.packaged_modules.parquet.parquet")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_fold(spec: str | int | None) -> int | None:
    """``--fold`` of the training stages: ``K`` -> fold K; ``test`` (or ``None``) -> every
    non-test image (the final models). Never the test split itself."""
    if spec is None or spec == ALL_TRAINING:
        return None
    if isinstance(spec, str):  # the same strict rule as the configs' (dataset/folds.py)
        problem = fold_problem(spec)
        if problem:
            raise InputError(f"fold {problem}")
        return int(spec)
    config_name(spec)  # refuses negatives and non-integers
    return int(spec)


def select_conditions(spec: str | Sequence[str] | None, abbreviations: Sequence[str]) -> list[int]:
    """``--conditions``: ``all`` (or ``None``) or comma-separated abbreviations -> class indices."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return list(range(len(abbreviations)))
    wanted = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not wanted:
        raise InputError("conditions must be 'all' or a comma-separated list of condition abbreviations")
    index = {abbr: i for i, abbr in enumerate(abbreviations)}
    unknown = [w for w in wanted if w not in index]
    if unknown:
        raise InputError(f"unknown condition(s) {unknown} (the dataset has {', '.join(abbreviations[:8])}, ...)")
    return sorted({index[w] for w in wanted})


class RDFaceDataset:
    """A built RDFace dataset: a local folder written by ``rdface build``, or a Hub repo.

    The folder contract (the Hub file tree of the dataset repo)::

        README.md                         dataset card; its YAML `configs` list `default`
                                          and `fold_0` .. `fold_{K-1}` over the shards below
        data/test-<hash>.parquet          the fixed test split (identical in every config)
        data/train-always-<hash>.parquet  in the training split of every fold
        data/cv-<k>-<hash>.parquet        cross-validation part k: fold k's validation split
        validation_report.csv             every source row: accepted / warning / rejected, why
        build_config.json                 the build's configuration and provenance
        DATA_USE_AGREEMENT.md             the access terms (the card's `license_link`)

    ``<hash>`` is the first 8 hex digits of the shard's sha256 (``datasets``
    caches a local folder by its file names). Configs: ``default`` gives
    ``train`` (all non-test images) and ``test``; ``fold_k`` gives ``train``,
    ``validation`` and ``test``.

    Columns: ``image`` (PNG, no metadata), ``image_id`` (``rdf-`` + 16 hex
    digits of the source file's sha256), ``condition`` (``ClassLabel``; class
    order is the order of first appearance of ``disease_name`` in the source
    CSV), the RDFace metadata columns (``image_name``, ``disease_name``,
    ``disease_abbr``, ``sub_category``, ``gene_name``, ``orphanet_code``) and
    any extra columns the build kept, ``source_sha256``, ``landmarks`` (478x3
    float32 MediaPipe points, x and y normalised by the image size; ``None``
    without a face), ``face_box`` (x_min, y_min, x_max, y_max, normalised),
    ``near_duplicate_group``, ``partition`` (``test``, ``train-always`` or
    ``cv-k``) and ``warnings``.

    No stage reads shard names or card YAML itself: it asks this class.

    >>> ds = RDFaceDataset("rdface")                 # doctest: +SKIP
    >>> folds = ds.fold(0)                            # DatasetDict: train / validation / test
    >>> x = ds.landmarks("train", fold=0)             # (N, 478, 3) float32, NaN without a face
    """

    def __init__(
        self,
        path_or_repo_id: str | os.PathLike,
        *,
        revision: str | None = None,
        token: str | bool | None = None,
    ) -> None:
        self.source = str(path_or_repo_id)
        path = Path(path_or_repo_id)
        self.repo_id: str | None = None
        if not path.is_dir():
            self.repo_id = self.source
            path = Path(snapshot(self.source, revision=revision, token=token))
        if not (path / CARD_FILE).is_file():
            raise InputError(f"{path_or_repo_id} is not an RDFace build (no {CARD_FILE}); run 'rdface build' first")
        refuse_special([path / CARD_FILE, *path.glob(SHARD_GLOB)], str(path_or_repo_id))
        self.root = path
        self.configs = read_card_configs(path)
        if not self.configs:
            raise InputError(f"{path / CARD_FILE} declares no configs")

    def __repr__(self) -> str:
        return f"RDFaceDataset({self.source!r}, folds={self.num_folds}, classes={self.num_classes})"

    # --- loading ------------------------------------------------------------------

    def load(self, fold: int | None = None, *, split: str | None = None, **kwargs: Any):
        """``datasets.load_dataset`` of the ``default`` (``fold=None``) or ``fold_k`` config."""
        name = config_name(fold)
        if name not in self.configs:
            raise InputError(f"{self.source} has no config {name!r} (available: {', '.join(self.configs)})")
        try:
            with _quiet_parquet_reader():
                loaded = datasets.load_dataset(str(self.root), name, split=split, **kwargs)
        except Exception as exc:  # an empty split, a damaged shard: one line, not a datasets traceback
            first = (str(exc).splitlines() or [""])[0]
            raise InputError(
                f"{self.source}: cannot load its {name} config ({type(exc).__name__}: {first}); "
                "an empty or damaged build? rebuild it with 'rdface build'"
            ) from None
        parts = loaded.values() if isinstance(loaded, datasets.DatasetDict) else [loaded]
        for part in parts:
            self._check_columns(part.column_names)
        return loaded

    def _check_columns(self, columns: Sequence[str], needed: Sequence[str] = ("condition",)) -> None:
        """One line for a folder that is not a build: a synthetic set (``generator`` column) or another dataset."""
        missing = [c for c in needed if c not in columns]
        if missing or ("generator" in columns and "disease_abbr" not in columns):
            what = "a synthetic set, " if "generator" in columns else ""
            raise InputError(
                f"{self.source} is {what}not an RDFace build (no column(s) {missing or ['disease_abbr']}); "
                "a synthetic set goes to --synthetic or --extra-train, a raw release through 'rdface build'"
            )

    def fold(self, k: int) -> datasets.DatasetDict:
        """Fold ``k``: train / validation / test."""
        return self.load(k)

    def default(self) -> datasets.DatasetDict:
        """The ``default`` config: train (every non-test image) / test."""
        return self.load(None)

    @cached_property
    def test(self) -> datasets.Dataset:
        """The fixed test split (the same in every config)."""
        default = self.default()
        if "test" not in default:
            raise InputError(f"{self.source} has no test split (every condition has a single image)")
        return default["test"]

    @property
    def num_folds(self) -> int:
        return sum(1 for c in self.configs if c.startswith("fold_"))

    # --- schema and provenance ------------------------------------------------------

    @cached_property
    def features(self) -> datasets.Features:
        """The column schema (the same in every split)."""
        return next(iter(self.default().values())).features

    @cached_property
    def card(self) -> DatasetCard:
        return DatasetCard.load(self.root / CARD_FILE)

    @property
    def simulated(self) -> bool:
        """Built from the phenotype simulator (no gated photographs): the card's ``simulated`` tag."""
        return "simulated" in (self.card.data.to_dict().get("tags") or [])

    @property
    def class_names(self) -> list[str]:
        """Condition names in class-index order."""
        return list(self.features["condition"].names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def build_config(self) -> dict[str, Any]:
        """``build_config.json``: the settings and provenance of the build."""
        path = self.root / BUILD_CONFIG_FILE
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    @cached_property
    def digest(self) -> str:
        """sha256 over the shards (names carry their content hashes) and the build config:
        the identity of the data that a result was computed on."""
        h = hashlib.sha256()
        for path in sorted(self.root.glob(SHARD_GLOB)):
            h.update(path.name.encode() + b"\0" + str(path.stat().st_size).encode() + b"\0")
        config = self.root / BUILD_CONFIG_FILE
        if config.is_file():
            h.update(config.read_bytes())
        return h.hexdigest()

    @cached_property
    def abbreviations(self) -> list[str]:
        """``disease_abbr`` of each class, in class-index order."""
        out: dict[int, str] = {}
        for split in self.default().values():
            self._check_columns(split.column_names, ("condition", "disease_abbr"))
            for label, abbr in zip(split["condition"], split["disease_abbr"]):
                out.setdefault(int(label), abbr)
        return [out.get(i, "") for i in range(self.num_classes)]

    def select_conditions(self, spec: str | Sequence[str] | None) -> list[int]:
        """Class indices of ``all`` or ``"ABBR,ABBR"`` (one clear error for an unknown one)."""
        return select_conditions(spec, self.abbreviations)

    def training_split(self, fold: str | int | None) -> datasets.Dataset:
        """What a training stage may see: fold K's train split, or with ``test`` every
        non-test image. Validation and test splits are never part of it."""
        k = parse_fold(fold)
        if k is not None and config_name(k) not in self.configs:
            raise InputError(f"{self.source} has no fold {k} (it has {self.num_folds} folds)")
        return self.split("train", k)

    # --- arrays ---------------------------------------------------------------------------

    def split(self, split: str, fold: int | None = None) -> datasets.Dataset:
        """One split: ``train`` / ``validation`` / ``test`` of ``fold`` (``None``: default config)."""
        if split not in SPLITS:
            raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if split == "validation" and fold is None:
            raise InputError("the validation split belongs to a fold: pass fold=k")
        return self.load(fold, split=split)

    def _as_split(self, split: str | datasets.Dataset, fold: int | None) -> datasets.Dataset:
        return split if isinstance(split, datasets.Dataset) else self.split(split, fold)

    def landmarks(self, split: str | datasets.Dataset, fold: int | None = None) -> np.ndarray:
        """(N, 478, 3) float32 landmarks of a split, NaN rows where no face was found."""
        ds = self._as_split(split, fold)
        if "landmarks" not in ds.column_names:
            raise InputError(
                f"{self.source} has no landmarks (built with --no-landmarks); rebuild it with landmarks for this"
            )
        out = np.full((len(ds), NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
        for i, points in enumerate(ds.select_columns(["landmarks"]).with_format("numpy")["landmarks"]):
            if points is not None and np.size(points):
                out[i] = np.asarray(points, dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        return out

    def labels(self, split: str | datasets.Dataset, fold: int | None = None) -> np.ndarray:
        """Class indices of a split."""
        return np.asarray(self._as_split(split, fold)["condition"], dtype=np.int64)

    def image_ids(self, split: str | datasets.Dataset, fold: int | None = None) -> list[str]:
        return list(self._as_split(split, fold)["image_id"])


def load_rdface(
    path_or_repo_id: str | os.PathLike,
    fold: int | None = None,
    *,
    split: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    **kwargs: Any,
):
    """Load an RDFace build: ``fold=None`` is the ``default`` config, else ``fold_<fold>``.

    ``path_or_repo_id`` is a local build folder or a Hub dataset repo id
    (``ORG/rdface``; gated: pass ``token`` or log in). A thin function over
    :class:`RDFaceDataset`; returns a :class:`datasets.DatasetDict` (or a
    :class:`datasets.Dataset` with ``split``).
    """
    return RDFaceDataset(path_or_repo_id, revision=revision, token=token).load(fold, split=split, **kwargs)

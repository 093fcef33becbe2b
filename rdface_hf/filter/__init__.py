"""The landmark-similarity filter (``rdface filter``) and the merge of real and kept
synthetic images (``rdface merge``).

>>> from rdface_hf.filter import FilterConfig, filter_synthetic        # doctest: +SKIP
>>> filter_synthetic(FilterConfig(dataset="rdface", synthetic="lora_fold0", output_dir="filtered"))
>>> from rdface_hf.filter.merge import MergeConfig, merge               # doctest: +SKIP
>>> merge(MergeConfig(dataset="rdface", synthetic="filtered", output_dir="merged"))
"""

from __future__ import annotations

from .config import FilterConfig, FilterResult, MergeConfig, MergeResult

__all__ = ["FilterConfig", "FilterResult", "MergeConfig", "MergeResult", "filter_synthetic"]


def __getattr__(name: str):
    """``filter_synthetic`` loads on first use (numpy, sklearn and datasets work)."""
    if name == "filter_synthetic":
        from .run import filter_synthetic  # heavy: kept out of ``import rdface_hf.filter``

        return filter_synthetic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

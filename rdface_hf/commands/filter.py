"""``rdface filter``: keep the synthetic faces that show their condition, leak-free."""

from __future__ import annotations

from ..filter.config import FilterConfig

NAME = "filter"
CONFIG = FilterConfig
HELP = "score a synthetic set against one fold's real training faces and keep the best (leak-free)"
DESCRIPTION = (
    HELP + ". Prototypes come from the fold's training split only (never the test split). Scores: landmarks "
    "(478-point shape and 32 facial measures: likelihood ratio, prototype distance, margin, regions, identity "
    "factored out), paper5pt (the RDFace paper's "
    "5-point cosine), embedding (any transformers vision backbone). O holds every input image with its score and "
    "a 'kept' flag, a per-condition summary and a histogram; feed it to 'rdface merge'."
)


def run(config: FilterConfig) -> int:
    from ..filter.run import filter_synthetic  # numpy/sklearn/MediaPipe (torch for embedding): kept out of start-up

    result = filter_synthetic(config)
    print(
        f"filtered {result.images} images with the {result.score} score ({result.mode}, fold {result.fold}): "
        f"kept {result.kept}, rejected {result.rejected} ({result.no_face} without a face); "
        f"{result.cached_landmarks} landmark cache hits; {result.seconds:.1f} s"
    )
    print(
        f"  output {result.out} (filter_summary.md, score_histogram.png); next: rdface merge --synthetic {result.out}"
    )
    return 0

"""``rdface simulate OUT``: a simulated raw release with known phenotypes."""

from __future__ import annotations

from ..sim.config import SimConfig

NAME = "simulate"
CONFIG = SimConfig
HELP = "write a simulated raw release in RDFace's layout (rd_images/, disease_images.csv, phenotypes.json)"
DESCRIPTION = (
    HELP + ". Needs no gated data: faces are public-domain photos morphed into new individuals, "
    "conditions are controlled dysmorphic features."
)


def run(config: SimConfig) -> int:
    from ..sim.simulate import simulate  # image synthesis (scipy, scikit-image): kept out of the CLI's start-up

    result = simulate(config)
    print(
        f"simulated {result.images} images of {result.conditions} conditions into {result.out} "
        f"in {result.seconds:.1f} s ({result.redrawn} redrawn to avoid near-duplicates, {result.no_face} because "
        f"MediaPipe found no face: a face in {100 * result.face_rate:.1f} % of first draws)"
    )
    return 0

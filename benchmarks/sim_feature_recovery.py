"""How much of each simulated feature MediaPipe measures back.

For every feature of the catalogue: render one plain face (the astronaut, no
identity variation) at severity 1.5, re-detect its landmarks, and compare the
change of the feature's axis measurement with the change requested (the same
measurement on the analytically displaced landmarks). 1.0 is full recovery.

    RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task python benchmarks/sim_feature_recovery.py
"""

from __future__ import annotations

import argparse

import numpy as np


def plain_identity(bank):
    from rdface_hf.sim.identities import Identity

    grey = ((128, 128, 128),) * 3
    return Identity(
        base=("astronaut", "astronaut"),
        morph=0.0,
        shape_coefficients=(0.0,) * len(bank.space.sds),
        roll_degrees=0.0,
        scale=1.0,
        shift=(0.0, 0.0),
        light_angle=0.0,
        light_strength=0.0,
        brightness=1.0,
        gamma=1.0,
        skin_tone=(1.0, 1.0, 1.0),
        background=(grey,) * 3,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--severity", type=float, default=1.5)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    from rdface_hf.dataset.landmarks import FaceLandmarker
    from rdface_hf.sim.features import FEATURES, apply_features, measure_features
    from rdface_hf.sim.identities import build_bank
    from rdface_hf.sim.render import render

    bank = build_bank(args.size)
    ident = plain_identity(bank)
    print("| feature | axis | requested change | measured change | recovered |")
    print("|---|---|---:|---:|---:|")
    with FaceLandmarker() as lm:
        base = lm.detect(render(bank, ident, {}).pixels).pixels()
        m0 = measure_features(base)
        for name, feature in FEATURES.items():
            sev = {name: args.severity}
            face = lm.detect(render(bank, ident, sev).pixels)
            expected = measure_features(apply_features(base, sev))[feature.axis] - m0[feature.axis]
            got = np.nan if face is None else measure_features(face.pixels())[feature.axis] - m0[feature.axis]
            ratio = got / expected if expected else np.nan
            print(f"| {name} | {feature.axis} | {expected:+.4f} | {got:+.4f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()

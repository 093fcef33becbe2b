"""How much of each shape feature MediaPipe measures back, on one plain face.

For every shape feature with a landmark measure: render one average patient
of the built-in pair (frontal, no nuisance) at severity 1.5, re-detect its
landmarks, and compare the change of the feature's measure with the change
requested (the same measure on the analytically displaced landmarks). 1.0 is
full recovery. (``benchmarks/sim_feature_effects.py`` gives the effect sizes
over varied patients.)

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task python benchmarks/sim_feature_recovery.py
"""

from __future__ import annotations

import argparse

import numpy as np


def plain_identity(bank):
    from rdface_hf.sim.identities import Identity

    return Identity(members=(0, 1), weights=(0.5, 0.5), hair_donor=0, mouth_donor=1, age=8.0,
                    shape_coefficients=(0.0,) * len(bank.space.sds), expression="neutral", smile=0.0,
                    skin_rgb=(220.0, 180.0, 150.0), hair_colour="brown", hair_rgb=(95.0, 65.0, 42.0), eyebrows=0.0,
                    hair_volume=1.0, hair_length=0.0)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--severity", type=float, default=1.5)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    from rdface_hf.dataset.landmarks import FaceLandmarker
    from rdface_hf.sim.bank import build_bank
    from rdface_hf.sim.features import AXES, FEATURES, apply_features, measure_features
    from rdface_hf.sim.render import render
    from rdface_hf.sim.scene import frontal_scene

    bank = build_bank()
    ident = plain_identity(bank)
    print("| feature | measure | requested change | measured change | recovered |")
    print("|---|---|---:|---:|---:|")
    with FaceLandmarker() as lm:
        base = lm.detect(render(bank, ident, frontal_scene(), {}, args.size).pixels).pixels()
        m0 = measure_features(base)
        for name, feature in FEATURES.items():
            measure = AXES[feature.axis].measure
            if measure is None:
                continue
            sev = {name: args.severity}
            face = lm.detect(render(bank, ident, frontal_scene(), sev, args.size).pixels)
            expected = measure_features(apply_features(base, sev))[measure] - m0[measure]
            got = np.nan if face is None else measure_features(face.pixels())[measure] - m0[measure]
            ratio = got / expected if expected else np.nan
            print(f"| {name} | {measure} | {expected:+.4f} | {got:+.4f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()

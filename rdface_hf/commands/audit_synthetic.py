"""``rdface audit-synthetic``: is any synthetic face a near copy of a real child?"""

from __future__ import annotations

from ..audit.config import AuditConfig

NAME = "audit-synthetic"
CONFIG = AuditConfig
HELP = "memorisation audit: each synthetic face's nearest real faces (test included) by face-identity distance"
DESCRIPTION = (
    HELP + ". Needs rdface_hf[face] (dlib's face-recognition ResNet, aligned from MediaPipe landmarks). Flags "
    "near_copy below a threshold calibrated on the dataset (the 1st percentile of real-to-nearest-other-real "
    "distances) and same_person at dlib's 0.6. Writes O/data (one row per image, load_dataset(O)), "
    "O/summary.json and .md (per condition and generator, the calibration with altered copies), "
    "O/distance_histogram.png, and O/contact_sheet.png only for a simulated dataset or with --include-faces. "
    "It informs and never trains."
)


def run(config: AuditConfig) -> int:
    from ..audit.run import run_audit  # dlib, MediaPipe, datasets: kept out of the CLI's start-up

    result = run_audit(config)
    print(
        f"audited {result.images} synthetic images ({result.embedded} embedded): {result.near_copies} near copies "
        f"(distance < {result.threshold:.4g}), {result.same_person} within dlib's same-person distance; "
        f"{result.seconds:.1f} s"
    )
    sheet = ", contact_sheet.png" if result.contact_sheet else ""
    print(f"  output {result.out} (summary.md, distance_histogram.png{sheet})")
    return 0

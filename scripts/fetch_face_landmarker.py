"""Fetch MediaPipe's face landmarker into the rdface_hf cache (sha256-checked).

    python scripts/fetch_face_landmarker.py

Run it once on a machine with network; afterwards `rdface build` and the
simulator find the model offline. Alternatively point RDFACE_FACE_LANDMARKER
at a copy of face_landmarker.task.
"""

from __future__ import annotations

import sys

from rdface_hf._errors import RDFaceError
from rdface_hf.dataset.landmarks import resolve_landmarker_model


def main() -> int:
    try:
        path = resolve_landmarker_model()
    except RDFaceError as exc:
        print(f"fetch_face_landmarker: error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

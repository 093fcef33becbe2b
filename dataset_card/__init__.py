"""The RDFace dataset card template (rendered by :mod:`rdface_hf.card`)."""

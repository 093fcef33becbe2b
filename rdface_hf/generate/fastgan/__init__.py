"""Generator: fastgan (see rdface_hf.generate)."""

"""Generator: morph (see rdface_hf.generate)."""

"""Generator: lora (see rdface_hf.generate)."""

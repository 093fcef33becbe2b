"""Generators of synthetic faces, all writing the synthetic set format
(:mod:`rdface_hf.dataset.synthetic`): :mod:`.lora` (per-condition LoRA
DreamBooth adapters), :mod:`.fastgan` (FastGAN) and :mod:`.morph` (landmark
morphing, no training). ``rdface generate --generator NAME`` runs any of them;
:mod:`.config` holds the shared settings."""

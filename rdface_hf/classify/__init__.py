"""Classification: ``rdface train-classifier`` (fine-tuning per fold under accelerate:
``classifier``, ``train``, ``data``, ``models``, ``hub``), ``rdface probe`` (frozen embeddings
and landmark geometry: ``probe``, ``features``, ``geometry``) and their shared scoring and
outputs (``scoring``, ``outputs``); settings in the light ``config``."""

"""The ``hpo_similarity`` evaluate module (``hpo_similarity.py``); the maths is in ``overlap``."""

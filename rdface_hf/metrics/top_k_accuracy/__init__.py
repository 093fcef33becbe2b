"""The ``top_k_accuracy`` evaluate module (``top_k_accuracy.py``) and its card."""

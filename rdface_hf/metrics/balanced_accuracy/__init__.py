"""The ``balanced_accuracy`` evaluate module (``balanced_accuracy.py``) and its card."""

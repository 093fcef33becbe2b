"""The ``macro_f1`` evaluate module (``macro_f1.py``) and its card."""

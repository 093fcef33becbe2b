"""The ``report_similarity`` evaluate module (``report_similarity.py``) and the report format it reads
(``sections``: regions, parser); the maths is in ``similarity``."""

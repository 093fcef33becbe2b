"""The landmark-similarity filter (``rdface filter``) and the merge of real and kept
synthetic images (``rdface merge``)."""

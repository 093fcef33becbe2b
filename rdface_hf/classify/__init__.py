"""Classification: the landmark-geometry probe (``geometry``); the fine-tuned
classifiers and frozen-embedding probes arrive here too (``rdface
train-classifier``, ``rdface probe``)."""

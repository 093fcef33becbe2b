"""``evaluate`` modules: ``metrics/<name>/<name>.py`` with the maths in plain functions,
loadable with ``evaluate.load("<path to metrics/<name>>")`` offline."""

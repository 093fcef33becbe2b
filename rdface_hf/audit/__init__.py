"""``rdface audit-synthetic``: a memorisation audit of a synthetic set against every real face."""

"""The file names of a build folder, written once: the builder writes them, the facade and
``rdface publish`` read and upload them.

    README.md                  the dataset card (CARD_FILE)
    DATA_USE_AGREEMENT.md      the terms of use; the card's license_link (AGREEMENT_FILE)
    build_config.json          the build's settings and provenance (CONFIG_FILE)
    validation_report.csv      every CSV row and stray file: accepted / warning / rejected (REPORT_FILE)
    data/<part>-<hash>.parquet the shards (DATA_DIR, SHARD_GLOB; :func:`shard_file`)
"""

from __future__ import annotations

CARD_FILE = "README.md"
AGREEMENT_FILE = "DATA_USE_AGREEMENT.md"
CONFIG_FILE = "build_config.json"
REPORT_FILE = "validation_report.csv"
DATA_DIR = "data"
SHARD_GLOB = f"{DATA_DIR}/*.parquet"
# What a dataset repo holds (and what `rdface publish` uploads).
HUB_FILES = (CARD_FILE, SHARD_GLOB, REPORT_FILE, CONFIG_FILE, AGREEMENT_FILE)
# Everything a build writes: an earlier build holding anything else is not replaced.
BUILD_FILES = (CARD_FILE, CONFIG_FILE, REPORT_FILE, AGREEMENT_FILE, DATA_DIR, SHARD_GLOB)


def shard_file(partition: str, digest: str) -> str:
    """The relative path of one partition's shard (``data/test-1a2b3c4d.parquet``)."""
    return f"{DATA_DIR}/{partition}-{digest}.parquet"

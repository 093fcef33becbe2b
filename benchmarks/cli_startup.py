"""CLI start-up: whole-process wall time of `rdface --help` and `rdface <command> --help`.

Median of 5 runs each (after one warm-up run that fills the OS file cache), peak RSS of
the slowest-to-import command. Goals (issue 18 §6): `rdface --help` <= 0.3 s,
`rdface <command> --help` <= 0.6 s.

    PYTHONPATH=$PWD python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from rdface_hf.cli import COMMANDS


def timed(argv: list[str]) -> tuple[float, int]:
    """Seconds and peak RSS (MiB) of one `python -m rdface_hf.cli ARGV` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rdface_hf.cli", *argv], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, (argv, proc.returncode)
    return seconds, usage.ru_maxrss // 1024


def median_of(argv: list[str], runs: int) -> tuple[float, int]:
    timed(argv)  # warm-up
    samples = [timed(argv) for _ in range(runs)]
    return statistics.median(s for s, _ in samples), max(m for _, m in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = [("rdface --help", *median_of(["--help"], args.runs))]
    rows += [(f"rdface {name} --help", *median_of([name, "--help"], args.runs)) for name in COMMANDS]
    print("| command | median s | peak RSS MiB |\n|---|---|---|")
    for label, seconds, rss in rows:
        print(f"| `{label}` | {seconds:.2f} | {rss} |")


if __name__ == "__main__":
    main()

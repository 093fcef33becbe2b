"""The study runner's cost: a study's wall time and peak memory, and the runner's overhead per run.

    python benchmarks/bench_study.py --study studies/cpu.yaml --dataset BUILD --output-dir /tmp/study

The study runs in a child process (``rdface benchmark``); peak memory is the child's maximum
resident set (``ru_maxrss``). The overhead per run is the runner's own time around each stage
call (state files, locks, memory release), as the command prints it. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/cpu.yaml")
    parser.add_argument("--dataset", required=True, help="the build folder (e.g. the default simulated release)")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args()
    command = [sys.executable, "-m", "rdface_hf.cli", "benchmark", "--config", args.study, "--dataset", args.dataset,
               "--output-dir", args.output_dir]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    found = re.search(r"overhead at most ([0-9.]+) s", proc.stdout)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(json.dumps({
        "study": args.study, "returncode": proc.returncode, "wall_s": round(seconds, 1),
        "peak_rss_mib": round(peak_mib), "overhead_max_s": float(found.group(1)) if found else None,
        "summary": (proc.stdout.strip().splitlines() or [""])[-2:], "cpus": os.cpu_count(),
        "python": platform.python_version(), "commit": commit,
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Ingest and validate a large input folder: wall time and peak memory.

Target (issue 2): 1,000,000 accounts in under 60 s, peak memory under 6 GB.
Usage:
  .venv/bin/python benchmarks/ingest.py --data DIR            # an existing folder
  .venv/bin/python benchmarks/ingest.py --accounts 1000000    # generate into a temp folder first
Peak memory is the process's maximum resident set size (ru_maxrss), measured in a
fresh child process so that generating the data does not count.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time


def measure(folder: str) -> None:
    from plan_lib.ingest import ingest
    from plan_lib.sources import read_inputs

    started = time.perf_counter()
    inputs = read_inputs(folder)
    read_seconds = time.perf_counter() - started
    result = ingest(inputs)
    total = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(result.summary()[["table", "rows_in", "rows_kept", "rows_quarantined"]].to_string(index=False))
    print(f"read {read_seconds:.1f} s, validate {total - read_seconds:.1f} s, total {total:.1f} s (target < 60 s); "
          f"peak memory {peak_gb:.2f} GB (target < 6 GB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="existing input folder")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2_000)
    parser.add_argument("--measure-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        measure(args.measure_only)
        return
    if args.data:
        subprocess.run([sys.executable, __file__, "--measure-only", args.data], check=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "plan_lib.cli", "demo-data", "--out", tmp, "--accounts", str(args.accounts), "--reps", str(args.reps)], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {args.accounts:,} accounts in {time.perf_counter() - started:.1f} s")
        subprocess.run([sys.executable, __file__, "--measure-only", tmp], check=True)


if __name__ == "__main__":
    main()

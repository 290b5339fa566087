"""Benchmark: generate and write the demo data set (default 1,000,000 accounts, 2,000 reps).

Prints wall time and peak resident memory (ru_maxrss, cheap, unlike
tracemalloc) after generating and after writing. The brief: both together in
under 2 minutes on a 2-core box, peak memory a few GB.

    .venv/bin/python benchmarks/generate.py --accounts 1000000 --reps 2000 --format csv
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from plan_lib.demo import generate_demo_data, write_demo_data


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (
        peak / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)
    )  # bytes on macOS, KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--period", default="2027Q1")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: a temporary one, removed)"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = generate_demo_data(args.accounts, args.reps, args.seed, args.period)
    generated = time.perf_counter()
    print(f"generate: {generated - start:7.1f} s   peak RSS {peak_rss_mb():7.0f} MB")
    for name, frame in data.tables.items():
        print(f"  {name:15s} {len(frame):>10,d} rows")

    with tempfile.TemporaryDirectory(prefix="tqp-demo-") as tmp:
        out = args.out or Path(tmp)
        paths = write_demo_data(data, out, args.format)
        written = time.perf_counter()
        size_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
        print(
            f"write:    {written - generated:7.1f} s   peak RSS {peak_rss_mb():7.0f} MB   "
            f"{len(paths)} files, {size_mb:,.0f} MB ({args.format}) in {out}"
        )
    print(f"total:    {written - start:7.1f} s")


if __name__ == "__main__":
    main()

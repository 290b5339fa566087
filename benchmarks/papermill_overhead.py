"""Papermill overhead per notebook, in-process (the way `tqp run` executes steps).

Runs a notebook that only has a parameters cell and a trivial cell, N times,
and prints the mean and max wall time per notebook. Target: under 1.5 s.
Usage: .venv/bin/python benchmarks/papermill_overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill


def trivial_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    params = nbformat.v4.new_code_cell('run_dir: str = "."  # run folder')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import plan_lib\nresult = 1 + 1")]
    nbformat.write(nb, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "trivial.ipynb"
        trivial_notebook(source)
        seconds = []
        for i in range(args.runs):
            started = time.perf_counter()
            papermill.execute_notebook(str(source), str(Path(tmp) / f"out{i}.ipynb"), parameters={"run_dir": tmp}, progress_bar=False, kernel_name="python3")
            seconds.append(time.perf_counter() - started)
    warm = seconds[1:] or seconds
    print(f"papermill in-process overhead per notebook, {args.runs} runs (target < 1.5 s):")
    print(f"  first (cold disk cache, kernel imports): {seconds[0]:.2f} s")
    print(f"  next {len(warm)}: mean {statistics.mean(warm):.2f} s, median {statistics.median(warm):.2f} s, max {max(warm):.2f} s")


if __name__ == "__main__":
    main()

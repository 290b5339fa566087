"""Benchmark of the balancing engine against two baselines, on seeded demo data.

    .venv/bin/python benchmarks/balance.py                     # 2,000x20, 20,000x100, 100,000x400
    .venv/bin/python benchmarks/balance.py --sizes 20000x100 --region
    .venv/bin/python benchmarks/balance.py --huge              # adds 1,000,000 x 2,000 (long)

Instances come from ``plan_lib.demo.generate_demo_data(n_accounts, n_reps, seed)``.
Balancing needs a few columns the contract tables do not carry; the benchmark
derives stand-ins (documented here so figures can be reproduced):

- segment: ``plan_lib.demo.DEFAULT_SEGMENT_RULES`` (the demo's own rules);
- region: the state's sales region (``plan_lib.geo.STATE_REGION``);
- potential: annual_revenue ** 0.7, scaled to a mean of 10,000 (concave in size,
  as spend is; a stand-in for the scoring step's potential, so the benchmark does
  not depend on a propensity fit);
- intent_potential: potential x (1 + min(1, sum of intent strength over the 90 days
  before the period / 500));
- has_open_opportunity: any opportunity in stage 'open';
- workload: the balancing default (1 + ln(1 + employees) / ln(1001)).

Per instance and method (optimiser, greedy, keep-last-year): max |deviation| of
potential per FTE from the segment mean, its CV, share of reps in the band,
compactness (potential-weighted mean km to the rep's home), continuity (share of
accounts and of potential kept), and for the optimiser the gap to the LP bound,
wall time and peak memory (resident set of this process and its Dask workers,
sampled every 0.1 s). Each size runs in its own process so memory does not carry over.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import sys
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import psutil

TAU = 0.03


def instance(n_accounts: int, n_reps: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts and reps for balancing from the demo generator (see module docstring)."""
    from plan_lib import geo
    from plan_lib.demo import DEFAULT_SEGMENT_RULES, generate_demo_data
    from plan_lib.demo.segments import SEGMENTS, segment_codes

    data = generate_demo_data(n_accounts, n_reps, seed)
    accounts = data.tables["accounts"].copy()
    reps = data.tables["reps"].copy()
    pos = pd.Series(np.arange(len(accounts)), index=accounts["account_id"])
    parent = accounts["parent_account_id"].map(pos).fillna(-1).to_numpy(dtype=np.int64)
    employees = pd.to_numeric(accounts["employees"], errors="coerce").fillna(0).to_numpy()
    revenue = pd.to_numeric(accounts["annual_revenue"], errors="coerce").fillna(0).to_numpy()
    codes = segment_codes(employees, revenue, parent, DEFAULT_SEGMENT_RULES)
    accounts["segment"] = np.array(SEGMENTS)[codes]
    accounts["region"] = accounts["state"].map(geo.STATE_REGION).fillna("")
    raw = np.power(np.maximum(revenue, 0.0), 0.7)
    accounts["potential"] = 10_000.0 * raw / raw.mean()
    signals = data.tables["intent_signals"]
    start = pd.Timestamp(data.as_of) - pd.Timedelta(days=90)
    recent = signals[pd.to_datetime(signals["date"]) > start]
    strength = recent.groupby("account_id")["strength"].sum()
    uplift = 1.0 + np.minimum(
        1.0, accounts["account_id"].map(strength).fillna(0.0).to_numpy() / 500.0
    )
    accounts["intent_potential"] = accounts["potential"] * uplift
    opps = data.tables["opportunities"]
    open_accounts = set(opps.loc[opps["stage"] == "open", "account_id"])
    accounts["has_open_opportunity"] = accounts["account_id"].isin(open_accounts)
    return accounts, reps


class PeakMemory:
    """Peak resident memory of this process plus its children (Dask workers), sampled."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_size(n_accounts: int, n_reps: int, seed: int, region: bool, soft: bool, queue: Any) -> None:
    from plan_lib.balance import BalanceParams, balance_books
    from plan_lib.balance.baselines import greedy, keep_last_year
    from plan_lib.balance.metrics import assignment_metrics
    from plan_lib.balance.prepare import prepare

    t0 = time.perf_counter()
    accounts, reps = instance(n_accounts, n_reps, seed)
    t_data = time.perf_counter() - t0
    update: dict[str, Any] = {"tau": TAU, "seed": seed, "eligibility": {"region": region}}
    if not soft:
        off = {"enabled": False}
        update["soft_bands"] = {
            "workload": off,
            "accounts": off,
            "customer_share": off,
            "intent": off,
        }
    params = BalanceParams(**update)
    with PeakMemory() as memory:
        t1 = time.perf_counter()
        result = balance_books(accounts, reps, params)
        wall = time.perf_counter() - t1
    prepared = prepare(accounts, reps, params)
    rows = {"optimiser": result.report["metrics"]}
    for name, method in (("greedy", greedy), ("keep-last-year", keep_last_year)):
        rows[name] = assignment_metrics(prepared.accounts, prepared.reps, method(prepared), tau=TAU)
    report = result.report
    queue.put(
        {
            "size": f"{n_accounts}x{n_reps}",
            "region_rule": region,
            "soft_bands": soft,
            "data_seconds": t_data,
            "wall_seconds": wall,
            "peak_memory_gb": memory.peak / 1e9,
            "status": report["status"],
            "gap": report["gap"],
            "execution": report["execution"],
            "subproblems": [
                {
                    k: s.get(k)
                    for k in (
                        "name",
                        "status",
                        "n_units",
                        "n_reps",
                        "gap",
                        "seconds",
                        "pricing_rounds",
                        "n_free_units",
                        "n_fractional",
                        "repair_units",
                        "max_relative_deviation",
                        "time_limit_hit",
                        "bound_method",
                    )
                }
                for s in report["subproblems"]
            ],
            "methods": rows,
            "violations": len(report["violations"]),
        }
    )


def print_result(r: dict[str, Any]) -> None:
    print(
        f"\n== {r['size']} (region rule {'on' if r['region_rule'] else 'off'}, soft bands "
        f"{'on' if r['soft_bands'] else 'off'}) =="
    )
    gap = "n/a" if r["gap"] is None else f"{r['gap']:.3%}"
    print(
        f"optimiser: status {r['status']}, gap {gap}, "
        f"wall {r['wall_seconds']:.1f} s ({r['execution']['mode']}, {r['execution']['workers']} workers), "
        f"peak memory {r['peak_memory_gb']:.2f} GB, violations {r['violations']}"
    )
    table = pd.DataFrame(r["methods"]).T[
        [
            "max_abs_deviation",
            "cv",
            "reps_in_band_share",
            "compactness_km",
            "kept_accounts_share",
            "kept_potential_share",
        ]
    ]
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        print(table.to_string())
    sub = pd.DataFrame(r["subproblems"])
    with pd.option_context(
        "display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        print(sub.drop(columns=["bound_method"]).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000x20,20000x100,100000x400")
    parser.add_argument("--huge", action="store_true", help="also run 1,000,000 x 2,000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--region", action="store_true", help="eligibility.region on (exact segment x region split)"
    )
    parser.add_argument("--no-soft", action="store_true", help="disable the four soft bands")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    if args.huge:
        sizes.append((1_000_000, 2_000))
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}", flush=True)
    results = []
    ctx = mp.get_context("spawn")
    for n_accounts, n_reps in sizes:
        queue = ctx.Queue()
        proc = ctx.Process(
            target=run_size,
            args=(n_accounts, n_reps, args.seed, args.region, not args.no_soft, queue),
        )
        proc.start()
        result = queue.get()
        proc.join()
        results.append(result)
        print_result(result)
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Monitoring at scale: attainment, forecasts, flags and recommendations for a large sales force.

Target (issue 8): 1,000,000 accounts and 5,000,000 opportunities, forecasts for 2,000 reps,
in under 3 minutes (setup excluded and reported separately).
Usage:
  .venv/bin/python benchmarks/monitor.py                                 # the target size
  .venv/bin/python benchmarks/monitor.py --accounts 100000 --opportunities 500000 --reps 200

Synthetic tables (seeded numpy, contract dtypes as ingest returns them; the demo
generator is built for realism, not for 5M rows in seconds): reps under managers of
8, directors of 8 managers and a VP, in 3 segments, homes at state centroids
(``plan_lib.geo``) so regions are real; each rep's book is ~500 accounts around the
home, with lognormal potential; opportunities over 33 months (2024-07 to the end
of 2027Q1), 25% won, amounts tied to the account's potential, in-period amounts
multiplied by a per-rep trend exp(level + slope (t - 1/2)) like the demo's, all
amounts scaled so that the company's period bookings land near its quota;
1% of the reps are leaving (so the departure planning runs), a few books are
inflated (so resize runs). The plan: the books as assignments, quotas = potential
/ 4 with a monthly split. Monitoring day: 2027-02-11 (week 6 of 13).

Printed: setup time, wall time of ``monitor_plan`` with its stages, peak resident
memory during the call (sampled every 50 ms) and of the whole process, and what came out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import threading
import time

import numpy as np
import pandas as pd

START, END, AS_OF = dt.date(2027, 1, 1), dt.date(2027, 3, 31), dt.date(2027, 2, 11)
HISTORY_START = dt.date(2024, 7, 1)
SEGMENTS = ("Enterprise", "Mid-Market", "SMB")


def _ids(prefix: str, n: int) -> pd.Series:
    width = len(str(n))
    return pd.Series(np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)), dtype="str")


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def synthetic_tables(n_accounts: int, n_opps: int, n_reps: int, seed: int = 8) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    from plan_lib.geo import STATE_REGION, load_states

    rng = np.random.default_rng(seed)
    states = load_states()
    centroid = states.to_crs("EPSG:5070").geometry.centroid.to_crs("EPSG:4326")
    codes = states["state"].to_numpy() if "state" in states.columns else states.iloc[:, 0].to_numpy()
    table = pd.DataFrame({"state": codes, "lat": centroid.y.to_numpy(), "lon": centroid.x.to_numpy()})
    table = table[table["state"].isin(list(STATE_REGION))].reset_index(drop=True)

    # ---- reps and hierarchy
    n_managers = int(np.ceil(n_reps / 8))
    n_directors = int(np.ceil(n_managers / 8))
    rep_ids = _ids("R", n_reps)
    manager_ids, director_ids = _ids("M", n_managers), _ids("D", n_directors)
    home = rng.integers(0, len(table), n_reps)
    rep_state = table["state"].to_numpy()[home]
    rep_manager = manager_ids.to_numpy()[np.arange(n_reps) // 8]
    segment = np.array(SEGMENTS)[(np.arange(n_reps) // 8) % 3]  # a team shares a segment
    status = np.where(rng.random(n_reps) < 0.01, "leaving", "active")
    people = pd.DataFrame({
        "rep_id": np.r_[["VP1"], director_ids, manager_ids, rep_ids],
        "role": ["vp"] + ["director"] * n_directors + ["manager"] * n_managers + ["rep"] * n_reps,
        "manager_id": np.r_[[None], ["VP1"] * n_directors, director_ids.to_numpy()[np.arange(n_managers) // 8], rep_manager],
        "segment": np.r_[[None] * (1 + n_directors + n_managers), segment],
        "region": np.r_[[None] * (1 + n_directors + n_managers), pd.Series(rep_state).map(STATE_REGION).to_numpy()],
        "home_lat": np.r_[np.full(1 + n_directors + n_managers, np.nan), table["lat"].to_numpy()[home] + rng.normal(0, 0.5, n_reps)],
        "home_lon": np.r_[np.full(1 + n_directors + n_managers, np.nan), table["lon"].to_numpy()[home] + rng.normal(0, 0.5, n_reps)],
        "capacity_fte": np.r_[np.zeros(1 + n_directors + n_managers), np.where(rng.random(n_reps) < 0.05, 0.5, 1.0)],
        "status": np.r_[["active"] * (1 + n_directors + n_managers), status],
    })
    people["name"] = people["rep_id"]
    for column in ("rep_id", "role", "manager_id", "segment", "region", "status", "name"):
        people[column] = people[column].astype("str")

    # ---- accounts: books around the homes, a few books inflated
    owner = rng.integers(0, n_reps, n_accounts)
    inflated = rng.random(n_reps) < 0.005
    potential = rng.lognormal(np.log(20_000), 0.9, n_accounts) * np.where(inflated[owner], 2.0, 1.0)
    account_ids = _ids("A", n_accounts)
    lat = people["home_lat"].to_numpy()[-n_reps:][owner] + rng.normal(0, 0.4, n_accounts)
    lon = people["home_lon"].to_numpy()[-n_reps:][owner] + rng.normal(0, 0.5, n_accounts)
    state_of = rep_state[owner]
    accounts = pd.DataFrame({
        "account_id": account_ids,
        "parent_account_id": pd.Series([None] * n_accounts, dtype="str"),
        "state": pd.Series(state_of, dtype="str"),
        "county_fips": pd.Series(np.char.add(state_of.astype(str), np.char.zfill(rng.integers(1, 40, n_accounts).astype(str), 3)), dtype="str"),
        "lat": lat, "lon": lon,
        "industry": pd.Series(np.array(["Software", "Retail", "Health", "Finance", "Manufacturing", "Education"])[rng.integers(0, 6, n_accounts)], dtype="str"),
        "employees": rng.integers(5, 5000, n_accounts),
        "is_customer": rng.random(n_accounts) < 0.2,
        "current_arr": np.round(rng.lognormal(9, 1, n_accounts), 2),
        "current_owner": rep_ids.take(owner).reset_index(drop=True),
    })

    # ---- opportunities
    weight = potential / potential.sum()
    account = rng.choice(n_accounts, n_opps, p=weight)
    first, last = _days(HISTORY_START), _days(END)
    created = rng.integers(first, last + 1, n_opps)
    close = created + rng.integers(20, 151, n_opps)
    won = rng.random(n_opps) < 0.25
    stage = np.where(close > last, "open", np.where(won, "won", "lost"))
    amount = np.maximum(500.0, np.round(potential[account] * 0.3 * rng.lognormal(-0.18, 0.6, n_opps), -2))
    level, slope = rng.normal(0, 0.25, n_reps), rng.normal(0, 0.6, n_reps)
    inside = (close >= _days(START)) & (close <= last)
    t = (close - _days(START) + 0.5) / (last - _days(START) + 1) - 0.5
    r = owner[account]
    amount = np.where(inside, amount * np.exp(level[r] + slope[r] * t), amount)
    book = np.bincount(owner, weights=potential, minlength=n_reps)
    landed = amount[inside & won].sum()  # scale amounts so the company lands near quota (potential / 4)
    amount = np.maximum(500.0, np.round(amount * (book.sum() / 4) / max(landed, 1.0), -2))
    order = np.argsort(created, kind="stable")
    opportunities = pd.DataFrame({
        "opportunity_id": _ids("O", n_opps),
        "account_id": account_ids.take(account[order]).reset_index(drop=True),
        "owner_rep_id": rep_ids.take(r[order]).reset_index(drop=True),
        "created_date": pd.Series(created[order].astype("datetime64[D]")).astype("datetime64[s]"),
        "close_date": pd.Series(np.where(stage[order] == "open", np.datetime64("NaT"), close[order].astype("datetime64[D]"))).astype("datetime64[s]"),
        "stage": pd.Series(stage[order], dtype="str"),
        "amount": amount[order],
    })

    # ---- the plan
    assignments = pd.DataFrame({"account_id": account_ids, "rep_id": accounts["current_owner"], "potential": potential,
                                "segment": pd.Series(segment[owner], dtype="str")})
    quotas = pd.DataFrame({"rep_id": rep_ids, "manager_id": pd.Series(rep_manager, dtype="str"), "segment": pd.Series(segment, dtype="str"),
                           "region": people["region"].to_numpy()[-n_reps:], "quota": np.round(book / 4, -2)})
    for k, share in enumerate((0.30, 0.33, 0.37), start=1):
        quotas[f"quota_m{k}"] = quotas["quota"] * share
    return {"accounts": accounts, "reps": people, "opportunities": opportunities}, assignments, quotas


class PeakRss:
    """Samples the resident set size every 50 ms (Linux /proc) while the block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = resource.getpagesize()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self.start = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, default=5_000_000)
    parser.add_argument("--reps", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    started = time.perf_counter()
    from plan_lib.monitor import MonitorParams, monitor_plan

    tables, assignments, quotas = synthetic_tables(args.accounts, args.opportunities, args.reps, args.seed)
    setup = time.perf_counter() - started
    leaving = int((tables["reps"]["status"] == "leaving").sum())
    print(f"setup {setup:.1f} s: {len(tables['accounts']):,} accounts, {len(tables['opportunities']):,} opportunities, "
          f"{len(quotas):,} reps ({leaving} leaving), {len(tables['reps']) - len(quotas)} managers above them")

    with PeakRss() as memory:
        t0 = time.perf_counter()
        result = monitor_plan(tables, assignments, quotas, None, MonitorParams(), AS_OF, START, END)
        wall = time.perf_counter() - t0
    r = result.report
    stages = ", ".join(f"{k} {v:.1f}" for k, v in r["seconds"].items())
    print(f"monitor_plan wall time {wall:.1f} s ({stages})")
    print(f"peak RSS during the call {memory.peak / 2**30:.2f} GiB (before it {memory.start / 2**30:.2f} GiB); "
          f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    fc = result.forecast
    methods = fc[fc["level"] == "rep"]["method"].value_counts().to_dict()
    pooled = r["forecast"]["levels"]["rep"].get("pooled", {})
    print(f"forecasts: {len(fc):,} units ({(fc['level'] == 'rep').sum():,} reps: {methods}); pooled rep ratios "
          f"q_level {pooled.get('q_level', float('nan')):.2e}, q_slope {pooled.get('q_slope', float('nan')):.2e}")
    company = r["company"]
    cf = r["company_forecast"]
    print(f"company: attainment {company['attainment']:.1%} at {company['expected_share']:.1%} expected, coverage "
          f"{company['coverage']:.2f}; forecast {cf['attainment_forecast']:.1%} "
          f"[{cf['lower'] / company['quota']:.1%}, {cf['upper'] / company['quota']:.1%}], P(quota) {cf['prob_reach_quota']:.0%}")
    print(f"attainment rows {len(result.attainment):,}; flags {r['flags']}; recommendations {r['recommendations']}; "
          f"accounts to move {r['accounts_to_move']:,}")
    print(f"target < 180 s: {'PASS' if wall < 180 else 'FAIL'}")


if __name__ == "__main__":
    main()

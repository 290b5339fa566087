"""Small seeded balancing instances (tests, examples, benchmark fallback).

Not the demo generator (``plan_lib.demo`` builds realistic contract tables); this
builds exactly the columns balancing reads, with the features that make balancing
hard: metros of very different sizes (so some areas must export accounts beyond
their nearest reps), heavy-tailed potential, families, customers with open
opportunities, leaving reps, open headcount and part-timers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
#: Share of accounts and of reps per segment.
SEGMENT_ACCOUNT_SHARE = (0.1, 0.3, 0.6)
SEGMENT_REP_SHARE = (0.25, 0.35, 0.4)


def synthetic_plan(
    n_accounts: int,
    n_reps: int,
    seed: int = 0,
    *,
    segments: tuple[str, ...] = SEGMENTS,
    n_metros: int = 25,
    family_share: float = 0.02,
    leaving_share: float = 0.05,
    open_share: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accounts, reps) frames with the columns ``balance_books`` reads."""
    rng = np.random.default_rng(seed)
    n_seg = len(segments)
    acc_share = np.array(SEGMENT_ACCOUNT_SHARE[:n_seg]) if n_seg <= 3 else np.full(n_seg, 1 / n_seg)
    rep_share = np.array(SEGMENT_REP_SHARE[:n_seg]) if n_seg <= 3 else np.full(n_seg, 1 / n_seg)
    acc_share, rep_share = acc_share / acc_share.sum(), rep_share / rep_share.sum()
    metro = np.c_[rng.uniform(26, 48, n_metros), rng.uniform(-122, -71, n_metros)]
    metro_size = rng.pareto(1.2, n_metros) + 1
    metro_p = metro_size / metro_size.sum()

    seg_idx = rng.choice(n_seg, n_accounts, p=acc_share)
    where = rng.choice(n_metros, n_accounts, p=metro_p)
    lat = metro[where, 0] + rng.normal(0, 0.6, n_accounts)
    lon = metro[where, 1] + rng.normal(0, 0.8, n_accounts)
    scale = np.array([8.0, 2.0, 0.5])[np.minimum(seg_idx, 2)] if n_seg <= 3 else np.ones(n_accounts)
    potential = np.round(scale * 10_000 * rng.lognormal(0, 0.9, n_accounts), 2)
    employees = np.round(scale * 100 * rng.lognormal(0, 1.0, n_accounts)).astype(int)
    is_customer = rng.random(n_accounts) < 0.2
    arr = np.where(
        is_customer, np.round(0.3 * potential * rng.lognormal(0, 0.5, n_accounts), 2), 0.0
    )
    intent = potential * rng.uniform(0.5, 1.5, n_accounts)
    industry = rng.choice(["Software", "Retail", "Health", "Finance", "Manufacturing"], n_accounts)
    account_id = np.array([f"A{i:06d}" for i in range(n_accounts)])
    region = np.where(lon < -104, "West", np.where(lon < -87, "Central", "East"))

    # reps: homes near metros in proportion to metro size (with a floor, so small metros have some)
    rep_seg = rng.choice(n_seg, n_reps, p=rep_share)
    for s in range(n_seg):  # every segment gets at least two reps
        if (rep_seg == s).sum() < 2:
            rep_seg[rng.choice(n_reps, 2, replace=False)] = s
    rep_p = (metro_p + 0.3 / n_metros) / (1 + 0.3)
    home = rng.choice(n_metros, n_reps, p=rep_p / rep_p.sum())
    home_lat = metro[home, 0] + rng.normal(0, 0.3, n_reps)
    home_lon = metro[home, 1] + rng.normal(0, 0.4, n_reps)
    rep_id = np.array([f"R{i:04d}" for i in range(n_reps)])
    status = np.full(n_reps, "active", dtype=object)
    draw = rng.random(n_reps)
    status[draw < leaving_share] = "leaving"
    status[(draw >= leaving_share) & (draw < leaving_share + open_share)] = "open"
    fte = np.where(rng.random(n_reps) < 0.08, 0.5, 1.0)
    reps = pd.DataFrame(
        {
            "rep_id": rep_id,
            "role": "rep",
            "segment": np.array(segments)[rep_seg],
            "region": np.where(
                home_lon < -104, "West", np.where(home_lon < -87, "Central", "East")
            ),
            "home_lat": np.where(status == "open", np.nan, home_lat),
            "home_lon": np.where(status == "open", np.nan, home_lon),
            "capacity_fte": fte,
            "status": status,
            "start_date": "2024-01-01",
        }
    )

    # owners: last year's owner, a not-open rep of the segment near the account (noisy)
    owner = np.full(n_accounts, "", dtype=object)
    for s in range(n_seg):
        cands = np.flatnonzero((rep_seg == s) & (status != "open"))
        rows = np.flatnonzero(seg_idx == s)
        if len(cands) == 0 or len(rows) == 0:
            continue
        d = (lat[rows, None] - home_lat[None, cands]) ** 2 + (
            lon[rows, None] - home_lon[None, cands]
        ) ** 2
        noisy = d * rng.lognormal(0, 0.7, d.shape)
        owner[rows] = rep_id[cands[np.argmin(noisy, axis=1)]]
    owner[rng.random(n_accounts) < 0.03] = ""  # new accounts
    parent = np.full(n_accounts, "", dtype=object)
    n_fam = int(family_share * n_accounts)
    if n_fam:
        parents = rng.choice(n_accounts, n_fam, replace=False)
        for p in parents:
            same = np.flatnonzero(seg_idx == seg_idx[p])
            kids = rng.choice(same, min(len(same), rng.integers(1, 4)), replace=False)
            kids = kids[(kids != p) & (parent[kids] == "") & ~np.isin(kids, parents)]
            parent[kids] = account_id[p]
            owner[kids] = owner[p]
    accounts = pd.DataFrame(
        {
            "account_id": account_id,
            "parent_account_id": parent,
            "segment": np.array(segments)[seg_idx],
            "region": region,
            "lat": lat,
            "lon": lon,
            "industry": industry,
            "employees": employees,
            "potential": potential,
            "workload": 1.0 + np.log1p(employees) / np.log(1001.0),
            "is_customer": is_customer,
            "current_arr": arr,
            "intent_potential": np.round(intent, 2),
            "current_owner": owner,
            "has_open_opportunity": is_customer & (rng.random(n_accounts) < 0.05),
        }
    )
    return accounts.astype({"parent_account_id": "str", "current_owner": "str"}), reps

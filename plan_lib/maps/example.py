"""Synthetic map inputs on real ZIP points: for tests, the benchmark and the README pictures.

Not a demo of the planning pipeline (that is :mod:`plan_lib.demo`): just enough
structure for maps to be meaningful. Accounts sit near real ZIP points of the
chosen states; each segment's reps live at k-means centres of that segment's
accounts and own the accounts nearest to them; a share of accounts moved from
their second-nearest rep; a share has only a postal code, and a few have neither
coordinates nor a usable postal code. Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from plan_lib import geo


def _kmeans(xy: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 12) -> np.ndarray:
    centres = xy[rng.choice(len(xy), size=k, replace=False)]
    for _ in range(iterations):
        label = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(k):
            if (label == j).any():
                centres[j] = xy[label == j].mean(axis=0)
    return centres


def _balance_scales(
    distance: np.ndarray, potential: np.ndarray, fte: np.ndarray, rounds: int = 60
) -> np.ndarray:
    """Per-rep reach such that "nearest by distance / reach" gives books of similar
    potential per FTE (a multiplicatively weighted Voronoi diagram): compact books,
    roughly balanced, like the output of a real balancing step."""
    target = potential.sum() * fte / fte.sum()
    scale = np.ones(distance.shape[1])
    for _ in range(rounds):
        load = np.bincount(
            (distance / scale).argmin(axis=1), weights=potential, minlength=len(scale)
        )
        scale *= np.clip((target / np.maximum(load, 1.0)) ** 0.25, 0.85, 1.15)
    return scale


def example_inputs(
    n_accounts: int = 300,
    states: Sequence[str] = ("CA", "OR", "WA", "NV"),
    reps_per_segment: int = 5,
    segments: Sequence[str] = ("Mid-Market",),
    seed: int = 0,
    postal_only_share: float = 0.05,
    unlocatable: int = 3,
    moved_share: float = 0.08,
    open_headcount: bool = False,
) -> dict[str, pd.DataFrame]:
    """Tables ``accounts`` (with ``potential``), ``reps``, ``assignments``, ``books``, ``attainment``.

    ``open_headcount`` makes the last rep of each segment an open seat without a home.
    """
    rng = np.random.default_rng(seed)
    zips = geo.load_zip_points()
    usable = zips[
        (zips["zip_type"] == "STANDARD")
        & zips["active"]
        & zips["county_fips"].notna()
        & zips["state"].isin(list(states))
    ].reset_index(drop=True)
    if usable.empty:
        raise ValueError(f"no ZIP points in states {list(states)}")
    row = rng.integers(0, len(usable), size=n_accounts)
    base = usable.iloc[row].reset_index(drop=True)
    lat = np.round(base["lat"].to_numpy() + rng.normal(0, 0.02, n_accounts), 5)
    lon = np.round(base["lon"].to_numpy() + rng.normal(0, 0.02, n_accounts), 5)
    segment = np.asarray(segments, dtype=object)[rng.integers(0, len(segments), size=n_accounts)]
    potential = np.round(rng.lognormal(mean=10.5, sigma=1.0, size=n_accounts), 0)
    is_customer = rng.random(n_accounts) < 0.3
    account_id = [f"A{i:06d}" for i in range(n_accounts)]

    xy = np.column_stack([lon * np.cos(np.radians(lat)), lat])
    rep_rows, owner, previous = (
        [],
        np.empty(n_accounts, dtype=object),
        np.empty(n_accounts, dtype=object),
    )
    for s_index, name in enumerate(segments):
        members = np.flatnonzero(segment == name)
        k = min(reps_per_segment, len(members))
        # Reps live in the lower 48 (Alaska and Hawaii accounts are served from there),
        # as in most sales teams; a rep placed in Honolulu would pull in half of the West.
        mainland = members[~base["state"].iloc[members].isin(["AK", "HI"]).to_numpy()]
        centres = _kmeans(xy[mainland if len(mainland) >= k else members], k, rng)
        ids = [f"R{s_index + 1}{j + 1:02d}" for j in range(k)]
        fte = np.where(np.arange(k) % 4 == 0, 0.8, 1.0)
        distance = np.sqrt(((xy[members][:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
        scale = _balance_scales(distance, potential[members], fte)
        order = (distance / scale[None, :]).argsort(axis=1)
        owner[members] = np.asarray(ids, dtype=object)[order[:, 0]]
        second = order[:, 1] if k > 1 else order[:, 0]
        moves = rng.random(len(members)) < moved_share
        previous[members] = np.where(moves, np.asarray(ids, dtype=object)[second], owner[members])
        for j, rep in enumerate(ids):
            is_open = open_headcount and j == k - 1
            home_lat = centres[j, 1]
            home_lon = centres[j, 0] / np.cos(np.radians(home_lat))
            rep_rows.append(
                {
                    "rep_id": rep,
                    "name": "" if is_open else f"Rep {rep}",
                    "role": "rep",
                    "segment": name,
                    "region": geo.STATE_REGION.get(states[0], ""),
                    "home_lat": np.nan if is_open else round(float(home_lat), 4),
                    "home_lon": np.nan if is_open else round(float(home_lon), 4),
                    "capacity_fte": float(fte[j]),
                    "status": "open" if is_open else "active",
                }
            )
    reps = pd.DataFrame(rep_rows)
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(account_id, dtype="str"),
            "name": pd.Series([f"Company {i}" for i in range(n_accounts)], dtype="str"),
            "state": base["state"].astype("str"),
            "county_fips": base["county_fips"].astype("str"),
            "postal_code": base["zip"].astype("str"),
            "lat": lat,
            "lon": lon,
            "is_customer": is_customer,
            "current_arr": np.where(
                is_customer, np.round(potential * rng.uniform(0.1, 0.5, n_accounts)), np.nan
            ),
            "current_owner": pd.Series(previous, dtype="str"),
            "segment": pd.Series(segment, dtype="str"),
            "potential": potential,
        }
    )
    postal_only = rng.random(n_accounts) < postal_only_share
    accounts.loc[postal_only, ["lat", "lon"]] = np.nan
    accounts.loc[postal_only, "county_fips"] = pd.NA
    lost = rng.choice(
        np.flatnonzero(~postal_only), size=min(unlocatable, n_accounts), replace=False
    )
    accounts.loc[lost, ["lat", "lon"]] = np.nan
    accounts.loc[lost, "postal_code"] = pd.Series(["", "ABCDE", "00000"] * len(lost), dtype="str")[
        : len(lost)
    ].to_numpy()

    assignments = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "rep_id": pd.Series(owner, dtype="str"),
            "previous_rep_id": accounts["current_owner"],
            "moved": owner != previous,
            "reason": np.where(owner != previous, "balance", "continuity"),
        }
    )
    books = (
        assignments.merge(accounts[["account_id", "potential"]], on="account_id")
        .groupby("rep_id")
        .agg(potential=("potential", "sum"), n_accounts=("account_id", "size"))
        .reset_index()
    )
    books = books.merge(reps[["rep_id", "segment", "capacity_fte"]], on="rep_id").rename(
        columns={"capacity_fte": "fte"}
    )
    books["potential_per_fte"] = books["potential"] / books["fte"]
    books["deviation"] = (
        books["potential_per_fte"] / books.groupby("segment")["potential_per_fte"].transform("mean")
        - 1.0
    )

    zone = accounts.dropna(subset=["county_fips"]).groupby("county_fips")["potential"].sum()
    attainment = pd.DataFrame(
        {
            "county_fips": zone.index.astype("str"),
            "quota": np.round(zone.to_numpy() * 0.25),
            "bookings": np.round(zone.to_numpy() * 0.25 * rng.uniform(0.2, 0.9, len(zone))),
        }
    )
    return {
        "accounts": accounts,
        "reps": reps,
        "assignments": assignments,
        "books": books,
        "attainment": attainment,
    }


def review_edits(assignments: pd.DataFrame, books: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """A lock run's assignments for the pictures: ``draft_rep_id`` keeps the draft owner
    and ``share`` of the accounts went, in review, to another rep of the same segment."""
    rng = np.random.default_rng(seed)
    refined = assignments.assign(draft_rep_id=assignments["rep_id"])
    segment_of = books.set_index("rep_id")["segment"]
    peers = books.groupby("segment")["rep_id"].agg(list)
    owned = refined.index[refined["rep_id"].isin(segment_of.index)]
    for i in rng.choice(owned, int(share * len(owned)), replace=False):
        others = [r for r in peers[segment_of[refined.at[i, "rep_id"]]] if r != refined.at[i, "rep_id"]]
        if others:
            refined.at[i, "rep_id"] = others[int(rng.integers(len(others)))]
    return refined


#: States of the README pictures: the West sales region, Alaska and Hawaii included.
PICTURE_STATES = tuple(s for s, region in geo.STATE_REGION.items() if region == "West")


def write_pictures(out_dir: str) -> dict[str, str]:
    """Write one PNG of each static map kind and the folium HTML (the README pictures).

    Usage: ``python -m plan_lib.maps.example docs/images``. Deterministic: same code,
    same pictures.
    """
    from pathlib import Path

    from plan_lib.maps import interactive, static
    from plan_lib.maps.api import REVIEW_MOVES_TITLE
    from plan_lib.maps.layers import build_layers
    from plan_lib.maps.params import MapParams

    data = example_inputs(
        n_accounts=3_000,
        states=PICTURE_STATES,
        reps_per_segment=8,
        seed=1,
        unlocatable=4,
        open_headcount=True,
    )
    params = MapParams(elapsed_share=0.6, dpi=96)
    layers = build_layers(
        data["accounts"],
        data["reps"],
        data["assignments"],
        data["books"],
        params,
        data["attainment"],
    )
    locked = build_layers(
        data["accounts"],
        data["reps"],
        review_edits(data["assignments"], data["books"], 0.02, seed=1),
        data["books"],
        params,
    )
    out = Path(out_dir)
    figures = {
        "map-books": static.books_map(layers, params),
        "map-potential": static.choropleth_map(layers, "potential", params),
        "map-whitespace": static.choropleth_map(layers, "whitespace", params),
        "map-coverage": static.choropleth_map(layers, "coverage", params),
        "map-moves": static.moves_map(layers, params),
        "map-attainment": static.attainment_map(layers, params),
        "map-review-moves": static.moves_map(locked.against_draft(), params, REVIEW_MOVES_TITLE),
    }
    written = {
        name: str(static.save_png(fig, out / f"{name}.png", optimize=True))
        for name, fig in figures.items()
    }
    # The HTML carries every account as a feature: a smaller sample keeps it light to commit.
    small = example_inputs(
        n_accounts=600, states=("WA", "OR", "ID"), reps_per_segment=5, seed=2, unlocatable=2
    )
    small_layers = build_layers(
        small["accounts"], small["reps"], small["assignments"], small["books"], params
    )
    html = out / "map-interactive.html"
    interactive.folium_map(small_layers, params, zones=("potential", "coverage")).save(str(html))
    if (
        html.stat().st_size > 2_000_000
    ):  # too heavy to commit: skip it rather than bloat the repository
        html.unlink()
    else:
        written["map-interactive"] = str(html)
    return written


if __name__ == "__main__":
    import sys

    for name, path in write_pictures(sys.argv[1] if len(sys.argv) > 1 else "docs/images").items():
        print(f"{name}: {path}")

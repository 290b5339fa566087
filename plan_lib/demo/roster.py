"""The sales roster: quota-carrying reps and the hierarchy above them.

- ``n_reps`` rows have role "rep" (the open headcount row included): 25% /
  35% / 40% in Enterprise / Mid-Market / SMB, and within a segment the regions
  get reps in proportion to the segment-region's expected bookings (at least
  one each), so a balanced plan exists.
- Last period's books are cut here, because homes follow them: inside each
  segment-region the account families are split by recursive bisection
  (``bisection.bisect``) so that each rep's expected bookings match a
  capacity of FTE x (1 + u), u uniform in +/-30% (a deliberately uneven
  plan: some reps overloaded, some light). A rep's home is the ZIP point of
  the account nearest the weighted centre of its book, moved ~5 km; the open
  headcount row gets no book and a home at an account location of its
  segment-region drawn with weight = expected bookings.
- Most reps started 7 months to 8 years before the period; 10% started in the
  last 6 months (capacity 1.0: ramping is derived from start_date by the
  pipeline); two tenured reps work half time (0.5 FTE); exactly one tenured rep
  is "leaving" (still holds a book); exactly one "open" row (no name or email)
  starts one month into the period, in the segment-region with the most
  expected bookings per rep.
- Hierarchy: one manager per 9 reps (at least one) per segment x region, teams
  cut west to east; one director per region; one VP (empty manager_id).
  Managers, directors and the VP carry no quota (capacity_fte 0).
- Ids: reps R0001.. in random order (ids say nothing about territory),
  managers M001.., directors D01.., the VP V01.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.contract import REPS
from plan_lib.demo._columns import id_width, make_ids
from plan_lib.demo.bisection import bisect, weighted_medoid
from plan_lib.demo.calendar import DemoDataError, Timeline, add_months, to_datetime64
from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.segments import SEGMENTS
from plan_lib.demo.vocabulary import FIRST_NAMES, LAST_NAMES

SEGMENT_REP_SHARES = (0.25, 0.35, 0.40)
REPS_PER_MANAGER = 9
NEW_HIRE_SHARE = 0.10
N_PART_TIME = 2
HOME_JITTER_DEG = 0.05
IMBALANCE = 0.30
MIN_REPS = len(SEGMENTS) * len(geo.REGIONS) + 1  # a rep per cell, plus the open headcount


@dataclass
class Sellers:
    """The role-"rep" rows as parallel arrays (row k is rep ``rep_id[k]``)."""

    rep_id: np.ndarray  # object array of str
    segment: np.ndarray  # index into SEGMENTS
    region: np.ndarray  # index into geo.REGIONS
    lat: np.ndarray
    lon: np.ndarray
    start_day: np.ndarray
    fte: np.ndarray
    status: np.ndarray  # "active" | "leaving" | "open"

    @property
    def n(self) -> int:
        return len(self.rep_id)

    @property
    def can_own(self) -> np.ndarray:
        """Reps who held a book last period (everyone but the open headcount)."""
        return self.status != "open"


@dataclass
class Roster:
    table: pd.DataFrame  # the contract's reps table, every role
    sellers: Sellers
    # seller row owning each family head last period; -1 for children and new accounts
    book: np.ndarray


def largest_remainder(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``weights``, each >= ``minimum``.

    Parts that would fall below the minimum are pinned to it and the rest is
    shared again among the others, so the minimum does not skew the big parts.
    """
    weights = np.asarray(weights, dtype=float) + 1e-12
    if total < minimum * len(weights):
        raise DemoDataError(f"cannot split {total} into {len(weights)} parts of at least {minimum}")
    pinned = np.zeros(len(weights), dtype=bool)
    while True:
        free = total - minimum * pinned.sum()
        share = np.where(pinned, 0.0, weights / weights[~pinned].sum() * free)
        low = ~pinned & (share < minimum)
        if not low.any():
            break
        pinned |= low
    counts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: free - counts.sum()]] += 1
    counts[pinned] = minimum
    return counts


def _people(n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """``n`` distinct full names and their example.com emails."""
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    if n > combos:
        raise DemoDataError(f"the roster needs {n} people but only {combos} distinct names exist")
    pick = rng.choice(combos, size=n, replace=False)
    first = [FIRST_NAMES[k // len(LAST_NAMES)] for k in pick]
    last = [LAST_NAMES[k % len(LAST_NAMES)] for k in pick]
    names = [f"{given} {family}" for given, family in zip(first, last, strict=True)]
    emails = [
        f"{given.lower()}.{family.lower()}@example.com"
        for given, family in zip(first, last, strict=True)
    ]
    return names, emails


def _staffing(
    segment: np.ndarray,
    region: np.ndarray,
    cell_value: np.ndarray,
    counts: np.ndarray,
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status, start day and FTE of every rep (see the module docstring)."""
    n = len(segment)
    status = np.full(n, "active", dtype=object)
    per_rep = np.where(counts >= 2, cell_value / np.maximum(counts, 1), -np.inf)
    s_open, g_open = np.unravel_index(np.argmax(per_rep), per_rep.shape)
    open_row = int(rng.choice(np.flatnonzero((segment == s_open) & (region == g_open))))
    others = rng.permutation(np.setdiff1d(np.arange(n), [open_row]))
    n_new = int(round(NEW_HIRE_SHARE * n))
    new_rows, leaving_row = others[:n_new], others[n_new]
    part_time_rows = others[n_new + 1 : n_new + 1 + N_PART_TIME]

    status[open_row] = "open"
    status[leaving_row] = "leaving"
    start = timeline.period.start
    start_day = rng.integers(add_months(start, -96), add_months(start, -7), size=n)
    start_day[new_rows] = rng.integers(timeline.snapshot - 182, timeline.snapshot + 1, size=n_new)
    start_day[open_row] = add_months(start, 1)
    fte = np.ones(n)
    fte[part_time_rows] = 0.5
    return status, start_day, fte


@dataclass
class _Team:
    segment: int
    region: int
    lat: float
    lon: float
    members: np.ndarray


def _teams(
    segment: np.ndarray, region: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> list[_Team]:
    """Up to REPS_PER_MANAGER reps per team, cut west to east inside each segment-region;
    the manager lives at the member nearest the team's centre."""
    teams = []
    for s in np.unique(segment):
        for g in np.unique(region):
            rows = np.flatnonzero((segment == s) & (region == g))
            rows = rows[np.argsort(lon[rows], kind="stable")]
            for members in np.array_split(rows, max(1, int(np.ceil(len(rows) / REPS_PER_MANAGER)))):
                spread = (lat[members] - lat[members].mean()) ** 2 + (
                    lon[members] - lon[members].mean()
                ) ** 2
                centre = members[np.argmin(spread)]
                teams.append(_Team(int(s), int(g), float(lat[centre]), float(lon[centre]), members))
    return teams


def _books_and_homes(
    accounts: Accounts,
    value: np.ndarray,
    segment: np.ndarray,
    region: np.ndarray,
    status: np.ndarray,
    fte: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seller row of each family head's book (-1: new accounts, children) and every rep's home."""
    zips = geo.load_zip_points()
    zip_lat, zip_lon = zips["lat"].to_numpy(), zips["lon"].to_numpy()
    n = len(segment)
    capacity = fte * (1.0 + rng.uniform(-IMBALANCE, IMBALANCE, size=n))
    jitter = rng.normal(0.0, HOME_JITTER_DEG, size=(2, n))
    family_value = np.bincount(accounts.head, weights=value, minlength=accounts.n) + 1e-9
    heads = np.flatnonzero((accounts.parent < 0) & ~accounts.is_new)
    book = np.full(accounts.n, -1, dtype=np.int64)
    home_zip = np.zeros(n, dtype=np.int64)
    for s in np.unique(segment):
        for g in np.unique(region):
            cell = np.flatnonzero((accounts.segment == s) & (accounts.region == g))
            if len(cell) == 0:
                cell = np.flatnonzero(accounts.region == g)
            units = heads[(accounts.segment[heads] == s) & (accounts.region[heads] == g)]
            reps = np.flatnonzero((segment == s) & (region == g))
            owning = reps[status[reps] != "open"]
            seat = bisect(
                accounts.lat[units], accounts.lon[units], family_value[units], capacity[owning]
            )
            book[units] = owning[seat]
            for k, rep in enumerate(owning):
                mine = units[seat == k]
                if len(mine) == 0:
                    mine = cell
                centre = mine[
                    weighted_medoid(accounts.lat[mine], accounts.lon[mine], family_value[mine])
                ]
                home_zip[rep] = accounts.zip_row[centre]
            for rep in reps[status[reps] == "open"]:
                w = family_value[cell]
                home_zip[rep] = accounts.zip_row[cell[rng.choice(len(cell), p=w / w.sum())]]
    lat0, lon0 = zip_lat[home_zip], zip_lon[home_zip]
    lat = np.round(lat0 + jitter[0], 4)
    lon = np.round(lon0 + jitter[1] / np.cos(np.radians(lat0)), 4)
    return book, lat, lon


def build_roster(
    accounts: Accounts,
    expected_bookings: np.ndarray,
    n_reps: int,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Roster:
    """Reps, managers, directors and the VP, and last period's books (see the module docstring)."""
    if n_reps < MIN_REPS:
        raise DemoDataError(
            f"n_reps must be at least {MIN_REPS} (one per segment and region, plus the open "
            f"headcount), got {n_reps}"
        )
    n_seg, n_reg = len(SEGMENTS), len(geo.REGIONS)
    weight = expected_bookings + 1e-9
    cell_value = np.zeros((n_seg, n_reg))
    np.add.at(cell_value, (accounts.segment, accounts.region), weight)
    if (cell_value.sum(axis=0) <= 1e-6).any():
        raise DemoDataError("too few accounts to populate every region: ask for more accounts")

    per_segment = largest_remainder(n_reps, np.array(SEGMENT_REP_SHARES), minimum=n_reg)
    counts = np.stack(
        [largest_remainder(int(per_segment[s]), cell_value[s], minimum=1) for s in range(n_seg)]
    )
    segment = np.repeat(np.repeat(np.arange(n_seg), n_reg), counts.ravel())
    region = np.repeat(np.tile(np.arange(n_reg), n_seg), counts.ravel())
    status, start_day, fte = _staffing(segment, region, cell_value, counts, timeline, rng)
    book, lat, lon = _books_and_homes(accounts, weight, segment, region, status, fte, rng)
    rep_ids = make_ids("R", rng.permutation(n_reps) + 1, id_width(n_reps, 4)).to_numpy(dtype=object)
    teams = _teams(segment, region, lat, lon)
    manager_ids = make_ids("M", np.arange(1, len(teams) + 1), id_width(len(teams), 3)).tolist()
    director_ids = make_ids("D", np.arange(1, n_reg + 1), 2).tolist()
    vp_id = "V01"
    rep_manager = np.empty(n_reps, dtype=object)
    for manager_id, team in zip(manager_ids, teams, strict=True):
        rep_manager[team.members] = manager_id

    n_leads = len(teams) + n_reg + 1
    names, emails = _people(n_reps + n_leads, rng)
    start = timeline.period.start
    lead_start = rng.integers(add_months(start, -144), add_months(start, -12), size=n_leads)
    director_home = [next((t.lat, t.lon) for t in teams if t.region == g) for g in range(n_reg)]
    vacant = status == "open"

    def part(**columns: object) -> pd.DataFrame:
        return pd.DataFrame(columns)

    frames: list[pd.DataFrame] = [
        part(
            rep_id=rep_ids,
            name=pd.Series(names[:n_reps], dtype="str").where(~vacant),
            email=pd.Series(emails[:n_reps], dtype="str").where(~vacant),
            role="rep",
            manager_id=rep_manager,
            segment=np.array(SEGMENTS)[segment],
            region=np.array(geo.REGIONS)[region],
            home_lat=lat,
            home_lon=lon,
            start_date=start_day,
            capacity_fte=fte,
            status=status,
        ),
        part(
            rep_id=manager_ids,
            name=names[n_reps : n_reps + len(teams)],
            email=emails[n_reps : n_reps + len(teams)],
            role="manager",
            manager_id=[director_ids[t.region] for t in teams],
            segment=[SEGMENTS[t.segment] for t in teams],
            region=[geo.REGIONS[t.region] for t in teams],
            home_lat=[t.lat for t in teams],
            home_lon=[t.lon for t in teams],
            start_date=lead_start[: len(teams)],
            capacity_fte=0.0,
            status="active",
        ),
        part(
            rep_id=director_ids + [vp_id],
            name=names[n_reps + len(teams) :],
            email=emails[n_reps + len(teams) :],
            role=["director"] * n_reg + ["vp"],
            manager_id=[vp_id] * n_reg + [None],
            segment=None,
            region=list(geo.REGIONS) + [None],
            home_lat=[h[0] for h in director_home] + [director_home[-1][0]],
            home_lon=[h[1] for h in director_home] + [director_home[-1][1]],
            start_date=lead_start[len(teams) :],
            capacity_fte=0.0,
            status="active",
        ),
    ]
    table = pd.concat(frames, ignore_index=True)
    text = ["rep_id", "name", "email", "role", "manager_id", "segment", "region", "status"]
    table = table.astype(
        {c: "str" for c in text} | {"home_lat": float, "home_lon": float, "capacity_fte": float}
    )
    table["start_date"] = to_datetime64(table["start_date"].to_numpy(dtype=np.int64))
    table = table[REPS.column_names].sort_values("rep_id", kind="stable").reset_index(drop=True)
    sellers = Sellers(rep_ids, segment, region, lat, lon, start_day, fte, status)
    return Roster(table=table, sellers=sellers, book=book)

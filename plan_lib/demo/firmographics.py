"""Accounts: where they are, what they do, how big they are, who already buys.

Assumptions (currency per year throughout):

- Location: a ZIP point drawn from the active STANDARD ZIPs of the 50 states +
  DC, each ZIP weighted by sqrt(ZIPs in its county), so a county's share grows
  with (ZIPs in county)^1.5 and metros dominate as they do in B2B data. The
  point is jittered by about 2 km (sd 0.02 degrees of latitude). The county and
  postal code stay those of the ZIP (the business address).
- Industry: 12 industries with fixed shares (``vocabulary.INDUSTRIES``).
- Employees: lognormal (sigma 1.5 around the industry's median, 20-70 heads)
  for 99.7%, and a Pareto tail (alpha 1.3 from 1,500, capped at 400,000) for
  0.3%: the top 1% of accounts hold a sizeable share of all employees.
- Annual revenue = employees x the industry's revenue per employee x
  lognormal(0, 0.5) noise, rounded to the thousand.
- Families: about 2% of accounts (drawn with weight sqrt(employees)) are
  parents of 1-6 children each; children are accounts anywhere in the US,
  resized to 2-30% of the parent's head count, mostly in the parent's industry.
- New accounts: 3% of the stand-alone accounts appeared this period: prospects
  with no history and no owner yet.
- Customers: about 20% of accounts, likelier for bigger and more engaged
  accounts; customers carry current_arr = 5,000 x sqrt(employees) x lognormal
  noise (mean 1, sd-log 0.7); prospects leave current_arr empty (not 0: "no
  contract" is not "a contract worth 0").
- Engagement: a hidden standard-normal trait per account that drives intent
  surges, activity and opportunity rates; it reaches the propensity only
  through those observable signals.
- 0.5% of accounts lose their lat/lon in the files (postal code kept), so the
  pipeline has to place them by ZIP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.demo._columns import labels
from plan_lib.demo.segments import DEFAULT_SEGMENT_RULES, SegmentRule, segment_codes
from plan_lib.demo.vocabulary import CHILD_SUFFIXES, INDUSTRIES, NAME_PREFIXES

PARENT_SHARE = 0.02
MAX_CHILDREN = 6
NEW_SHARE = 0.03
CUSTOMER_SHARE = 0.20
MISSING_COORDS_SHARE = 0.005
JITTER_DEG = 0.02
EMPLOYEE_SIGMA = 1.5
TAIL_SHARE = 0.003
TAIL_MIN_EMPLOYEES = 1500
TAIL_ALPHA = 1.3
MAX_EMPLOYEES = 400_000


@dataclass
class Accounts:
    """All accounts as parallel numpy arrays (row i = account i, id A{i+1}).

    Hidden fields (engagement, is_new) never reach the contract tables.
    """

    zip_row: np.ndarray  # row in geo.load_zip_points()
    lat: np.ndarray  # true location (also where accounts with masked coordinates are)
    lon: np.ndarray
    state: np.ndarray  # index into geo.STATES
    region: np.ndarray  # index into geo.REGIONS
    industry: np.ndarray  # index into vocabulary.INDUSTRIES
    employees: np.ndarray
    revenue: np.ndarray
    parent: np.ndarray  # parent's row, -1 for parents and stand-alone accounts
    segment: np.ndarray  # index into segments.SEGMENTS (children carry the parent's)
    is_new: np.ndarray
    is_customer: np.ndarray
    arr: np.ndarray  # NaN for prospects
    engagement: np.ndarray
    coords_missing: np.ndarray
    name: pd.Series

    @property
    def n(self) -> int:
        return len(self.lat)

    @property
    def head(self) -> np.ndarray:
        """Row of the family head (the parent, or the account itself)."""
        return np.where(self.parent >= 0, self.parent, np.arange(self.n))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrate_intercept(score: np.ndarray, target_mean: float) -> float:
    """Intercept c with mean(sigmoid(c + score)) == target_mean (bisection, deterministic)."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if _sigmoid(mid + score).mean() < target_mean:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _locations(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    zips = geo.load_zip_points()
    usable = (zips["zip_type"] == "STANDARD") & zips["active"] & zips["county_fips"].notna()
    rows = np.flatnonzero(usable.to_numpy())
    county = zips["county_fips"].to_numpy()[rows]
    _, inverse, counts = np.unique(county, return_inverse=True, return_counts=True)
    weight = np.sqrt(counts[inverse].astype(float))
    zip_row = rows[rng.choice(len(rows), size=n, p=weight / weight.sum())]
    lat0 = zips["lat"].to_numpy()[zip_row]
    lon0 = zips["lon"].to_numpy()[zip_row]
    jitter = rng.normal(0.0, JITTER_DEG, size=(2, n))
    lat = np.round(lat0 + jitter[0], 5)
    lon = np.round(lon0 + jitter[1] / np.cos(np.radians(lat0)), 5)
    return zip_row, lat, lon


def _employees(industry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(industry)
    mu = np.array([i.log_median_employees for i in INDUSTRIES])[industry]
    body = np.exp(mu + EMPLOYEE_SIGMA * rng.standard_normal(n))
    tail = TAIL_MIN_EMPLOYEES * (1.0 + rng.pareto(TAIL_ALPHA, size=n))
    heads = np.where(rng.random(n) < TAIL_SHARE, tail, body)
    return np.clip(np.round(heads), 1, MAX_EMPLOYEES).astype(np.int64)


def _families(employees: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Parent row of each account (-1 for parents and stand-alone accounts)."""
    n = len(employees)
    n_parents = int(round(PARENT_SHARE * n))
    parent = np.full(n, -1, dtype=np.int64)
    if n_parents == 0:
        return parent
    weight = np.sqrt(employees.astype(float))
    parents = np.sort(rng.choice(n, size=n_parents, replace=False, p=weight / weight.sum()))
    n_children = rng.integers(1, MAX_CHILDREN + 1, size=n_parents)
    others = np.setdiff1d(np.arange(n), parents)
    n_children = np.minimum(n_children, len(others) // n_parents)  # only bites on tiny sets
    children = rng.permutation(others)[: n_children.sum()]
    parent[children] = np.repeat(parents, n_children)
    return parent


def _names(
    industry: np.ndarray, parent: np.ndarray, city: pd.Series, rng: np.random.Generator
) -> pd.Series:
    """ "Harbor Analytics Inc"; a child is "<parent's core> <its city> <LLC|Inc|...>"."""
    n = len(industry)
    words = [w for i in INDUSTRIES for w in i.name_words]
    word_start = np.cumsum([0] + [len(i.name_words) for i in INDUSTRIES])[:-1]
    word_count = np.array([len(i.name_words) for i in INDUSTRIES])
    suffixes = [f" {s}" if s else "" for i in INDUSTRIES for s in i.suffixes]
    suffix_start = np.cumsum([0] + [len(i.suffixes) for i in INDUSTRIES])[:-1]
    suffix_count = np.array([len(i.suffixes) for i in INDUSTRIES])

    u = rng.random((3, n))
    prefix_code = (u[0] * len(NAME_PREFIXES)).astype(np.int64)
    word_code = word_start[industry] + (u[1] * word_count[industry]).astype(np.int64)
    suffix_code = suffix_start[industry] + (u[2] * suffix_count[industry]).astype(np.int64)
    is_child = parent >= 0
    prefix_code[is_child] = prefix_code[parent[is_child]]
    word_code[is_child] = word_code[parent[is_child]]

    core = labels(NAME_PREFIXES, prefix_code) + " " + labels(words, word_code)
    own = core + labels(suffixes, suffix_code)
    child_suffix = labels(
        [f" {s}" for s in CHILD_SUFFIXES], rng.integers(0, len(CHILD_SUFFIXES), n)
    )
    child = core + " " + city + child_suffix
    return own.where(~pd.Series(is_child), child).astype("str")


def build_accounts(
    n: int,
    rng: np.random.Generator,
    rules: tuple[SegmentRule, ...] = DEFAULT_SEGMENT_RULES,
) -> Accounts:
    """Draw ``n`` accounts (see the module docstring for every assumption)."""
    zips = geo.load_zip_points()
    zip_row, lat, lon = _locations(n, rng)
    state_index = {s: k for k, s in enumerate(geo.STATES)}
    state = zips["state"].map(state_index).to_numpy(dtype=np.int16)[zip_row]
    region_of = np.array(
        [geo.REGIONS.index(geo.STATE_REGION[s]) for s in geo.STATES], dtype=np.int8
    )

    weights = np.array([i.weight for i in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), size=n, p=weights / weights.sum()).astype(np.int8)
    employees = _employees(industry, rng)

    parent = _families(employees, rng)
    is_child = parent >= 0
    share = rng.uniform(0.02, 0.30, size=n)
    employees[is_child] = np.maximum(
        5, np.minimum(employees[is_child], np.round(employees[parent[is_child]] * share[is_child]))
    ).astype(np.int64)
    same_industry = rng.random(n) < 0.8
    keep = is_child & same_industry
    industry[keep] = industry[parent[keep]]

    rpe = np.array([i.revenue_per_employee for i in INDUSTRIES])[industry]
    revenue = np.round(employees * rpe * rng.lognormal(0.0, 0.5, size=n), -3)

    engagement = rng.standard_normal(n)
    standalone = np.flatnonzero(~is_child & ~np.isin(np.arange(n), parent[is_child]))
    is_new = np.zeros(n, dtype=bool)
    is_new[rng.choice(standalone, size=int(round(NEW_SHARE * n)), replace=False)] = True

    size = np.log(employees) - 3.5
    score = 0.45 * size + 0.3 * engagement
    eligible = ~is_new
    target = min(0.95, CUSTOMER_SHARE * n / max(eligible.sum(), 1))
    intercept = calibrate_intercept(score[eligible], target)
    is_customer = eligible & (rng.random(n) < _sigmoid(intercept + score))
    arr_noise = rng.lognormal(-0.245, 0.7, size=n)
    arr = np.where(is_customer, np.round(5000.0 * np.sqrt(employees) * arr_noise, -2), np.nan)

    coords_missing = rng.random(n) < MISSING_COORDS_SHARE
    city = zips["city"].take(zip_row).reset_index(drop=True)
    return Accounts(
        zip_row=zip_row,
        lat=lat,
        lon=lon,
        state=state,
        region=region_of[state],
        industry=industry,
        employees=employees,
        revenue=revenue,
        parent=parent,
        segment=segment_codes(employees, revenue, parent, rules),
        is_new=is_new,
        is_customer=is_customer,
        arr=arr,
        engagement=engagement,
        coords_missing=coords_missing,
        name=_names(industry, parent, city, rng),
    )

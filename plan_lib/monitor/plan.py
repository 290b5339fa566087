"""The plan being monitored, as one typed object: who holds which account, with what quota.

Inputs come from three steps (ingest: accounts and reps; balance: assignments
and books; quotas: the quotas table) and may disagree at the edges: an account
created after the plan, a rep in the quotas without a book. Those edges are
resolved here, once, with a note for each, so every later module works on
plain integer indices:

- ``Plan.accounts``: one row per planned account, ``rep`` = index into
  ``Plan.reps`` (-1: the holder carries no quota in the plan).
- ``Plan.reps``: the quota-carrying reps (rows of the quotas table), with
  quota, quota split, FTE, book potential and home.
- ``Plan.hierarchy``: the reporting tree above them (``plan_lib.quotas.hierarchy``).

Account potential is read from, in order: ``assignments.potential``,
``tables['accounts'].potential``, ``tables['scores'].potential`` (the scoring
step's output). The account's segment likewise (assignments, scores, accounts,
else its rep's); its region from ``accounts.region`` or its state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from plan_lib.errors import InputError
from plan_lib.geo import region_of_state
from plan_lib.quotas.hierarchy import Hierarchy, build_hierarchy

NONE_LABEL = "(none)"
_SPLIT = re.compile(r"^quota_([mq])(\d+)$")


def lookup(values: pd.Series | np.ndarray, keys: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Position of each value in ``keys`` (-1 when absent), by an Arrow hash join.

    ``pd.Index.get_indexer`` takes 12 s for 5M Arrow strings against 1M keys;
    ``pyarrow.compute.index_in`` takes under 2 s.
    """
    v = pa.array(np.asarray(values, dtype=object) if isinstance(values, np.ndarray) else values, type=pa.string(), from_pandas=True)
    k = pa.array(np.asarray(keys, dtype=object) if not isinstance(keys, pd.Series) else keys, type=pa.string(), from_pandas=True)
    return pc.index_in(v, value_set=k).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def text(frame: pd.DataFrame, column: str, default: str = "") -> pd.Series:
    """A text column stripped, missing or empty as ``default`` (absent columns are allowed)."""
    if column not in frame.columns:
        return pd.Series([default] * len(frame), index=frame.index, dtype="str")
    out = frame[column].astype("str").str.strip()
    return out.where(frame[column].notna() & (out != ""), default)


def _require(frame: pd.DataFrame, source: str, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError(source, "missing column", column=column, fix="pass the output of the step that makes it (see README 'Monitoring')")


@dataclass
class Plan:
    accounts: pd.DataFrame  # account_id, rep, potential, segment, region, industry, state, county_fips, lat, lon, ...
    reps: pd.DataFrame  # rep_id, manager_id, segment, region, status, fte, quota, potential, home_lat, home_lon, quota_<u>k
    hierarchy: Hierarchy
    split_columns: list[str]  # quota_m1.. (or quota_q1..) in order, empty without a split
    split_unit: str  # "month", "quarter" or ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @property
    def n_accounts(self) -> int:
        return len(self.accounts)


def _potential(assignments: pd.DataFrame, tables: dict[str, pd.DataFrame], account_id: pd.Series) -> tuple[np.ndarray, str]:
    if "potential" in assignments.columns:
        return pd.to_numeric(assignments["potential"], errors="coerce").to_numpy(dtype=float), "assignments"
    for name in ("accounts", "scores"):
        frame = tables.get(name)
        if frame is not None and "potential" in frame.columns and "account_id" in frame.columns:
            pos = lookup(account_id, frame["account_id"])
            values = pd.to_numeric(frame["potential"], errors="coerce").to_numpy(dtype=float)
            return np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan), name
    raise InputError(
        "assignments", "no account potential found", column="potential",
        fix="pass the scoring step's scores as tables['scores'] (account_id, potential), or a potential column "
        "in the assignments or accounts",
    )


def _split_columns(quotas: pd.DataFrame) -> tuple[list[str], str]:
    found = [(m.group(1), int(m.group(2)), c) for c in quotas.columns if (m := _SPLIT.match(str(c)))]
    if not found:
        return [], ""
    unit = found[0][0]
    columns = [c for u, _, c in sorted(found) if u == unit]
    return columns, {"m": "month", "q": "quarter"}[unit]


def build_plan(
    tables: dict[str, pd.DataFrame],
    assignments: pd.DataFrame,
    quotas: pd.DataFrame,
    books: pd.DataFrame | None = None,
) -> Plan:
    """Join the plan's pieces (see the module docstring for the rules)."""
    notes: list[str] = []
    for name in ("accounts", "reps"):
        if name not in tables:
            raise InputError(name, "table missing from the monitored data", fix="ingest the data source first")
    _require(assignments, "assignments", ["account_id", "rep_id"])
    _require(quotas, "quotas", ["rep_id", "quota"])
    roster = tables["reps"]
    _require(roster, "reps", ["rep_id", "manager_id"])

    # ---- reps: the quotas table's rows, completed from the roster and the books
    reps = pd.DataFrame({"rep_id": text(quotas, "rep_id").to_numpy()})
    if reps["rep_id"].duplicated().any():
        raise InputError("quotas", "several rows for one rep", column="rep_id", fix="pass the quotas table of one plan")
    ridx = lookup(reps["rep_id"], text(roster, "rep_id"))
    if (ridx < 0).any():
        missing = reps["rep_id"][ridx < 0].tolist()[:10]
        raise InputError("quotas", f"rep_ids not in the reps table: {', '.join(missing)}", column="rep_id",
                         fix="monitor a plan built from the current reps table")

    def from_roster(column: str, default: str = "") -> np.ndarray:
        return text(roster, column, default).to_numpy()[ridx]

    for column in ("segment", "region"):
        values = text(quotas, column).to_numpy() if column in quotas.columns else from_roster(column)
        reps[column] = np.where(values == "", from_roster(column, NONE_LABEL), values)
        reps[column] = reps[column].replace("", NONE_LABEL)
    reps["manager_id"] = text(quotas, "manager_id").to_numpy() if "manager_id" in quotas.columns else from_roster("manager_id")
    reps["name"] = from_roster("name")
    reps["role"] = from_roster("role", "rep")
    reps["status"] = np.char.lower(from_roster("status", "active").astype(str))
    fte = pd.to_numeric(roster["capacity_fte"], errors="coerce").to_numpy(dtype=float)[ridx] if "capacity_fte" in roster else np.ones(len(reps))
    if books is not None and {"rep_id", "fte"} <= set(books.columns):
        bpos = lookup(reps["rep_id"], text(books, "rep_id"))
        bfte = pd.to_numeric(books["fte"], errors="coerce").to_numpy(dtype=float)
        fte = np.where(bpos >= 0, bfte[np.maximum(bpos, 0)], fte)
    if "fte" in quotas.columns:
        fte = np.where(np.isfinite(pd.to_numeric(quotas["fte"], errors="coerce")), pd.to_numeric(quotas["fte"], errors="coerce"), fte)
    reps["fte"] = np.nan_to_num(fte, nan=1.0)
    reps["quota"] = pd.to_numeric(quotas["quota"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    split_columns, split_unit = _split_columns(quotas)
    for column in split_columns:
        reps[column] = pd.to_numeric(quotas[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    for column in ("home_lat", "home_lon"):
        reps[column] = pd.to_numeric(roster[column], errors="coerce").to_numpy(dtype=float)[ridx] if column in roster else np.nan

    # ---- hierarchy: the roster's tree, with each rep under the manager the quotas table names
    tree_input = roster.assign(rep_id=text(roster, "rep_id"), manager_id=text(roster, "manager_id").replace("", None))
    override = dict(zip(reps["rep_id"], reps["manager_id"], strict=True))
    tree_input["manager_id"] = [override.get(r, m) or m for r, m in zip(tree_input["rep_id"], tree_input["manager_id"], strict=True)]
    tree_input["manager_id"] = tree_input["manager_id"].replace("", None)
    hierarchy, tree_notes = build_hierarchy(tree_input, reps["rep_id"].tolist())
    notes += tree_notes

    # ---- accounts: the assignments, completed from the accounts table
    accounts_table = tables["accounts"]
    acc = pd.DataFrame({"account_id": text(assignments, "account_id").to_numpy()})
    if acc["account_id"].duplicated().any():
        raise InputError("assignments", "an account is assigned twice", column="account_id", fix="pass one plan's assignments")
    holder = text(assignments, "rep_id").to_numpy()
    acc["rep"] = lookup(holder, reps["rep_id"])
    orphan = (acc["rep"] < 0) & (holder != "")
    if orphan.any():
        notes.append(f"{int(orphan.sum())} accounts are held by reps without a quota in the plan; their bookings "
                     "count at account levels only")
    apos = lookup(acc["account_id"], text(accounts_table, "account_id"))
    if (apos < 0).any():
        notes.append(f"{int((apos < 0).sum())} assigned accounts are not in the accounts table (attributes unknown)")

    def attribute(column: str, default: str = NONE_LABEL) -> np.ndarray:
        values = text(accounts_table, column, default).to_numpy()
        return np.where(apos >= 0, values[np.maximum(apos, 0)], default)

    potential, source = _potential(assignments, tables, acc["account_id"])
    if np.isnan(potential).any():
        notes.append(f"{int(np.isnan(potential).sum())} accounts without potential (from {source}): counted as 0")
    acc["potential"] = np.nan_to_num(potential, nan=0.0).clip(min=0.0)
    segment = text(assignments, "segment").to_numpy()
    scores = tables.get("scores")
    if (segment == "").any() and scores is not None and "segment" in scores.columns:
        spos = lookup(acc["account_id"], scores["account_id"])
        seg_s = text(scores, "segment").to_numpy()
        segment = np.where(segment == "", np.where(spos >= 0, seg_s[np.maximum(spos, 0)], ""), segment)
    segment = np.where(segment == "", attribute("segment", ""), segment)
    rep_segment = reps["segment"].to_numpy()[np.maximum(acc["rep"].to_numpy(), 0)]
    acc["segment"] = np.where(segment != "", segment, np.where(acc["rep"] >= 0, rep_segment, NONE_LABEL))
    acc["industry"] = attribute("industry")
    acc["state"] = attribute("state")
    acc["county_fips"] = attribute("county_fips")
    if "region" in accounts_table.columns:
        acc["region"] = attribute("region")
    else:
        acc["region"] = region_of_state(pd.Series(acc["state"])).fillna(NONE_LABEL).replace("", NONE_LABEL).to_numpy()
    for column in ("lat", "lon", "current_arr", "employees"):
        values = pd.to_numeric(accounts_table[column], errors="coerce").to_numpy(dtype=float) if column in accounts_table else np.full(len(accounts_table), np.nan)
        acc[column] = np.where(apos >= 0, values[np.maximum(apos, 0)], np.nan)
    flags = accounts_table["is_customer"].fillna(False).to_numpy(dtype=bool) if "is_customer" in accounts_table else np.zeros(len(accounts_table), bool)
    acc["is_customer"] = np.where(apos >= 0, flags[np.maximum(apos, 0)], False)
    parent = text(accounts_table, "parent_account_id").to_numpy()
    acc["parent_account_id"] = np.where(apos >= 0, parent[np.maximum(apos, 0)], "")

    reps["potential"] = np.bincount(acc["rep"][acc["rep"] >= 0], weights=acc["potential"][acc["rep"] >= 0], minlength=len(reps))
    reps["accounts"] = np.bincount(acc["rep"][acc["rep"] >= 0], minlength=len(reps))
    without_book = reps["rep_id"][(reps["accounts"] == 0) & (reps["quota"] > 0)].tolist()
    if without_book:
        notes.append(f"{len(without_book)} reps carry a quota but no account: {', '.join(without_book[:10])}")
    return Plan(acc, reps, hierarchy, split_columns, split_unit, notes)

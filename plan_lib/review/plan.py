"""The draft a plan version is based on: its hierarchy, assignments and quotas.

Access control needs the reps hierarchy and who owns which account in the
draft; the dashboard needs the accounts' attributes and the books' metrics.
All of it comes from the draft run folder (written by the balancing and quota
steps), is read once per process and cached until the files change, so a
session per page visit or per benchmark edit costs no extra disk reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from plan_lib.review.errors import InvalidEditError, ReviewError
from plan_lib.rundir import RunFolder

TABLES = ("assignments", "accounts", "scores", "books", "quotas", "reps")
ACCOUNT_COLUMNS = ("name", "industry", "state", "is_customer", "current_arr", "parent_account_id", "segment")
TRUE_TEXT = {"true", "1", "yes", "y", "t"}


def as_bool(values: pd.Series) -> pd.Series:
    """Customer flags arrive as booleans or as text, depending on the source."""
    if values.dtype == bool:
        return values
    return values.map(lambda v: str(v).strip().lower() in TRUE_TEXT if pd.notna(v) else False).astype(bool)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").where(values.notna(), None)


@dataclass(frozen=True)
class PlanBase:
    """Read-only view of one draft run, indexed for the review's lookups."""

    run_dir: str
    reps: pd.DataFrame  # index rep_id: name, role, manager_id, segment, region, status, fte
    accounts: pd.DataFrame  # index account_id: rep_id (draft owner), name, segment, potential, workload, ...
    quotas: pd.Series  # rep_id -> draft quota
    books: pd.DataFrame  # index rep_id: the draft's book metrics
    children: dict[str, tuple[str, ...]] = field(repr=False)

    def descendants(self, rep_id: str) -> frozenset[str]:
        """Everyone below ``rep_id`` in the hierarchy (not the person themself)."""
        seen: set[str] = set()
        stack = list(self.children.get(rep_id, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue  # a cycle in manager_id: stop instead of looping
            seen.add(node)
            stack.extend(self.children.get(node, ()))
        return frozenset(seen)

    def owner(self, account_id: str) -> str:
        try:
            return str(self.accounts.at[account_id, "rep_id"])
        except KeyError:
            raise InvalidEditError(f"account '{account_id}' is not in this plan's draft ({self.run_dir})") from None

    def has_rep(self, rep_id: str) -> bool:
        return rep_id in self.reps.index

    def rep_name(self, rep_id: str) -> str:
        if rep_id in self.reps.index and isinstance(self.reps.at[rep_id, "name"], str) and self.reps.at[rep_id, "name"]:
            return str(self.reps.at[rep_id, "name"])
        return rep_id

    def account_ids(self) -> Iterable[str]:
        return self.accounts.index


def _reps(frame: pd.DataFrame) -> pd.DataFrame:
    reps = frame.copy()
    reps["rep_id"] = reps["rep_id"].astype("str")
    for column in ("name", "role", "manager_id", "segment", "region", "status"):
        reps[column] = _text(reps[column]) if column in reps.columns else None
    fte = reps["capacity_fte"] if "capacity_fte" in reps.columns else pd.Series(1.0, index=reps.index)
    reps["fte"] = pd.to_numeric(fte, errors="coerce").fillna(0.0)
    reps["manager_id"] = reps["manager_id"].where(reps["manager_id"].fillna("") != "", None)
    return reps.set_index("rep_id")


def _accounts(run: RunFolder, reps: pd.DataFrame, books: pd.DataFrame) -> pd.DataFrame:
    assignments = run.read_table("assignments")
    accounts = assignments[["account_id", "rep_id"]].copy()
    accounts["account_id"] = accounts["account_id"].astype("str")
    accounts["rep_id"] = accounts["rep_id"].astype("str")
    for column in ("previous_rep_id", "moved", "reason"):
        if column in assignments.columns:
            accounts[f"draft_{column}"] = assignments[column].to_numpy()
    if run.has_table("accounts"):
        info = run.read_table("accounts")
        keep = [c for c in ACCOUNT_COLUMNS if c in info.columns]
        info = info[["account_id", *keep]].assign(account_id=lambda f: f["account_id"].astype("str"))
        accounts = accounts.merge(info, on="account_id", how="left")
    if run.has_table("scores"):
        scores = run.read_table("scores").assign(account_id=lambda f: f["account_id"].astype("str"))
        keep = [c for c in ("segment", "potential", "propensity", "workload") if c in scores.columns]
        accounts = accounts.drop(columns=[c for c in keep if c in accounts.columns]).merge(
            scores[["account_id", *keep]], on="account_id", how="left"
        )
    for column in ("name", "industry", "state", "parent_account_id", "segment"):
        if column not in accounts.columns:
            accounts[column] = None
    owner_segment = accounts["rep_id"].map(reps["segment"])
    accounts["segment"] = _text(accounts["segment"]).fillna(owner_segment)
    if "potential" not in accounts.columns:
        accounts["potential"] = 0.0
    accounts["potential"] = pd.to_numeric(accounts["potential"], errors="coerce").fillna(0.0)
    accounts["is_customer"] = as_bool(accounts["is_customer"]) if "is_customer" in accounts.columns else False
    if "workload" not in accounts.columns:
        # No per-account effort in the draft: carry each book's average with its accounts.
        per_account = (books["workload"] / books["accounts"].replace(0, np.nan)) if {"workload", "accounts"} <= set(books.columns) else pd.Series(dtype=float)
        accounts["workload"] = accounts["rep_id"].map(per_account).fillna(1.0)
    accounts["workload"] = pd.to_numeric(accounts["workload"], errors="coerce").fillna(0.0)
    return accounts.set_index("account_id")


def read_plan_base(run_dir: str | Path) -> PlanBase:
    """Read the draft run folder (assignments and reps are required; the rest enriches the view)."""
    run = RunFolder(Path(run_dir).resolve())
    missing = [name for name in ("assignments", "reps") if not run.has_table(name)]
    if missing:
        raise ReviewError(
            f"{run.path} has no {', '.join(missing)} table: review needs a finished draft run "
            "(tqp run PARAMETERS), then serve that run folder"
        )
    reps = _reps(run.read_table("reps"))
    books = run.read_table("books").assign(rep_id=lambda f: f["rep_id"].astype("str")).set_index("rep_id") if run.has_table("books") else pd.DataFrame(index=pd.Index([], name="rep_id"))
    if "fte" in books.columns:
        reps.loc[reps.index.intersection(books.index), "fte"] = pd.to_numeric(books["fte"], errors="coerce")
    quotas = pd.Series(dtype=float)
    if run.has_table("quotas"):
        frame = run.read_table("quotas")
        quotas = pd.to_numeric(frame["quota"], errors="coerce").set_axis(frame["rep_id"].astype("str")).astype(float)
    children: dict[str, list[str]] = {}
    for rep_id, manager_id in reps["manager_id"].items():
        if manager_id:
            children.setdefault(str(manager_id), []).append(str(rep_id))
    return PlanBase(
        run_dir=str(run.path),
        reps=reps,
        accounts=_accounts(run, reps, books),
        quotas=quotas,
        books=books,
        children={k: tuple(v) for k, v in children.items()},
    )


_CACHE: dict[str, tuple[tuple[float, ...], PlanBase]] = {}
_CACHE_LOCK = threading.Lock()


def load_plan_base(run_dir: str | Path) -> PlanBase:
    """``read_plan_base`` cached per process until one of the tables changes on disk."""
    run = RunFolder(Path(run_dir).resolve())
    stamp = tuple(run.table_path(name).stat().st_mtime if run.has_table(name) else -1.0 for name in TABLES)
    key = str(run.path)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
    base = read_plan_base(run.path)
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, base)
    return base

"""From contract-shaped frames to one :class:`TerritoryModel` per independent balance group.

What happens here, all vectorised (a million accounts take seconds):

- Inputs are checked for the columns balancing needs; optional columns get documented
  defaults (``workload`` = 1 + ln(1 + employees) / ln(1001) when absent: a
  1,000-employee account is twice the effort of a one-person shop, logarithmic
  because effort grows far slower than head count).
- Reps that carry a book: role 'rep', status 'active' or 'open', FTE > 0. An open
  headcount without a home gets the centroid of its segment x region colleagues.
- Account families: every account is attached to its root ancestor; the family is
  one unit with summed metrics, and the root's segment, region and industry.
- Eligibility per family, most specific rule first: lock (parameters or review
  override) > named account > protection (customer with an open opportunity keeps a
  book-carrying owner of its segment) > vertical specialists > region > segment.
- Independent groups: the connected components of "family may go to rep". With the
  region rule on, each segment x region is its own group (unless a specialist or
  a lock bridges regions), so decomposition is exact, never a heuristic. Targets
  (fair shares) always refer to the whole segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from plan_lib.balance.errors import BalanceInputError
from plan_lib.balance.geometry import PointSet
from plan_lib.balance.model import GeoCost, SoftRows, TerritoryModel
from plan_lib.balance.params import BalanceParams

BOOK_STATUSES = ("active", "open")
LOCK_SOURCE_RANK = {"override": 0, "parameters": 1}


@dataclass
class Prepared:
    """The models plus everything needed to map solutions back to accounts."""

    models: list[TerritoryModel]
    members: list[np.ndarray]  # per model: account rows sorted by unit
    unit_start: list[np.ndarray]  # per model: (U+1,) offsets into members
    accounts: pd.DataFrame  # normalised accounts, one row per input row, same order
    reps: pd.DataFrame  # normalised reps with 'carries_book'
    account_model: np.ndarray  # (N,) model index, -1 = no eligible rep
    account_unit: np.ndarray  # (N,) unit index inside its model
    unit_flag: pd.DataFrame  # per account: locked, lock_rep, protected, named (family-level)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    return frame[column].astype("str").where(frame[column].notna(), "").str.strip()


def _number(frame: pd.DataFrame, column: str, default: float) -> pd.Series:
    if column not in frame:
        return pd.Series(np.full(len(frame), default), index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.zeros(len(frame), dtype=bool), index=frame.index)
    col = frame[column]
    if col.dtype == bool:
        return col
    text = col.astype("str").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "y", "t", "1.0"]) & col.notna()


def normalise_accounts(
    accounts: pd.DataFrame, params: BalanceParams, notes: list[dict[str, Any]]
) -> pd.DataFrame:
    """Accounts with every column balancing reads, typed, in input order."""
    for column in ("account_id", "segment"):
        if column not in accounts:
            raise BalanceInputError(
                "accounts", "missing column", column=column, fix="add it (see plan_lib/contract.py)"
            )
    metric = params.balance_metric
    if metric not in accounts and metric != "workload":
        raise BalanceInputError(
            "accounts",
            "missing the balanced metric",
            column=metric,
            fix="run the scoring step first, or set balance.balance_metric to an existing column",
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(accounts)))
    out["account_id"] = _text(accounts, "account_id").to_numpy()
    dup = out["account_id"].duplicated()
    if dup.any():
        raise BalanceInputError(
            "accounts",
            f"{int(dup.sum())} duplicated account_id values, e.g. {out['account_id'][dup].iloc[0]!r}",
            column="account_id",
            fix="ingest quarantines duplicates; balance the validated table",
        )
    for column in ("parent_account_id", "segment", "region", "industry", "current_owner"):
        out[column] = _text(accounts, column).to_numpy()
    for column in ("lat", "lon"):
        out[column] = _number(accounts, column, np.nan).to_numpy()
    for column in ("potential", "current_arr", "intent_potential", "employees"):
        out[column] = _number(accounts, column, 0.0).fillna(0.0).to_numpy()
    if "workload" in accounts:
        out["workload"] = _number(accounts, "workload", 1.0).fillna(1.0).to_numpy()
    else:
        out["workload"] = 1.0 + np.log1p(out["employees"].clip(lower=0)) / np.log(1001.0)
        notes.append(
            {
                "kind": "derived_workload",
                "message": "workload derived as 1 + ln(1+employees)/ln(1001)",
            }
        )
    if metric not in out:
        out[metric] = _number(accounts, metric, 0.0).fillna(0.0).to_numpy()
    for column in set(params.compactness_basis) | set(params.continuity_basis):
        if column != "accounts" and column not in out:
            if column not in accounts:
                raise BalanceInputError(
                    "accounts",
                    "missing a column named in the parameters",
                    column=column,
                    fix="fix balance.compactness_basis / continuity_basis",
                )
            out[column] = _number(accounts, column, 0.0).fillna(0.0).to_numpy()
    negative = out[metric] < 0
    if negative.any():
        raise BalanceInputError(
            "accounts",
            f"{int(negative.sum())} rows have a negative {metric}",
            column=metric,
            fix="the balanced metric must be >= 0",
        )
    out["is_customer"] = _flag(accounts, "is_customer").to_numpy()
    out["has_open_opportunity"] = _flag(accounts, "has_open_opportunity").to_numpy()
    return out


def normalise_reps(reps: pd.DataFrame, notes: list[dict[str, Any]]) -> pd.DataFrame:
    if "rep_id" not in reps:
        raise BalanceInputError(
            "reps", "missing column", column="rep_id", fix="add it (see plan_lib/contract.py)"
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(reps)))
    out["rep_id"] = _text(reps, "rep_id").to_numpy()
    if out["rep_id"].duplicated().any():
        raise BalanceInputError(
            "reps", "duplicated rep_id values", column="rep_id", fix="ingest quarantines duplicates"
        )
    for column in ("role", "segment", "region", "status"):
        out[column] = (
            _text(reps, column).str.lower().to_numpy()
            if column in ("role", "status")
            else _text(reps, column).to_numpy()
        )
    out.loc[out["role"] == "", "role"] = "rep"
    out.loc[out["status"] == "", "status"] = "active"
    fte = _number(reps, "capacity_fte", 1.0)
    if fte.isna().any():
        notes.append(
            {
                "kind": "fte_defaulted",
                "rep_ids": out["rep_id"][fte.isna().to_numpy()].tolist()[:20],
                "message": "capacity_fte missing: 1.0 assumed",
            }
        )
    out["capacity_fte"] = fte.fillna(1.0).clip(lower=0.0).to_numpy()
    out["home_lat"] = _number(reps, "home_lat", np.nan).to_numpy()
    out["home_lon"] = _number(reps, "home_lon", np.nan).to_numpy()
    out["carries_book"] = (
        (out["role"] == "rep")
        & out["status"].isin(BOOK_STATUSES)
        & (out["capacity_fte"] > 0)
        & (out["segment"] != "")
    )
    return out


def family_roots(account_id: np.ndarray, parent_id: np.ndarray) -> tuple[np.ndarray, int]:
    """Row of each account's root ancestor (pointer jumping); cycles are cut (counted)."""
    n = len(account_id)
    pos = pd.Series(np.arange(n), index=account_id)
    parent = pd.Series(parent_id).map(pos).fillna(-1).to_numpy(dtype=np.int64)
    parent[parent == np.arange(n)] = -1
    root = np.where(parent >= 0, parent, np.arange(n))
    for _ in range(64):
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    cyclic = root[root] != root
    if cyclic.any():
        root[cyclic] = np.flatnonzero(cyclic)
    return root, int(cyclic.sum())


def _impute_homes(
    reps: pd.DataFrame, accounts: pd.DataFrame, notes: list[dict[str, Any]]
) -> pd.DataFrame:
    missing = reps["carries_book"] & (reps["home_lat"].isna() | reps["home_lon"].isna())
    if not missing.any():
        return reps
    reps = reps.copy()
    have = reps[reps["carries_book"] & ~missing]
    for i in np.flatnonzero(missing.to_numpy()):
        seg, reg = reps.at[i, "segment"], reps.at[i, "region"]
        pools = [
            have[(have["segment"] == seg) & (have["region"] == reg)][
                ["home_lat", "home_lon"]
            ].to_numpy(),
            accounts[(accounts["segment"] == seg) & (accounts["region"] == reg)][
                ["lat", "lon"]
            ].to_numpy(),
            have[have["segment"] == seg][["home_lat", "home_lon"]].to_numpy(),
            accounts[accounts["segment"] == seg][["lat", "lon"]].to_numpy(),
        ]
        for pool in pools:
            pool = pool[~np.isnan(pool).any(axis=1)]
            if len(pool):
                reps.at[i, "home_lat"], reps.at[i, "home_lon"] = pool.mean(axis=0)
                break
    notes.append(
        {
            "kind": "imputed_home",
            "rep_ids": reps["rep_id"][missing].tolist()[:20],
            "message": f"{int(missing.sum())} reps (e.g. open headcount) had no home: placed at the centroid of "
            "their segment x region colleagues (or accounts)",
        }
    )
    return reps


def _normalise_locks(locks: pd.DataFrame | None) -> pd.DataFrame:
    if locks is None or len(locks) == 0:
        return pd.DataFrame(
            {
                "account_id": pd.Series([], dtype="str"),
                "rep_id": pd.Series([], dtype="str"),
                "source": pd.Series([], dtype="str"),
                "reason": pd.Series([], dtype="str"),
            }
        )
    for column in ("account_id", "rep_id"):
        if column not in locks:
            raise BalanceInputError("locks", "missing column", column=column)
    out = pd.DataFrame(
        {
            "account_id": _text(locks, "account_id").to_numpy(),
            "rep_id": _text(locks, "rep_id").to_numpy(),
            "source": _text(locks, "source").str.lower().replace("", "parameters").to_numpy(),
            "reason": _text(locks, "reason").to_numpy(),
        }
    )
    return out


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return int(i)

    def union_all(self, items: np.ndarray) -> None:
        if len(items) < 2:
            return
        root = self.find(int(items[0]))
        for j in items[1:]:
            rj = self.find(int(j))
            if rj != root:
                self.parent[rj] = root


def prepare(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    params: BalanceParams,
    locks: pd.DataFrame | None = None,
    cost: pd.DataFrame | None = None,
) -> Prepared:
    """Build the models of a plan (see the module docstring for the rules)."""
    notes: list[dict[str, Any]] = []
    acc = normalise_accounts(accounts, params, notes)
    rp = normalise_reps(reps, notes)
    rp = _impute_homes(rp, acc, notes)
    n = len(acc)
    book = rp[rp["carries_book"]].reset_index(drop=True)
    n_book = len(book)
    rep_pos = pd.Series(np.arange(n_book), index=book["rep_id"].to_numpy())
    all_rep_status = pd.Series(rp["status"].to_numpy(), index=rp["rep_id"].to_numpy())

    # ---- families: the root's attributes hold for the whole family
    root, n_cyclic = family_roots(acc["account_id"].to_numpy(), acc["parent_account_id"].to_numpy())
    if n_cyclic:
        notes.append(
            {
                "kind": "family_cycle",
                "message": f"{n_cyclic} accounts in parent cycles were treated as roots",
            }
        )
    seg_of = acc["segment"].to_numpy()[root]
    reg_of = acc["region"].to_numpy()[root]
    ind_of = acc["industry"].to_numpy()[root]

    # ---- forced single-rep assignments per family: lock > named > protection
    single = np.full(n, -1, dtype=np.int64)  # per root row: rep index in `book`
    single_kind = np.full(n, "", dtype=object)
    lk = _normalise_locks(locks)
    acc_pos = pd.Series(np.arange(n), index=acc["account_id"].to_numpy())
    lock_rep_name = np.full(n, "", dtype=object)
    if len(lk):
        lk = lk.assign(
            row=lk["account_id"].map(acc_pos), rank=lk["source"].map(LOCK_SOURCE_RANK).fillna(2)
        )
        unknown = lk["row"].isna()
        if unknown.any():
            notes.append(
                {
                    "kind": "lock_unknown_account",
                    "accounts": lk["account_id"][unknown].tolist()[:20],
                    "message": f"{int(unknown.sum())} locks name accounts not in the plan: ignored",
                }
            )
        lk = lk[~unknown].copy()
        lk["root"] = root[lk["row"].astype(int).to_numpy()]
        lk["rep"] = lk["rep_id"].map(rep_pos)
        bad = lk["rep"].isna()
        if bad.any():
            notes.append(
                {
                    "kind": "lock_unusable",
                    "violation": True,
                    "locks": lk.loc[bad, ["account_id", "rep_id"]]
                    .astype(str)
                    .to_dict("records")[:20],
                    "message": f"{int(bad.sum())} locks name reps who carry no book (leaving, manager, unknown): "
                    "they cannot be honoured; review these accounts",
                }
            )
        lk = lk[~bad].sort_values(["root", "rank", "account_id"], kind="stable")
        first = lk.drop_duplicates("root")
        conflicts = lk.merge(first[["root", "rep"]], on="root", suffixes=("", "_kept"))
        conflicts = conflicts[conflicts["rep"] != conflicts["rep_kept"]]
        if len(conflicts):
            notes.append(
                {
                    "kind": "lock_conflict",
                    "violation": True,
                    "locks": conflicts[["account_id", "rep_id", "source"]]
                    .astype(str)
                    .to_dict("records")[:20],
                    "message": f"{len(conflicts)} locks disagree with another lock in the same account family: "
                    "the override (else the first) wins",
                }
            )
        roots = first["root"].to_numpy(dtype=np.int64)
        single[roots] = first["rep"].to_numpy(dtype=np.int64)
        single_kind[roots] = "lock"
        lock_rep_name[roots] = first["rep_id"].to_numpy()
    named = params.eligibility.named_accounts
    if named:
        nm = pd.DataFrame({"account_id": list(named), "rep_id": list(named.values())})
        nm["row"] = nm["account_id"].map(acc_pos)
        nm["rep"] = nm["rep_id"].map(rep_pos)
        unusable = nm["row"].isna() | nm["rep"].isna()
        if unusable.any():
            notes.append(
                {
                    "kind": "named_unusable",
                    "entries": nm[unusable][["account_id", "rep_id"]].to_dict("records")[:20],
                    "message": "named accounts whose account is absent or whose rep carries no book: ignored",
                }
            )
        nm = nm[~unusable]
        nm["root"] = root[nm["row"].astype(int).to_numpy()]
        nm = nm.sort_values(["root", "account_id"]).drop_duplicates("root")
        roots = nm["root"].to_numpy(dtype=np.int64)
        free = single[roots] < 0
        single[roots[free]] = nm["rep"].to_numpy(dtype=np.int64)[free]
        single_kind[roots[free]] = "named"
    book_seg = book["segment"].to_numpy()
    if params.protection.open_opportunity_customers:
        owner_rep = acc["current_owner"].map(rep_pos).fillna(-1).to_numpy(dtype=np.int64)
        prot = (
            acc["is_customer"].to_numpy()
            & acc["has_open_opportunity"].to_numpy()
            & (owner_rep >= 0)
        )
        prot &= book_seg[np.maximum(owner_rep, 0)] == seg_of
        if params.eligibility.region:
            prot &= book["region"].to_numpy()[np.maximum(owner_rep, 0)] == reg_of
        rows = np.flatnonzero(prot)
        if len(rows):
            order = rows[np.lexsort((rows, -acc["potential"].to_numpy()[rows]))]
            pr = pd.DataFrame({"root": root[order], "rep": owner_rep[order]}).drop_duplicates(
                "root"
            )
            roots = pr["root"].to_numpy(dtype=np.int64)
            free = single[roots] < 0
            single[roots[free]] = pr["rep"].to_numpy(dtype=np.int64)[free]
            single_kind[roots[free]] = "protected"

    # ---- rule-based eligibility classes (per root)
    seg_codes, seg_names = pd.factorize(pd.Series(np.r_[book_seg, seg_of]), sort=True)
    rep_seg, unit_seg = seg_codes[:n_book], seg_codes[n_book:]
    reg_codes, _ = pd.factorize(pd.Series(np.r_[book["region"].to_numpy(), reg_of]), sort=True)
    rep_reg, unit_reg = reg_codes[:n_book], reg_codes[n_book:]
    specialists = {
        ind: [rep_pos[r] for r in ids if r in rep_pos.index]
        for ind, ids in params.eligibility.vertical_specialists.items()
    }
    all_specialists = np.zeros(n_book, dtype=bool)
    for ids in specialists.values():
        all_specialists[ids] = True
    ind_codes, ind_names = pd.factorize(pd.Series(ind_of), sort=True)
    region_on = params.eligibility.region
    key = pd.DataFrame(
        {
            "seg": unit_seg,
            "reg": unit_reg if region_on else 0,
            "ind": ind_codes if specialists else 0,
        }
    )
    key_codes, key_uniques = pd.factorize(pd.MultiIndex.from_frame(key))
    masks = np.zeros((len(key_uniques), n_book), dtype=bool)
    region_fallback = 0
    for k, (s, g, i) in enumerate(key_uniques):
        base = rep_seg == s
        mask = base.copy()
        if specialists:
            spec = np.zeros(n_book, dtype=bool)
            spec[specialists.get(ind_names[i], [])] = True
            spec &= base
            if spec.any():
                masks[k] = spec
                continue
            if params.eligibility.specialists_exclusive and (base & ~all_specialists).any():
                mask &= ~all_specialists
        if region_on:
            regional = mask & (rep_reg == g)
            if regional.any():
                mask = regional
            else:
                region_fallback += int((key_codes == k).sum())
        masks[k] = mask
    if region_fallback:
        notes.append(
            {
                "kind": "region_fallback",
                "message": f"{region_fallback} accounts have no rep of their "
                "segment in their region: any rep of the segment may take them",
            }
        )
    # singles get their own classes
    n_rule = len(masks)
    class_of_root = key_codes.astype(np.int64)
    single_reps = np.unique(single[single >= 0])
    if len(single_reps):
        extra = np.zeros((len(single_reps), n_book), dtype=bool)
        extra[np.arange(len(single_reps)), single_reps] = True
        masks = np.vstack([masks, extra])
        has = single >= 0
        class_of_root[has] = n_rule + np.searchsorted(single_reps, single[has])

    # ---- units: roots; which ones can be assigned at all
    is_root = root == np.arange(n)
    unit_rows = np.flatnonzero(is_root)
    unit_class = class_of_root[unit_rows]
    assignable = masks[unit_class].any(axis=1)
    if (~assignable).any():
        lost = np.isin(root, unit_rows[~assignable])
        notes.append(
            {
                "kind": "unassignable",
                "violation": True,
                "accounts": acc["account_id"][lost].tolist()[:20],
                "n_accounts": int(lost.sum()),
                "message": f"{int(lost.sum())} accounts have no book-carrying rep of their segment "
                f"(segments: {sorted(set(seg_of[lost]))[:10]}): add reps or open headcount, or fix the segment",
            }
        )

    # ---- independent groups = components of the eligibility graph over reps
    uf = _UnionFind(n_book)
    for c in np.unique(unit_class[assignable]):
        uf.union_all(np.flatnonzero(masks[c]))
    comp_of_rep = np.array([uf.find(r) for r in range(n_book)], dtype=np.int64)
    first_rep = np.where(assignable, masks[unit_class].argmax(axis=1), -1)
    comp_of_unit = np.where(assignable, comp_of_rep[np.maximum(first_rep, 0)], -1)

    # ---- segment-level references (fair shares refer to the whole segment)
    fte = book["capacity_fte"].to_numpy()
    seg_of_unit = np.where(assignable, rep_seg[np.maximum(first_rep, 0)], -1)
    rows_model_seg = np.full(n, -1)
    rows_model_seg[unit_rows] = seg_of_unit
    seg_of_row = rows_model_seg[root]
    metric = params.balance_metric

    cost_lookup = _cost_lookup(cost, acc_pos, rep_pos) if cost is not None else None

    account_model = np.full(n, -1, dtype=np.int64)
    account_unit = np.full(n, -1, dtype=np.int64)
    models: list[TerritoryModel] = []
    model_members: list[np.ndarray] = []
    model_starts: list[np.ndarray] = []
    seg_fte = np.bincount(rep_seg, weights=fte, minlength=len(seg_names))
    seg_ref: dict[int, dict[str, Any]] = {}
    for s in range(len(seg_names)):
        rows = np.flatnonzero(seg_of_row == s)
        seg_ref[s] = _segment_reference(
            acc.iloc[rows], metric, params, seg_fte[s], int((rep_seg == s).sum())
        )
    components = sorted({int(c) for c in comp_of_rep}, key=lambda c: (book_seg[c], c))
    for comp in components:
        reps_c = np.flatnonzero(comp_of_rep == comp)
        units_c = unit_rows[(comp_of_unit == comp)]
        s = int(rep_seg[reps_c[0]])
        model_index = len(models)
        model, members, unit_start = _build_model(
            acc,
            book,
            reps_c,
            units_c,
            root,
            masks,
            class_of_root,
            seg_ref[s],
            params,
            cost_lookup,
            seg_names[s],
        )
        account_model[members] = model_index
        account_unit[members] = np.repeat(np.arange(len(units_c)), np.diff(unit_start))
        models.append(model)
        model_members.append(members)
        model_starts.append(unit_start)
    flags = pd.DataFrame(
        {
            "locked": single_kind[root] == "lock",
            "lock_rep": lock_rep_name[root],
            "named": single_kind[root] == "named",
            "protected": single_kind[root] == "protected",
            "family_root": acc["account_id"].to_numpy()[root],
        }
    )
    acc["owner_status"] = acc["current_owner"].map(all_rep_status).fillna("").to_numpy()
    return Prepared(
        models, model_members, model_starts, acc, rp, account_model, account_unit, flags, notes
    )


def _segment_reference(
    seg_acc: pd.DataFrame, metric: str, params: BalanceParams, fte: float, n_reps: int
) -> dict[str, Any]:
    """Segment totals per FTE and the normalisers of the weights (mean 1 over the segment)."""

    def norm(basis: dict[str, float]) -> dict[str, float]:
        out = {}
        total_share = 0.0
        for column, share in basis.items():
            if share <= 0:
                continue
            mean = (
                1.0
                if column == "accounts"
                else float(seg_acc[column].mean())
                if len(seg_acc)
                else 0.0
            )
            if mean > 0:
                out[column] = share / mean
                total_share += share
        return {c: v / total_share for c, v in out.items()} if total_share > 0 else {}

    n = len(seg_acc)
    customers = float(seg_acc["is_customer"].sum()) if n else 0.0
    return {
        "fte": fte,
        "n_accounts": n,
        "n_reps": n_reps,
        "per_fte": {
            "balance": float(seg_acc[metric].sum()) / fte if fte else 0.0,
            "workload": float(seg_acc["workload"].sum()) / fte if fte else 0.0,
            "accounts": n / fte if fte else 0.0,
            "intent": float(seg_acc["intent_potential"].sum()) / fte if fte else 0.0,
        },
        "customer_share": customers / n if n else 0.0,
        "compactness": norm(params.compactness_basis),
        "continuity": norm(params.continuity_basis),
    }


def _weights(acc: pd.DataFrame, rows: np.ndarray, coefs: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(rows))
    for column, coef in coefs.items():
        w += coef * (1.0 if column == "accounts" else acc[column].to_numpy()[rows])
    return w


def _build_model(
    acc: pd.DataFrame,
    book: pd.DataFrame,
    reps_c: np.ndarray,
    units_c: np.ndarray,
    root: np.ndarray,
    masks: np.ndarray,
    class_of_root: np.ndarray,
    ref: dict[str, Any],
    params: BalanceParams,
    cost_lookup: pd.DataFrame | None,
    segment: str,
) -> tuple[TerritoryModel, np.ndarray, np.ndarray]:
    """One model, the account rows sorted by unit (members) and the unit offsets into them."""
    n_u, n_r = len(units_c), len(reps_c)
    unit_index = pd.Series(np.arange(n_u), index=units_c)
    member_mask = np.isin(root, units_c)
    members = np.flatnonzero(member_mask)
    member_unit = unit_index[root[members]].to_numpy()
    order = np.lexsort((members, member_unit))
    members, member_unit = members[order], member_unit[order]
    unit_start = np.r_[0, np.cumsum(np.bincount(member_unit, minlength=n_u))]
    local_mask_all = masks[:, reps_c]
    class_codes, class_of_unit = np.unique(class_of_root[units_c], return_inverse=True)
    class_mask = local_mask_all[class_codes]
    fte = book["capacity_fte"].to_numpy()[reps_c]
    per_fte = ref["per_fte"]

    def unit_sum(values: np.ndarray) -> np.ndarray:
        return np.bincount(member_unit, weights=values[members], minlength=n_u)

    metric = params.balance_metric
    balance = unit_sum(acc[metric].to_numpy())
    target = fte * per_fte["balance"]
    n_members = np.diff(unit_start)

    # ---- continuity and move-cap data: owners inside this group
    owner_local = pd.Series(np.arange(n_r), index=book["rep_id"].to_numpy()[reps_c])
    owner = acc["current_owner"].to_numpy()[members]
    owner_idx = pd.Series(owner).map(owner_local).fillna(-1).to_numpy(dtype=np.int64)
    has_owner = owner_idx >= 0
    eligible_owner = has_owner.copy()
    eligible_owner[has_owner] = class_mask[
        class_of_unit[member_unit[has_owner]], owner_idx[has_owner]
    ]
    kappa = params.continuity_weight
    move_weight = keep = None
    m = kappa * _weights(acc, members, ref["continuity"])
    if kappa > 0 and m.any():
        move_weight = np.bincount(member_unit, weights=m, minlength=n_u)
        keep = sp.csr_matrix(
            (m[has_owner], (member_unit[has_owner], owner_idx[has_owner])), shape=(n_u, n_r)
        )
        keep.sum_duplicates()
    cap = cap_base = cap_keep = None
    if params.max_move_share is not None:
        cap = float(np.floor(params.max_move_share * len(members) + 1e-9))
        cap_base = np.bincount(member_unit, weights=eligible_owner.astype(float), minlength=n_u)
        cap_keep = sp.csr_matrix(
            (
                np.ones(int(eligible_owner.sum())),
                (member_unit[eligible_owner], owner_idx[eligible_owner]),
            ),
            shape=(n_u, n_r),
        )
        cap_keep.sum_duplicates()

    # ---- compactness
    w = params.compactness_weight * _weights(acc, members, ref["compactness"])
    geo = dense = None
    if cost_lookup is not None:
        dense, covered = _dense_cost(cost_lookup, members, member_unit, reps_c, w, n_u)
        ok = class_mask[class_of_unit] & covered
        if not ok.any(axis=1).all():
            lost = acc["account_id"].to_numpy()[units_c[~ok.any(axis=1)]]
            raise BalanceInputError(
                "cost",
                f"no cost to any eligible rep for {len(lost)} account families, e.g. {lost[0]!r}",
                fix="give every account a cost to at least one rep of its segment (all family members included)",
            )
        class_mask, class_of_unit = np.unique(ok, axis=0, return_inverse=True)
        class_of_unit = class_of_unit.ravel()
    else:
        geo = GeoCost(
            members=PointSet.from_degrees(
                acc["lat"].to_numpy()[members], acc["lon"].to_numpy()[members]
            ),
            member_weight=w,
            unit_start=unit_start,
            reps=PointSet.from_degrees(
                book["home_lat"].to_numpy()[reps_c], book["home_lon"].to_numpy()[reps_c]
            ),
            coef=1.0,
        )

    # ---- soft bands (segment references, per FTE)
    soft: list[SoftRows] = []
    sb = params.soft_bands
    n_seg, r_seg = max(ref["n_accounts"], 1), max(ref["n_reps"], 1)
    scale_w = n_seg / r_seg  # "km per account averaged over reps" -> objective units

    def add(
        name: str,
        band: Any,
        values: np.ndarray,
        tgt: np.ndarray,
        half: np.ndarray,
        scale: np.ndarray,
    ) -> None:
        if band.enabled and band.weight > 0 and np.all(scale > 0):
            soft.append(SoftRows(name, values, tgt, half, scale, band.weight * scale_w))

    for name, column, band in (
        ("workload", "workload", sb.workload),
        ("intent", "intent_potential", sb.intent),
    ):
        t = fte * per_fte[name]
        add(name, band, unit_sum(acc[column].to_numpy()), t, band.width * t, t)
    t = fte * per_fte["accounts"]
    add("accounts", sb.accounts, n_members.astype(float), t, sb.accounts.width * t, t)
    share = ref["customer_share"]
    if 0 < share < 1:
        base = share * fte * per_fte["accounts"]
        values = unit_sum(acc["is_customer"].to_numpy().astype(float)) - share * n_members
        add(
            "customer_share",
            sb.customer_share,
            values,
            np.zeros(n_r),
            sb.customer_share.width * base,
            base,
        )

    regions = sorted(set(book["region"].to_numpy()[reps_c]))
    all_regions = sorted(set(book["region"].to_numpy()[book["segment"].to_numpy() == segment]))
    name = (
        segment
        if regions == all_regions
        else f"{segment} / {'+'.join(r or '(none)' for r in regions)}"
    )
    model = TerritoryModel(
        name=name,
        unit_labels=acc["account_id"].to_numpy()[units_c],
        rep_labels=book["rep_id"].to_numpy()[reps_c],
        balance=balance,
        target=target,
        tau=params.tau,
        class_of_unit=class_of_unit.ravel(),
        class_mask=class_mask,
        dense_cost=dense,
        geo_cost=geo,
        move_weight=move_weight,
        keep_weight=keep,
        soft=soft,
        cap=cap,
        cap_base=cap_base,
        cap_keep=cap_keep,
        n_members=n_members,
        segment=segment,
    )
    return model, members, unit_start


def _cost_lookup(cost: pd.DataFrame, acc_pos: pd.Series, rep_pos: pd.Series) -> pd.DataFrame:
    """A supplied cost as long (row, rep, cost): wide (index account_id, columns rep_id) or long."""
    if {"account_id", "rep_id", "cost"} <= set(cost.columns):
        long = cost[["account_id", "rep_id", "cost"]].copy()
    else:
        wide = cost.copy()
        wide.index = wide.index.astype(str)
        wide.columns = wide.columns.astype(str)
        wide.index.name, wide.columns.name = "account_id", "rep_id"
        long = wide.stack().rename("cost").reset_index()
    long["row"] = long["account_id"].astype(str).map(acc_pos)
    long["rep"] = long["rep_id"].astype(str).map(rep_pos)
    long["cost"] = pd.to_numeric(long["cost"], errors="coerce")
    long = long.dropna(subset=["row", "rep", "cost"])
    if (long["cost"] < 0).any():
        raise BalanceInputError(
            "cost", "negative costs", column="cost", fix="costs are distances or times, >= 0"
        )
    return long.astype({"row": np.int64, "rep": np.int64})


def _dense_cost(
    lookup: pd.DataFrame,
    members: np.ndarray,
    member_unit: np.ndarray,
    reps_c: np.ndarray,
    w: np.ndarray,
    n_u: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit x rep weighted cost and which pairs every member of the unit has a cost for."""
    n_r = len(reps_c)
    local_rep = pd.Series(np.arange(n_r), index=reps_c)
    local_row = pd.Series(np.arange(len(members)), index=members)
    sub = lookup[lookup["row"].isin(members) & lookup["rep"].isin(reps_c)]
    i = local_row[sub["row"].to_numpy()].to_numpy()
    r = local_rep[sub["rep"].to_numpy()].to_numpy()
    dense = np.zeros((n_u, n_r))
    count = np.zeros((n_u, n_r))
    np.add.at(dense, (member_unit[i], r), w[i] * sub["cost"].to_numpy())
    np.add.at(count, (member_unit[i], r), 1.0)
    size = np.bincount(member_unit, minlength=n_u)
    covered = count >= size[:, None]
    return dense, covered

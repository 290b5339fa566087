"""Segments from rules, and account families that share their top parent's segment.

A family (a parent and everything below it) must end up in one book, and books
are built per segment, so every member takes the segment of the family's root:
the account reached by following ``parent_account_id`` until it is empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib.errors import InputError
from plan_lib.scoring._lookup import positions
from plan_lib.scoring.params import ScoringParams, SegmentRule


def root_positions(account_id: pd.Series, parent_account_id: pd.Series) -> np.ndarray:
    """Row of the root of each account's parent chain (its own row when it has no parent).

    Pointer doubling: each pass replaces a pointer by its pointer's pointer, so a
    chain of depth d needs log2(d) vectorised passes. A parent that is not in
    the table ends the chain (ingest quarantines such rows; this is a guard).
    """
    parent = positions(parent_account_id, account_id)
    pointer = np.where(parent >= 0, parent, np.arange(len(account_id)))
    for _ in range(64):
        following = pointer[pointer]
        if np.array_equal(following, pointer):
            return pointer
        pointer = following
    raise InputError(  # pragma: no cover - ingest rejects cycles first
        "accounts",
        "parent_account_id forms a cycle",
        column="parent_account_id",
        fix="Break the cycle in the accounts file",
    )


def family_roots(account_id: pd.Series, parent_account_id: pd.Series) -> pd.Series:
    """The account_id of each account's family root (see :func:`root_positions`)."""
    ids = account_id.astype("str").reset_index(drop=True)
    return pd.Series(
        ids.take(root_positions(ids, parent_account_id)).to_numpy(),
        index=account_id.index,
        dtype="str",
        name="family_id",
    )


def rule_segments(accounts: pd.DataFrame, rules: list[SegmentRule]) -> pd.Series:
    """Segment of each account by the first matching rule (size: employees OR revenue over a threshold)."""
    employees = accounts["employees"].astype("float64").to_numpy(na_value=np.nan)
    revenue = accounts["annual_revenue"].astype("float64").to_numpy(na_value=np.nan)
    industry = accounts["industry"]
    result = np.full(len(accounts), None, dtype=object)
    open_ = np.ones(len(accounts), dtype=bool)
    for rule in rules:
        if rule.min_employees is None and rule.min_annual_revenue is None:
            size_ok = np.ones(len(accounts), dtype=bool)
        else:
            size_ok = np.zeros(len(accounts), dtype=bool)
            with np.errstate(invalid="ignore"):
                if rule.min_employees is not None:
                    size_ok |= employees >= rule.min_employees
                if rule.min_annual_revenue is not None:
                    size_ok |= revenue >= rule.min_annual_revenue
        if rule.industries:
            size_ok &= industry.isin(rule.industries).fillna(False).to_numpy(dtype=bool)
        hit = open_ & size_ok
        result[hit] = rule.segment
        open_ &= ~hit
    return pd.Series(result, index=accounts.index, dtype="str", name="segment")


def assign_segments(accounts: pd.DataFrame, params: ScoringParams) -> pd.DataFrame:
    """account_id, family_id, segment, segment_source ('data', 'rules' or 'family').

    The data's own segment wins when ``use_data_segments`` (the CRM is the
    authority where it has an answer); rules fill the rest; then every family
    member takes its root's segment.
    """
    by_rules = rule_segments(accounts, params.segment_rules).reset_index(drop=True)
    own = by_rules
    source = pd.Series("rules", index=by_rules.index, dtype="str")
    if params.use_data_segments and "segment" in accounts:
        given = accounts["segment"].astype("str").reset_index(drop=True)
        has = given.notna() & (given.str.strip() != "")
        own = given.where(has, by_rules)
        source = source.where(~has, "data")
    ids = accounts["account_id"].astype("str").reset_index(drop=True)
    root = root_positions(ids, accounts["parent_account_id"].reset_index(drop=True))
    segment = own.take(root).reset_index(drop=True)
    source = source.where(segment == own, "family")
    return pd.DataFrame(
        {
            "account_id": ids,
            "family_id": ids.take(root).reset_index(drop=True),
            "segment": segment,
            "segment_source": source,
        }
    )

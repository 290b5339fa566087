"""Compare two score tables of the same period: what moved, and why.

Risers and fallers are ranked by the change of potential in currency (the
unit books and quotas are balanced on), not by rank change, which would
promote tiny accounts that swap places. For each of them the "driver" is the
contribution whose change did most of the move in its direction: contributions
add up to the potential, so the changes of the contributions add up to the
change of the potential and the driver is read off directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from plan_lib.errors import InputError


@dataclass
class ScoreComparison:
    spearman: float | None  # rank correlation of potential over the accounts in both tables
    n_common: int
    n_added: int  # in the current table only
    n_removed: int  # in the previous table only
    risers: pd.DataFrame
    fallers: pd.DataFrame
    changes: pd.DataFrame  # every common account: potentials, change, driver

    def summary(self) -> dict[str, object]:
        return {
            "spearman": self.spearman,
            "n_common": self.n_common,
            "n_added": self.n_added,
            "n_removed": self.n_removed,
            "top_riser": None if self.risers.empty else str(self.risers.iloc[0]["account_id"]),
            "top_faller": None if self.fallers.empty else str(self.fallers.iloc[0]["account_id"]),
        }


def _contribution_columns(previous: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    return [c for c in current.columns if c.startswith("contrib_") and c in previous.columns]


def compare_scores(previous: pd.DataFrame, current: pd.DataFrame, top: int = 10) -> ScoreComparison:
    """Rank correlation, the ``top`` risers and fallers, and the component that moved each."""
    for name, frame in (("previous", previous), ("current", current)):
        for column in ("account_id", "potential"):
            if column not in frame:
                raise InputError(
                    f"{name} scores",
                    "column missing",
                    column=column,
                    fix="Pass a scores table of a scoring run",
                )
    parts = _contribution_columns(previous, current)
    left = previous[["account_id", "potential", *parts]].astype({"account_id": "str"})
    right = current[["account_id", "potential", *parts]].astype({"account_id": "str"})
    merged = left.merge(right, on="account_id", how="inner", suffixes=("_previous", "_current"))
    n_common = len(merged)
    n_added = int((~right["account_id"].isin(left["account_id"])).sum())
    n_removed = int((~left["account_id"].isin(right["account_id"])).sum())

    changes = pd.DataFrame(
        {
            "account_id": merged["account_id"],
            "potential_previous": merged["potential_previous"],
            "potential_current": merged["potential_current"],
            "change": merged["potential_current"] - merged["potential_previous"],
        }
    )
    changes["rank_previous"] = (
        merged["potential_previous"].rank(ascending=False, method="min").astype("int64")
    )
    changes["rank_current"] = (
        merged["potential_current"].rank(ascending=False, method="min").astype("int64")
    )
    if parts:
        deltas = np.column_stack([merged[f"{c}_current"] - merged[f"{c}_previous"] for c in parts])
        direction = np.sign(changes["change"].to_numpy())[:, None]
        # the component that moved most in the direction of the total change
        pick = np.argmax(np.where(direction == 0, np.abs(deltas), deltas * direction), axis=1)
        changes["driver"] = pd.Series(
            np.array([c.removeprefix("contrib_") for c in parts])[pick], dtype="str"
        )
        changes["driver_change"] = deltas[np.arange(len(deltas)), pick]
        for column, index in zip(parts, range(len(parts)), strict=True):
            changes[f"delta_{column.removeprefix('contrib_')}"] = deltas[:, index]
    else:
        changes["driver"] = pd.Series(pd.NA, index=changes.index, dtype="str")
        changes["driver_change"] = np.nan

    spearman = None  # undefined for fewer than 2 accounts or a constant potential
    before, after = (
        merged["potential_previous"].to_numpy(float),
        merged["potential_current"].to_numpy(float),
    )
    if n_common >= 2 and before.std() > 0 and after.std() > 0:
        spearman = float(spearmanr(before, after).statistic)
    order = changes.sort_values(["change", "account_id"], ascending=[False, True], kind="stable")
    risers = order[order["change"] > 0].head(top).reset_index(drop=True)
    fallers = (
        order[order["change"] < 0]
        .sort_values(["change", "account_id"], kind="stable")
        .head(top)
        .reset_index(drop=True)
    )
    return ScoreComparison(spearman, n_common, n_added, n_removed, risers, fallers, changes)

"""Balance and fairness indicators of books under review (pure functions).

Recomputed from the effective assignment (the draft plus the overrides) so a
manager sees the effect of a move or a quota change at once:

- potential per FTE and its deviation from the segment mean (the balance band);
- workload, accounts and customers per book;
- quota / potential per rep and its deviation from the segment's ratio (a
  quota out of line with the book's potential is unfair whatever the band).

Segment means are FTE-weighted (total potential / total FTE of the segment),
computed over the whole company, so a team is compared with its peers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BOOK_COLUMNS = [
    "rep_id", "name", "segment", "region", "fte", "accounts", "customers", "potential", "potential_per_fte",
    "deviation", "in_band", "workload", "quota", "quota_per_potential", "ratio_deviation",
]


def effective_books(accounts: pd.DataFrame, reps: pd.DataFrame, quotas: pd.Series, band: float) -> pd.DataFrame:
    """One row per quota-carrying rep: the indicators of their book as it stands now.

    ``accounts``: one row per account with ``rep_id`` (effective owner), ``potential``,
    ``workload``, ``is_customer``. ``reps``: indexed by rep_id with name, segment,
    region, fte. ``quotas``: rep_id -> effective quota.
    """
    owners = accounts.groupby("rep_id")
    carriers = reps.index[(reps["role"].fillna("rep") == "rep")].union(pd.Index(accounts["rep_id"].unique()))
    books = pd.DataFrame(index=pd.Index(carriers, name="rep_id"))
    books["name"] = reps["name"].reindex(books.index)
    books["segment"] = reps["segment"].reindex(books.index)
    books["region"] = reps["region"].reindex(books.index)
    books["fte"] = reps["fte"].reindex(books.index).fillna(0.0)
    books["accounts"] = owners.size().reindex(books.index).fillna(0).astype(int)
    books["customers"] = owners["is_customer"].sum().reindex(books.index).fillna(0).astype(int)
    books["potential"] = owners["potential"].sum().reindex(books.index).fillna(0.0)
    books["workload"] = owners["workload"].sum().reindex(books.index).fillna(0.0)
    books["quota"] = quotas.reindex(books.index).astype(float)
    fte = books["fte"].where(books["fte"] > 0)
    books["potential_per_fte"] = books["potential"] / fte
    segment = books.groupby("segment", dropna=False)
    mean_ppf = segment["potential"].transform("sum") / segment["fte"].transform("sum").where(lambda s: s > 0)
    books["deviation"] = books["potential_per_fte"] / mean_ppf - 1.0
    books["in_band"] = books["deviation"].abs() <= band + 1e-12
    books["quota_per_potential"] = books["quota"] / books["potential"].where(books["potential"] > 0)
    has_quota = books["quota"].notna() & (books["potential"] > 0)
    quota_sum = books["quota"].where(has_quota).groupby(books["segment"], dropna=False).transform("sum")
    potential_sum = books["potential"].where(has_quota).groupby(books["segment"], dropna=False).transform("sum")
    books["ratio_deviation"] = books["quota_per_potential"] / (quota_sum / potential_sum.where(potential_sum > 0)) - 1.0
    return books.reset_index()[BOOK_COLUMNS]


def segment_summary(books: pd.DataFrame, band: float) -> pd.DataFrame:
    """Per segment: mean potential per FTE, worst deviation, books out of band, quota/potential."""
    rows = []
    for segment, group in books.groupby("segment", dropna=False):
        fte = group["fte"].sum()
        with_quota = group[group["quota"].notna()]
        rows.append(
            {
                "segment": segment,
                "reps": len(group),
                "mean_potential_per_fte": group["potential"].sum() / fte if fte > 0 else np.nan,
                "max_abs_deviation": group["deviation"].abs().max(),
                "out_of_band": int((group["deviation"].abs() > band + 1e-12).sum()),
                "quota_per_potential": with_quota["quota"].sum() / with_quota["potential"].sum() if with_quota["potential"].sum() > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class QuotaPreview:
    """What a quota change would do, before it is saved."""

    rep_id: str
    quota_before: float
    quota_after: float
    ratio_before: float
    ratio_after: float
    ratio_deviation_before: float
    ratio_deviation_after: float
    team_quota_before: float
    team_quota_after: float
    segment_ratio_before: float
    segment_ratio_after: float
    band: float

    @property
    def leaves_band(self) -> bool:
        return abs(self.ratio_deviation_after) > self.band >= abs(self.ratio_deviation_before)

    def lines(self) -> list[str]:
        def pct(value: float) -> str:
            return "n/a" if not np.isfinite(value) else f"{value:+.1%}"

        return [
            f"quota {self.quota_before:,.0f} -> {self.quota_after:,.0f} ({self.quota_after - self.quota_before:+,.0f})",
            f"quota/potential {self.ratio_before:.3f} -> {self.ratio_after:.3f}; vs segment "
            f"{pct(self.ratio_deviation_before)} -> {pct(self.ratio_deviation_after)} (band +/-{self.band:.0%})",
            f"segment quota/potential {self.segment_ratio_before:.3f} -> {self.segment_ratio_after:.3f}",
            f"your team's quota {self.team_quota_before:,.0f} -> {self.team_quota_after:,.0f}",
        ] + (["this change takes the rep's quota out of line with the segment"] if self.leaves_band else [])


def quota_preview(books: pd.DataFrame, rep_id: str, new_quota: float, team: set[str], band: float) -> QuotaPreview:
    """Live effect of setting ``rep_id``'s quota to ``new_quota`` (no store access, no write)."""
    after = books.copy()
    row = after.index[after["rep_id"] == rep_id]
    if len(row) == 0:
        raise KeyError(rep_id)
    before_quota = float(after.loc[row[0], "quota"]) if pd.notna(after.loc[row[0], "quota"]) else 0.0
    segment = after.loc[row[0], "segment"]
    after.loc[row[0], "quota"] = float(new_quota)

    def ratios(frame: pd.DataFrame) -> tuple[float, float, float]:
        peers = frame[(frame["segment"] == segment) & frame["quota"].notna() & (frame["potential"] > 0)]
        seg_ratio = peers["quota"].sum() / peers["potential"].sum() if len(peers) else np.nan
        me = frame.loc[row[0]]
        ratio = me["quota"] / me["potential"] if me["potential"] > 0 and pd.notna(me["quota"]) else np.nan
        return ratio, ratio / seg_ratio - 1.0, seg_ratio

    r0, d0, s0 = ratios(books)
    r1, d1, s1 = ratios(after)
    in_team = books["rep_id"].isin(team)
    return QuotaPreview(
        rep_id=rep_id,
        quota_before=before_quota,
        quota_after=float(new_quota),
        ratio_before=float(r0),
        ratio_after=float(r1),
        ratio_deviation_before=float(d0),
        ratio_deviation_after=float(d1),
        team_quota_before=float(books.loc[in_team, "quota"].sum()),
        team_quota_after=float(after.loc[in_team, "quota"].sum()),
        segment_ratio_before=float(s0),
        segment_ratio_after=float(s1),
        band=band,
    )

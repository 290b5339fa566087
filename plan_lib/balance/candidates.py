"""Which (family, rep) pairs get a variable, and the certificate that the rest do not matter.

A variable for every eligible pair is exact but does not scale (100,000 accounts x
130 reps of a segment is 13 million columns). The candidate set starts small:

- the ``k_nearest`` cheapest eligible reps of each family (cost includes continuity,
  so the current owner is usually among them; it is added explicitly anyway);
- ``long_range`` extra reps per family: the nearest reps among those that cannot
  reach their lower band from their natural area (the families that are nearest to
  them). An overloaded metro with few reps has to export beyond its k nearest reps;
  these columns let the first LP do it.

Then **pricing** (column generation) closes the gap to the full problem: with the
LP's band duals, :func:`scan` computes the adjusted cost of every eligible pair block
by block; the solver adds the pairs cheaper than the family's current LP choice and
repeats until none is left. The same pass yields the Lagrangian bound of the full
problem (see :class:`~plan_lib.balance.model.TerritoryModel`), which is the LP bound
reported: it certifies the full problem, not the restricted one.

For large groups, the LP of a random sample of the families (with shrunken targets,
:meth:`~plan_lib.balance.model.TerritoryModel.subsample`) gives first prices; families
whose best rep at those prices wins by a wide margin are held fixed and the LP only
sees the contested ones. Pricing checks the fixed families too (and frees any whose
best rep changes), so the final LP is still the full LP's optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plan_lib.balance.model import Candidates, Duals, TerritoryModel


def initial_candidates(model: TerritoryModel, k: int, long_range: int) -> Candidates:
    """k cheapest eligible reps + current owners + long-range reps of starved areas."""
    n_r = model.n_reps
    units_out: list[np.ndarray] = []
    reps_out: list[np.ndarray] = []
    natural = np.zeros(model.n_units, dtype=np.int64)
    kk = min(k, n_r)
    for _, _, block in model.unit_blocks():
        rows = model.cost_rows(block)
        natural[block] = np.argmin(rows, axis=1)
        idx = (
            np.argpartition(rows, kk - 1, axis=1)[:, :kk]
            if kk < n_r
            else np.tile(np.arange(n_r), (len(block), 1))
        )
        ok = np.isfinite(np.take_along_axis(rows, idx, axis=1))
        units_out.append(np.repeat(block, kk)[ok.ravel()])
        reps_out.append(idx.ravel()[ok.ravel()])
    for owners in (model.keep_weight, model.cap_keep):
        if owners is not None:
            coo = owners.tocoo()
            ok = model.eligible(coo.row)[np.arange(len(coo.row)), coo.col] & (coo.data > 0)
            units_out.append(coo.row[ok])
            reps_out.append(coo.col[ok])
    if long_range and model.has_band and n_r > kk:
        natural_load = model.loads(natural, model.balance)
        starved = natural_load < (1.0 - model.tau) * model.target
        if starved.any():
            lr = min(long_range, int(starved.sum()))
            for _, _, block in model.unit_blocks():
                rows = model.cost_rows(block)
                rows[:, ~starved] = np.inf
                idx = np.argpartition(rows, lr - 1, axis=1)[:, :lr]
                ok = np.isfinite(np.take_along_axis(rows, idx, axis=1))
                units_out.append(np.repeat(block, lr)[ok.ravel()])
                reps_out.append(idx.ravel()[ok.ravel()])
    return Candidates.build(model, np.concatenate(units_out), np.concatenate(reps_out))


@dataclass
class Prices:
    """Per-rep prices from the duals: adjusted cost = c + b_u pi_r + sum_k a_ku pi_kr + eta g_ur."""

    band: np.ndarray | None
    soft: list[np.ndarray]
    cap: float
    constant: float  # -lambda' h of the Lagrangian

    @classmethod
    def from_duals(
        cls, model: TerritoryModel, duals: Duals, soft_prices: list[np.ndarray] | None = None
    ) -> Prices:
        """Prices of an LP's duals; ``soft_prices`` when the LP priced its soft bands instead
        of stating them (each soft multiplier is then derived from its price and capped at
        the band's weight, which keeps the Lagrangian bound valid)."""
        constant = 0.0
        band = None
        if model.has_band:
            band = (duals.hard_hi - duals.hard_lo) / model.target
            constant += -float(duals.hard_hi.sum()) * (1 + duals.tau) + float(
                duals.hard_lo.sum()
            ) * (1 - duals.tau)
        if soft_prices is not None:
            pairs = []
            for rows, pi in zip(model.soft, soft_prices, strict=True):
                lam = np.clip(pi * rows.scale, -rows.weight, rows.weight)
                pairs.append((np.maximum(lam, 0.0), np.maximum(-lam, 0.0)))
        else:
            pairs = duals.soft
        soft = []
        for rows, (hi, lo) in zip(model.soft, pairs, strict=True):
            soft.append((hi - lo) / rows.scale)
            constant += -float(hi @ ((rows.target + rows.halfwidth) / rows.scale))
            constant += float(lo @ ((rows.target - rows.halfwidth) / rows.scale))
        if model.cap is not None:
            constant += -duals.cap * model.cap
        return cls(band, soft, duals.cap if model.cap is not None else 0.0, constant)

    def adjust_rows(self, model: TerritoryModel, units: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Adjusted costs of ``units`` x all reps, in place on ``rows``."""
        if self.band is not None:
            rows += model.balance[units][:, None] * self.band[None, :]
        for soft, pi in zip(model.soft, self.soft, strict=True):
            rows += soft.values[units][:, None] * pi[None, :]
        if self.cap:
            rows += self.cap * model.gap_coefficients(units)
        return rows

    def adjust_pairs(self, model: TerritoryModel, cands: Candidates) -> np.ndarray:
        out = cands.cost.copy()
        if self.band is not None:
            out += model.balance[cands.unit] * self.band[cands.rep]
        for soft, pi in zip(model.soft, self.soft, strict=True):
            out += soft.values[cands.unit] * pi[cands.rep]
        if self.cap:
            g = (
                model.cap_base[cands.unit]
                - np.asarray(model.cap_keep[cands.unit, cands.rep]).ravel()
            )
            out += self.cap * g
        return out


@dataclass
class Scan:
    """One pass over every eligible pair at given prices: the bound and each family's best reps."""

    bound: float  # Lagrangian bound of the full problem
    top_rep: np.ndarray  # (U, m) cheapest reps by adjusted cost, ascending
    top_val: np.ndarray  # (U, m) their adjusted costs (inf when fewer eligible reps)

    @property
    def margin(self) -> np.ndarray:
        """Adjusted cost of the second-best rep minus the best (inf for single-rep families)."""
        return (
            self.top_val[:, 1] - self.top_val[:, 0]
            if self.top_val.shape[1] > 1
            else np.full(len(self.top_val), np.inf)
        )


def scan(model: TerritoryModel, prices: Prices, m: int = 3) -> Scan:
    """Adjusted costs of all eligible pairs, block by block (never the whole matrix at once)."""
    m = min(m, model.n_reps)
    top_rep = np.zeros((model.n_units, m), dtype=np.int64)
    top_val = np.zeros((model.n_units, m))
    total = 0.0
    for _, _, block in model.unit_blocks():
        rows = prices.adjust_rows(model, block, model.cost_rows(block))
        if m < rows.shape[1]:
            idx = np.argpartition(rows, m - 1, axis=1)[:, :m]
        else:
            idx = np.tile(np.arange(rows.shape[1]), (len(block), 1))
        val = np.take_along_axis(rows, idx, axis=1)
        order = np.argsort(val, axis=1, kind="stable")
        top_rep[block] = np.take_along_axis(idx, order, axis=1)
        top_val[block] = np.take_along_axis(val, order, axis=1)
        total += float(top_val[block, 0].sum())
    return Scan(total + prices.constant, top_rep, top_val)

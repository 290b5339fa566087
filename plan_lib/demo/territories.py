"""Last period's territories (accounts.current_owner): plausible and imperfect.

The books themselves are cut with the roster (``roster``: recursive bisection
to deliberately uneven capacities, so expected bookings per FTE vary by about
+/-30%). Here they get history's noise: 4% of families moved to one of the 4
reps of their segment-region nearest to them (years of ad-hoc moves). New
accounts (3%) have no owner, nor does the open headcount own anything; the
leaving rep keeps a book. Children follow their parent's owner, wherever they are.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.roster import Roster

NOISE_SHARE = 0.04
NOISE_NEIGHBOURS = 4


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere: chord distance orders like great-circle distance."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def assign_current_owner(
    accounts: Accounts, roster: Roster, rng: np.random.Generator
) -> np.ndarray:
    """Seller row owning each account last period, -1 where unowned."""
    sellers = roster.sellers
    owner = roster.book.copy()
    moved = np.flatnonzero((owner >= 0) & (rng.random(accounts.n) < NOISE_SHARE))
    pick = rng.integers(1, NOISE_NEIGHBOURS, size=len(moved))
    owning = np.flatnonzero(sellers.can_own)
    for s in np.unique(sellers.segment):
        for g in np.unique(sellers.region):
            reps = owning[(sellers.segment[owning] == s) & (sellers.region[owning] == g)]
            mine = (sellers.segment[owner[moved]] == s) & (sellers.region[owner[moved]] == g)
            units = moved[mine]
            if len(reps) < 2 or len(units) == 0:
                continue
            k = min(NOISE_NEIGHBOURS, len(reps))
            tree = cKDTree(_unit_vectors(sellers.lat[reps], sellers.lon[reps]))
            _, near = tree.query(_unit_vectors(accounts.lat[units], accounts.lon[units]), k=k)
            owner[units] = reps[
                near.reshape(len(units), k)[np.arange(len(units)), np.minimum(pick[mine], k - 1)]
            ]
    children = np.flatnonzero(accounts.parent >= 0)
    owner[children] = owner[accounts.parent[children]]
    return owner

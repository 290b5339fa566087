"""Distances for the objective: accounts x rep homes, computed in blocks.

``plan_lib.geo.haversine_km`` is the project's point-to-point formula; balancing
needs it for every (account, rep) pair of a segment, possibly hundreds of
millions, so this module precomputes the trigonometry of both sides once and
evaluates blocks of rows on demand (the same great-circle formula and Earth
radius, so the two never disagree by more than rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Mean Earth radius (IUGG), km; the value ``plan_lib.geo`` uses.
EARTH_RADIUS_KM = 6371.0088


@dataclass
class PointSet:
    """Latitudes/longitudes in radians with their cosines, ready for haversine blocks."""

    lat: np.ndarray
    lon: np.ndarray
    cos_lat: np.ndarray

    @classmethod
    def from_degrees(cls, lat: np.ndarray, lon: np.ndarray) -> PointSet:
        la = np.radians(np.asarray(lat, dtype=float))
        lo = np.radians(np.asarray(lon, dtype=float))
        return cls(la, lo, np.cos(la))

    def take(self, index: np.ndarray) -> PointSet:
        return PointSet(self.lat[index], self.lon[index], self.cos_lat[index])

    def __len__(self) -> int:
        return len(self.lat)


def haversine_block(a: PointSet, b: PointSet) -> np.ndarray:
    """Great-circle distance in km between every point of ``a`` (rows) and ``b`` (columns).

    Missing coordinates give NaN; callers decide what a missing distance means.
    """
    dphi = b.lat[None, :] - a.lat[:, None]
    dlmb = b.lon[None, :] - a.lon[:, None]
    h = (
        np.sin(dphi * 0.5) ** 2
        + (a.cos_lat[:, None] * b.cos_lat[None, :]) * np.sin(dlmb * 0.5) ** 2
    )
    np.clip(h, 0.0, 1.0, out=h)
    return (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(h))


def haversine_pairs(a: PointSet, ia: np.ndarray, b: PointSet, ib: np.ndarray) -> np.ndarray:
    """Distance in km for the pairs (a[ia[i]], b[ib[i]])."""
    dphi = b.lat[ib] - a.lat[ia]
    dlmb = b.lon[ib] - a.lon[ia]
    h = np.sin(dphi * 0.5) ** 2 + a.cos_lat[ia] * b.cos_lat[ib] * np.sin(dlmb * 0.5) ** 2
    return (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))

"""Cutting a map into books by recursive bisection (how planners draw territories by hand).

Split the seats into two halves, cut the points along the longer side of
their bounding box so that each side's value matches its seats' share of the
capacity, and recurse until one seat is left: every book is compact, and its
value tracks its capacity up to the lumpiness of single points.
"""

from __future__ import annotations

import numpy as np


def bisect(lat: np.ndarray, lon: np.ndarray, value: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Seat (index into ``capacity``) of each point; seats are split in their given order."""
    seat = np.full(len(lat), -1, dtype=np.int64)
    if len(capacity) == 0:
        return seat
    x_scale = float(np.cos(np.radians(np.mean(lat)))) if len(lat) else 1.0
    stack = [(np.arange(len(lat)), np.arange(len(capacity)))]
    while stack:
        points, seats = stack.pop()
        if len(seats) == 1 or len(points) == 0:
            seat[points] = seats[0]
            continue
        along_lat = np.ptp(lat[points]) >= np.ptp(lon[points]) * x_scale
        coord = lat if along_lat else lon
        first, second = seats[: len(seats) // 2], seats[len(seats) // 2 :]
        points = points[np.argsort(coord[points], kind="stable")]
        share = capacity[first].sum() / capacity[seats].sum()
        cumulative = np.cumsum(value[points])
        # a point goes to the first half when the middle of its value falls inside the share
        cut = int(np.searchsorted(cumulative - value[points] / 2, share * cumulative[-1]))
        stack.append((points[cut:], second))
        stack.append((points[:cut], first))
    return seat


def weighted_medoid(lat: np.ndarray, lon: np.ndarray, value: np.ndarray) -> int:
    """Index of the point nearest the value-weighted median location (a real place in the book)."""

    def median(x: np.ndarray) -> float:
        order = np.argsort(x, kind="stable")
        cumulative = np.cumsum(value[order])
        return float(x[order][np.searchsorted(cumulative, cumulative[-1] / 2)])

    mid_lat, mid_lon = median(lat), median(lon)
    x_scale = np.cos(np.radians(mid_lat))
    return int(np.argmin((lat - mid_lat) ** 2 + ((lon - mid_lon) * x_scale) ** 2))

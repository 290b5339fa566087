"""Colours, marker sizes and class breaks shared by the static and interactive maps,
so a book has the same colour in the PNG of a run and in the dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

#: Qualitative palette (Tableau 10 without its grey, plus two darker tones):
#: distinguishable on screen and in print; grey is kept for "unassigned".
BOOK_PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#1f4e79",
    "#8c564b",
    "#2ca02c",
)
UNASSIGNED_COLOR = "#8c8c8c"
LAND_COLOR = "#f1f1ef"
BORDER_COLOR = "#b5b5b5"
NO_DATA_COLOR = "#c9c9c9"


def book_colors(outlines: gpd.GeoDataFrame, rep_ids: Iterable[str] = ()) -> dict[str, str]:
    """A colour per book: distinct when there are no more books than colours, else
    such that books whose outlines touch or overlap differ.

    Why graph colouring rather than cycling a palette by rep id: with dozens of
    books a cycled palette gives neighbours the same colour by chance, and the map
    stops showing where one territory ends. Greedy colouring in Welsh-Powell order
    (most neighbours first, ties by rep_id) is deterministic and, territories being
    nearly planar, rarely needs more than six colours. Books in ``rep_ids`` without
    an outline get colours too (cycling), so every book has one.
    """
    ids = sorted(set(outlines["rep_id"]) if len(outlines) else set())
    everyone = sorted(set(ids) | set(rep_ids))
    if len(everyone) <= len(BOOK_PALETTE):  # few books: every book its own colour
        return {rep: BOOK_PALETTE[k] for k, rep in enumerate(everyone)}
    neighbours: dict[str, set[str]] = {r: set() for r in ids}
    if len(outlines) > 1:
        frame = outlines[["rep_id", "geometry"]].reset_index(drop=True)
        pairs = gpd.sjoin(frame, frame, how="inner", predicate="intersects")
        for left, right in zip(pairs["rep_id_left"], pairs["rep_id_right"], strict=True):
            if left != right:
                neighbours[left].add(right)
    colors: dict[str, str] = {}
    for rep in sorted(ids, key=lambda r: (-len(neighbours[r]), r)):
        taken = {colors[n] for n in neighbours[rep] if n in colors}
        free = [c for c in BOOK_PALETTE if c not in taken]
        colors[rep] = free[0] if free else BOOK_PALETTE[len(colors) % len(BOOK_PALETTE)]
    extra = sorted(set(rep_ids) - set(colors))
    for k, rep in enumerate(extra):
        colors[rep] = BOOK_PALETTE[k % len(BOOK_PALETTE)]
    return colors


def colors_of(rep_id: pd.Series, palette: Mapping[str, str]) -> np.ndarray:
    """Colour of each row's book; grey where unassigned or unknown."""
    return rep_id.map(palette).fillna(UNASSIGNED_COLOR).to_numpy(dtype=object)


def point_sizes(potential: pd.Series, n_points: int) -> tuple[np.ndarray, float]:
    """Marker areas (points^2) proportional to potential, and the area of the largest.

    Area, not radius, is proportional to potential so the eye compares values
    correctly. The largest marker shrinks as points get denser (60 pt^2 at a few
    hundred accounts, ~3 pt^2 at 100,000) so a national map is not a solid blob;
    values above the 99th percentile are capped so one giant does not shrink the rest.
    """
    values: np.ndarray = (
        pd.to_numeric(potential, errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy(dtype=float)
    )
    largest = float(np.clip(60.0 * np.sqrt(300.0 / max(n_points, 1)), 3.0, 60.0))
    cap = float(np.quantile(values, 0.99)) if len(values) and values.max() > 0 else 1.0
    cap = cap if cap > 0 else 1.0
    return 0.08 * largest + 0.92 * largest * np.minimum(values / cap, 1.0), cap


def size_for(value: float, cap: float, n_points: int) -> float:
    """The marker area :func:`point_sizes` gives ``value`` (for size legends)."""
    largest = float(np.clip(60.0 * np.sqrt(300.0 / max(n_points, 1)), 3.0, 60.0))
    return 0.08 * largest + 0.92 * largest * min(value / cap, 1.0)


def quantile_breaks(values: pd.Series, k: int = 5) -> np.ndarray:
    """Class edges (k+1 ascending, unique) of positive values by quantiles.

    Quantiles rather than equal intervals: potential is heavy-tailed, and equal
    intervals would paint all but a handful of zones in the lowest class.
    """
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    positive = numbers[numbers > 0].to_numpy(dtype=float)
    if len(positive) == 0:
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(positive, np.linspace(0.0, 1.0, k + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0] * 0.999, edges[0]])
    return edges


def money(value: float) -> str:
    """$1.2M / $350k / $12.3B: short enough for a legend."""
    if not np.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{sign}${scaled:.{0 if scaled >= 10 else 1}f}{suffix}"
    return f"{sign}${value:.0f}"


def class_labels(edges: np.ndarray, fmt=money) -> list[str]:
    """Legend text of each class: ``$1.2M - $3.4M``."""
    return [f"{fmt(lo)} - {fmt(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


#: Coverage classes (coverage index: 1.0 = staffed like the segment average). The
#: middle class is a pale green ("fine"), distinct from the grey of "no accounts".
COVERAGE_EDGES = (0.5, 0.8, 1.25, 2.0)
COVERAGE_COLORS = ("#d6604d", "#f4a582", "#d9f0d3", "#92c5de", "#4393c3")
NOBODY_COLOR = "#7f0000"
#: Attainment classes (share of quota, or of pace): red behind, green ahead.
PACE_EDGES = (0.7, 0.9, 1.1, 1.3)
PACE_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")


def coverage_colors(index: pd.Series) -> list[str]:
    """Colour of each coverage index; dark red where no active rep covers the zone."""
    values = index.to_numpy(dtype=float)
    cls = np.searchsorted(COVERAGE_EDGES, np.nan_to_num(values, nan=1.0), side="right")
    return [
        NOBODY_COLOR if v == 0 else COVERAGE_COLORS[c] for c, v in zip(cls, values, strict=True)
    ]


def pace_colors(ratio: pd.Series) -> list[str]:
    """Colour of each attainment (or pace) ratio; grey where there is no quota."""
    cls = np.searchsorted(PACE_EDGES, ratio.fillna(0).to_numpy(dtype=float), side="right")
    return [
        NO_DATA_COLOR if pd.isna(v) else PACE_COLORS[c] for c, v in zip(cls, ratio, strict=True)
    ]


#: Sequential colour map of each quantity shown in quantile classes.
QUANTITY_CMAP = {"potential": "YlOrBr", "whitespace": "PuBu"}


def quantile_colors(values: pd.Series, cmap: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Colour of each value by quantile class (zero or less: the no-data grey), the
    class edges and the class colours, lowest first."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    edges = quantile_breaks(values)
    k = len(edges) - 1
    palette = [to_hex(colormaps[cmap](x)) for x in np.linspace(0.15, 0.95, k)]
    numbers = pd.to_numeric(values, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    cls = np.clip(np.searchsorted(edges[1:-1], numbers, side="left"), 0, k - 1)
    colors = [palette[c] if v > 0 else NO_DATA_COLOR for c, v in zip(cls, numbers, strict=True)]
    return colors, edges, palette

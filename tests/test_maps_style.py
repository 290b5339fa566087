"""Shared map styling: book colours, marker sizes, classes, parameters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from shapely.geometry import box

from plan_lib.maps import style
from plan_lib.maps.params import MapParams


def _grid(n: int) -> gpd.GeoDataFrame:
    cells = [box(i, j, i + 1, j + 1) for i in range(n) for j in range(n)]
    return gpd.GeoDataFrame(
        {"rep_id": [f"R{k:03d}" for k in range(n * n)]}, geometry=cells, crs="EPSG:4269"
    )


def test_few_books_get_distinct_colours() -> None:
    colors = style.book_colors(_grid(3), ["R999"])
    assert len(colors) == 10 and len(set(colors.values())) == 10


def test_many_books_touching_books_never_share_a_colour() -> None:
    grid = _grid(6)  # 36 books, more than the palette
    colors = style.book_colors(grid)
    assert len(colors) == 36 and set(colors.values()) <= set(style.BOOK_PALETTE)
    pairs = gpd.sjoin(grid, grid, predicate="intersects")
    pairs = pairs[pairs["rep_id_left"] != pairs["rep_id_right"]]
    assert len(pairs) > 0
    assert all(
        colors[a] != colors[b]
        for a, b in zip(pairs["rep_id_left"], pairs["rep_id_right"], strict=True)
    )
    assert style.book_colors(grid) == colors  # deterministic


def test_marker_area_grows_with_potential_and_shrinks_with_density() -> None:
    potential = pd.Series([0.0, 1e3, 1e4, 1e5, 1e6])
    sizes, cap = style.point_sizes(potential, 5)
    assert np.all(np.diff(sizes) >= 0) and sizes[0] > 0
    dense, _ = style.point_sizes(potential, 100_000)
    assert dense.max() < sizes.max()
    assert style.size_for(cap, cap, 5) == pytest.approx(sizes.max())


def test_quantile_classes_and_money() -> None:
    values = pd.Series([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 100.0])
    colors, edges, palette = style.quantile_colors(values, "YlOrBr")
    assert colors[0] == style.NO_DATA_COLOR and colors[-1] == palette[-1]
    assert np.all(np.diff(edges) > 0)
    assert [style.money(v) for v in (950, 12_400, 3_456_000, 2.5e9)] == [
        "$950",
        "$12k",
        "$3.5M",
        "$2.5B",
    ]
    assert style.coverage_colors(pd.Series([0.0, 0.3, 1.0, 3.0])) == [
        style.NOBODY_COLOR,
        style.COVERAGE_COLORS[0],
        style.COVERAGE_COLORS[2],
        style.COVERAGE_COLORS[4],
    ]


def test_map_parameters_reject_unknown_keys_and_bad_values() -> None:
    assert MapParams().zone == "county"
    with pytest.raises(ValidationError):
        MapParams(zoom=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        MapParams(zone="zip")  # type: ignore[arg-type]

"""State and county shapes prepared for drawing.

The shipped Census shapes (1:500k, about a million vertices for the counties)
are far more detailed than a map at national or regional scale can show, and
drawing them costs seconds. They are simplified here once per process with a
*coverage* simplification, which moves shared borders identically on both sides:
neighbouring counties stay gap- and overlap-free, so counties dissolved into a
territory outline have no slivers. Analyses that need exact areas use
``land_area_km2`` (from the Census), never the simplified geometry.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import shapely

from plan_lib import geo
from plan_lib.maps.crs import AREA_CRS, INPUT_CRS

#: Simplification tolerance in metres (EPSG:5070). 1 km is under a pixel for a
#: state-sized map on a 1,300 px wide PNG; 2.5 km is ample for web maps at zoom <= 8.
DRAW_TOLERANCE_M = 1_000.0
WEB_TOLERANCE_M = 2_500.0


def _simplified(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    projected = frame.to_crs(AREA_CRS)
    simple = projected.geometry.simplify_coverage(tolerance_m)
    return gpd.GeoDataFrame(
        frame.drop(columns="geometry"), geometry=simple.values, crs=AREA_CRS
    ).to_crs(INPUT_CRS)


def states(tolerance_m: float = DRAW_TOLERANCE_M) -> gpd.GeoDataFrame:
    """The 50 states and DC (see :func:`plan_lib.geo.load_states`), simplified, EPSG:4269.

    Cached per tolerance: treat as read-only.
    """
    return _states(float(tolerance_m))


def counties(tolerance_m: float = DRAW_TOLERANCE_M) -> gpd.GeoDataFrame:
    """Counties of the 50 states and DC (see :func:`plan_lib.geo.load_counties`), simplified, EPSG:4269.

    Cached per tolerance: treat as read-only.
    """
    return _counties(float(tolerance_m))


# A coarser version starts from the drawing one: simplifying 70,000 vertices
# instead of a million is what makes the web shapes nearly free.
@lru_cache(maxsize=4)
def _states(tolerance_m: float) -> gpd.GeoDataFrame:
    source = _states(DRAW_TOLERANCE_M) if tolerance_m > DRAW_TOLERANCE_M else geo.load_states()
    return _simplified(source, tolerance_m)


@lru_cache(maxsize=4)
def _counties(tolerance_m: float) -> gpd.GeoDataFrame:
    source = _counties(DRAW_TOLERANCE_M) if tolerance_m > DRAW_TOLERANCE_M else geo.load_counties()
    return _simplified(source, tolerance_m)


def zones(zone: str, tolerance_m: float = DRAW_TOLERANCE_M) -> gpd.GeoDataFrame:
    """Boundaries of a zone kind with a uniform key column ``zone_id`` and a ``zone_name``."""
    if zone == "state":
        frame = states(tolerance_m)
        return frame.assign(zone_id=frame["state"], zone_name=frame["name"])
    if zone == "county":
        frame = counties(tolerance_m)
        return frame.assign(
            zone_id=frame["county_fips"], zone_name=frame["name"] + ", " + frame["state"]
        )
    raise ValueError(f"zone must be 'county' or 'state', got {zone!r}")


def without_specks(frame: gpd.GeoDataFrame, min_km2: float) -> gpd.GeoDataFrame:
    """Drop polygon parts smaller than ``min_km2`` (keeping each row's largest part).

    Web maps: Alaska's and Maine's thousands of islets are invisible at state zoom
    but make up most of the bytes a browser has to download.
    """
    parts = frame.geometry.explode(index_parts=True)
    area = parts.to_crs(AREA_CRS).area / 1e6
    largest = area.groupby(level=0).transform("max")
    kept = parts[(area >= min_km2) | (area == largest)]
    merged = kept.groupby(level=0).agg(
        lambda g: shapely.multipolygons(list(g)) if len(g) > 1 else g.iloc[0]
    )
    out = frame.copy()
    out["geometry"] = gpd.GeoSeries(merged, crs=frame.crs).reindex(frame.index).values
    return out


@lru_cache(maxsize=1)
def web_states() -> gpd.GeoDataFrame:
    """States for web maps: coarser, without islets under 30 km^2 (EPSG:4269, cached)."""
    return without_specks(states(WEB_TOLERANCE_M), 30.0)


@lru_cache(maxsize=2)
def web_zones(zone: str) -> gpd.GeoDataFrame:
    """Zone shapes for web maps (coarser, islets under 5 km^2 dropped; EPSG:4269, cached)."""
    return without_specks(zones(zone, WEB_TOLERANCE_M), 5.0)[["zone_id", "geometry"]]


def clear_caches() -> None:
    """Forget every cached shape (benchmarks measuring a cold start)."""
    for cached in (_states, _counties, web_states, web_zones):
        cached.cache_clear()

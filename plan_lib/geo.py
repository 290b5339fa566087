"""Offline US geography: state and county shapes, ZIP points, regions, distances.

Everything here comes from installed packages so that no run ever downloads a
file: the Census cartographic boundary shapefiles (2016, 1:500k) that ship with
``plotly-geo`` and the ~42,000 ZIP points of ``zipcodes``. Maps, balancing and
the demo generator share this one module so they agree on what "a county" or
"the West" is.

What is kept: the 50 states and the District of Columbia (51 units). Puerto
Rico, the other territories and the military "states" (AA/AE/AP) are dropped,
because sales regions and the equal-area projection below are defined for the
United States proper. Alaska and Hawaii stay: they have customers, and the
equal-area CRS still gives usable (if distorted) distances there.

Coordinates: the shapefiles ship without a ``.prj``; they are NAD83
geographic, so they are tagged EPSG:4269 on load. ZIP points are WGS84 in
practice; NAD83 and WGS84 differ by about a metre, far below what territory
planning cares about, so ZIPs are joined to counties without reprojection.
For areas and planar distances in km use ``EQUAL_AREA_CRS`` (CONUS Albers);
for point-to-point distances use :func:`haversine_km`.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from plan_lib.errors import TqpError

#: CRS of the shipped Census shapefiles (NAD83 geographic).
SOURCE_CRS = "EPSG:4269"
#: NAD83 / Conus Albers equal-area: metres, good for areas and planar distances.
EQUAL_AREA_CRS = "EPSG:5070"
#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088

#: Sales region of each of the 50 states and DC. Three regions of comparable
#: economic weight: the West (Pacific and Mountain states), the Central band
#: (Plains, Texas, the Midwest and the inland South) and the East (Atlantic
#: seaboard from Maine to Florida, plus the Appalachian states that sell with it).
STATE_REGION: dict[str, str] = {
    **dict.fromkeys(
        ["AK", "AZ", "CA", "CO", "HI", "ID", "MT", "NM", "NV", "OR", "UT", "WA", "WY"], "West"
    ),
    **dict.fromkeys(
        [
            "AL",
            "AR",
            "IA",
            "IL",
            "IN",
            "KS",
            "KY",
            "LA",
            "MI",
            "MN",
            "MO",
            "MS",
            "ND",
            "NE",
            "OH",
            "OK",
            "SD",
            "TN",
            "TX",
            "WI",
        ],
        "Central",
    ),
    **dict.fromkeys(
        [
            "CT",
            "DC",
            "DE",
            "FL",
            "GA",
            "MA",
            "MD",
            "ME",
            "NC",
            "NH",
            "NJ",
            "NY",
            "PA",
            "RI",
            "SC",
            "VA",
            "VT",
            "WV",
        ],
        "East",
    ),
}
#: Region names in a fixed order (west to east), for stable output ordering.
REGIONS: tuple[str, ...] = ("West", "Central", "East")
#: The 51 state codes kept (50 states + DC).
STATES: tuple[str, ...] = tuple(sorted(STATE_REGION))

_STATE_SHAPEFILE = "cb_2016_us_state_500k.shp"
_COUNTY_SHAPEFILE = "cb_2016_us_county_500k.shp"


class GeographyDataError(TqpError):
    """The packaged boundary or ZIP data cannot be found or read."""


def _package_data(filename: str) -> Path:
    try:
        root = importlib.resources.files("_plotly_geo") / "package_data"
    except ModuleNotFoundError as exc:
        raise GeographyDataError(
            "US boundaries come from the 'plotly-geo' package, which is not installed. "
            "Install it with: pip install plotly-geo==1.0.0"
        ) from exc
    path = Path(str(root / filename))
    if not path.exists():
        raise GeographyDataError(
            f"{path} is missing from the plotly-geo package. Reinstall it with: "
            "pip install --force-reinstall plotly-geo==1.0.0"
        )
    return path


@lru_cache(maxsize=1)
def load_states() -> gpd.GeoDataFrame:
    """States + DC as a GeoDataFrame in EPSG:4269.

    Columns: state (two-letter code), state_fips, name, region, land_area_km2,
    geometry. Cached: treat the result as read-only (``.copy()`` before editing).
    """
    raw = gpd.read_file(_package_data(_STATE_SHAPEFILE)).set_crs(SOURCE_CRS, allow_override=True)
    raw = raw[raw["STUSPS"].isin(STATES)]
    states = gpd.GeoDataFrame(
        {
            "state": raw["STUSPS"].astype("str"),
            "state_fips": raw["STATEFP"].astype("str"),
            "name": raw["NAME"].astype("str"),
            "region": raw["STUSPS"].map(STATE_REGION).astype("str"),
            "land_area_km2": raw["ALAND"].astype("float64") / 1e6,
        },
        geometry=raw.geometry.values,
        crs=SOURCE_CRS,
    )
    return states.sort_values("state").reset_index(drop=True)


@lru_cache(maxsize=1)
def load_counties() -> gpd.GeoDataFrame:
    """Counties (and county equivalents) of the 50 states + DC, EPSG:4269.

    Columns: county_fips (5-digit text), state_fips, state, name, land_area_km2,
    geometry. Cached: treat the result as read-only.
    """
    raw = gpd.read_file(_package_data(_COUNTY_SHAPEFILE)).set_crs(SOURCE_CRS, allow_override=True)
    fips_to_state = dict(zip(load_states()["state_fips"], load_states()["state"], strict=True))
    state = raw["STATEFP"].map(fips_to_state)
    raw = raw[state.notna()]
    counties = gpd.GeoDataFrame(
        {
            "county_fips": raw["GEOID"].astype("str"),
            "state_fips": raw["STATEFP"].astype("str"),
            "state": raw["STATEFP"].map(fips_to_state).astype("str"),
            "name": raw["NAME"].astype("str"),
            "land_area_km2": raw["ALAND"].astype("float64") / 1e6,
        },
        geometry=raw.geometry.values,
        crs=SOURCE_CRS,
    )
    return counties.sort_values("county_fips").reset_index(drop=True)


@lru_cache(maxsize=1)
def load_zip_points() -> pd.DataFrame:
    """ZIP code points of the 50 states + DC, with the county each falls in.

    Columns: zip (5-digit text), zip_type (STANDARD, PO BOX, UNIQUE),
    active (bool), city, state, county_name (as the zipcodes package spells it),
    lat, lon, county_fips (5-digit text, always a county of the ZIP's own state;
    empty for the few points more than 10 km from any county of their state).
    ZIPs without a location in the package (lat/lon missing or 0, 0) are
    dropped. Sorted by zip. Cached: read-only.

    county_fips comes from a point-in-polygon join against :func:`load_counties`
    (not from the package's county *names*, which do not match Census names
    for independent cities and boroughs). Points just offshore (piers,
    islands simplified away at 1:500k) take the nearest county within 10 km.
    """
    try:
        import zipcodes
    except ModuleNotFoundError as exc:
        raise GeographyDataError(
            "ZIP points come from the 'zipcodes' package, which is not installed. "
            "Install it with: pip install 'zipcodes>=3,<4'"
        ) from exc
    raw = pd.DataFrame(
        zipcodes.list_all(),
        columns=["zip_code", "zip_code_type", "active", "city", "state", "county", "lat", "long"],
    )
    raw = raw[raw["state"].isin(STATES)]
    zips = pd.DataFrame(
        {
            "zip": raw["zip_code"].astype("str"),
            "zip_type": raw["zip_code_type"].astype("str"),
            "active": raw["active"].astype(bool),
            "city": raw["city"].astype("str"),
            "state": raw["state"].astype("str"),
            "county_name": raw["county"].astype("str"),
            "lat": pd.to_numeric(raw["lat"], errors="coerce"),
            "lon": pd.to_numeric(raw["long"], errors="coerce"),
        }
    )
    # A few PO boxes and unique ZIPs carry (0, 0) for "no location": drop them.
    no_point = zips["lat"].isna() | zips["lon"].isna() | ((zips["lat"] == 0) & (zips["lon"] == 0))
    zips = zips[~no_point].sort_values("zip").reset_index(drop=True)
    zips["county_fips"] = _county_of_points(
        zips["lat"].to_numpy(), zips["lon"].to_numpy(), zips["state"].to_numpy()
    )
    return zips


def _county_of_points(
    lat: np.ndarray, lon: np.ndarray, state: np.ndarray, max_km: float = 10.0
) -> pd.Series:
    """County FIPS of each point: the containing county of the point's own state,
    else the nearest county of that state within ``max_km``; missing otherwise.

    Restricting to the point's state keeps ZIP and county consistent where a ZIP
    point sits just across a state line (a Vermont ZIP served from New Hampshire).
    """
    counties = load_counties()[["county_fips", "state", "geometry"]]
    points = gpd.GeoDataFrame(
        {"zip_state": state}, geometry=gpd.points_from_xy(lon, lat), crs=SOURCE_CRS
    )
    hit = gpd.sjoin(points, counties, how="inner", predicate="within")
    hit = hit[hit["state"] == hit["zip_state"]]
    # A point on a shared border matches two polygons: keep the lowest FIPS.
    hit = hit.sort_values("county_fips").loc[lambda f: ~f.index.duplicated(keep="first")]
    fips = hit["county_fips"].reindex(points.index).astype("str")
    missing = points[fips.isna().to_numpy()]
    if len(missing):
        projected = counties.to_crs(EQUAL_AREA_CRS)
        for code, group in missing.groupby("zip_state", sort=True):
            near = gpd.sjoin_nearest(
                group.to_crs(EQUAL_AREA_CRS),
                projected[projected["state"] == code],
                how="inner",
                max_distance=max_km * 1000.0,
            )
            near = near.sort_values("county_fips").loc[lambda f: ~f.index.duplicated(keep="first")]
            fips.loc[near.index] = near["county_fips"].astype("str")
    return fips.reset_index(drop=True)


def haversine_km(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def region_of_state(states: pd.Series | Iterable[str]) -> pd.Series:
    """Sales region of each state code (case-insensitive); missing where unknown."""
    s = states if isinstance(states, pd.Series) else pd.Series(list(states), dtype="str")
    return s.astype("str").str.strip().str.upper().map(STATE_REGION).astype("str")


def normalize_postal_code(postal_codes: pd.Series) -> pd.Series:
    """Five-digit ZIP text from common spellings; missing where it cannot be read.

    Accepts ZIP+4 (``02108-1234``) and numbers that lost their leading zero on a
    trip through a spreadsheet (``2108`` -> ``02108``); anything else is missing.
    """
    s = postal_codes.astype("str").str.strip()
    digits_only = s.str.fullmatch(r"\d{3,4}").fillna(False).astype(bool)
    s = s.where(~digits_only, s.str.zfill(5))
    return s.str.extract(r"^(\d{5})(?:-\d{4})?$", expand=False).astype("str")


def locate_by_postal_code(postal_codes: pd.Series | Iterable[str]) -> pd.DataFrame:
    """Latitude and longitude of each ZIP's point, for accounts missing coordinates.

    Returns a DataFrame with columns lat, lon aligned with the input (same
    index if a Series is given); NaN where the code is unknown or unreadable.
    A ZIP point is the centre the Postal Service publishes, so placing an
    account there is accurate to a few km: fine for territories, not for routing.
    """
    s = (
        postal_codes
        if isinstance(postal_codes, pd.Series)
        else pd.Series(list(postal_codes), dtype="str")
    )
    lookup = load_zip_points().set_index("zip")[["lat", "lon"]]
    found = lookup.reindex(normalize_postal_code(s).to_numpy())
    return pd.DataFrame(
        {"lat": found["lat"].to_numpy(), "lon": found["lon"].to_numpy()}, index=s.index
    )

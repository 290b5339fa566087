"""Put every account on the map, or say why it cannot be.

An account is placed by its own coordinates when it has usable ones, else at the
point of its ZIP code (:func:`plan_lib.geo.locate_by_postal_code`); the rest are
returned with a reason, never dropped silently, so a planner can fix the source.
Placed accounts then get the state and county they fall in where the input does
not name a known one, so choropleths count every placed account.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.maps.crs import AREA_CRS, INPUT_CRS
from plan_lib.maps.errors import MapInputError

LOCATED_BY = ("coordinates", "postal_code")
#: Points farther than this from every county (ships, foreign addresses) keep no county.
NEAREST_COUNTY_KM = 10.0


class Location(NamedTuple):
    """Result of :func:`locate_accounts`: unpack as ``located, unlocated = ...``."""

    located: pd.DataFrame
    """Accounts with lat/lon, ``located_by`` in {'coordinates', 'postal_code'},
    state and county_fips completed from the point where missing or unknown."""
    unlocated: pd.DataFrame
    """Accounts that could not be placed, all their columns plus ``reason``."""


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="str")
    text = frame[column].astype("str").str.strip()
    return text.where(text != "")


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _coordinate_problems(lat: pd.Series, lon: pd.Series) -> pd.Series:
    """Why the coordinates of each row are unusable; missing where they are fine."""
    problem = pd.Series(pd.NA, index=lat.index, dtype="str")
    problem[lat.isna() & lon.isna()] = "no coordinates"
    problem[lat.isna() ^ lon.isna()] = "only one of lat/lon given"
    both = lat.notna() & lon.notna()
    problem[both & ((lat.abs() > 90) | (lon.abs() > 180))] = "coordinates out of range"
    # CRM exports often write "unknown" as (0, 0), a point in the Gulf of Guinea.
    problem[both & (lat == 0) & (lon == 0)] = "coordinates (0, 0) read as missing"
    return problem


def locate_accounts(accounts: pd.DataFrame) -> Location:
    """Place each account by coordinates, else by postal code; list the rest with a reason.

    Needs ``account_id``; uses ``lat``, ``lon``, ``postal_code``, ``state`` and
    ``county_fips`` when present (absent columns count as empty). Row order is kept.
    """
    if "account_id" not in accounts:
        raise MapInputError(
            "accounts", "no 'account_id' column", "Pass the validated accounts table."
        )
    frame = accounts.copy()
    lat, lon = _number(frame, "lat"), _number(frame, "lon")
    coordinate_problem = _coordinate_problems(lat, lon)
    by_coordinates = coordinate_problem.isna()

    postal = _text(frame, "postal_code")
    need = ~by_coordinates
    found = (
        geo.locate_by_postal_code(postal[need])
        if need.any()
        else pd.DataFrame({"lat": pd.Series(dtype="float64"), "lon": pd.Series(dtype="float64")})
    )
    by_postal = pd.Series(False, index=frame.index)
    by_postal[need] = found["lat"].notna().to_numpy()

    frame["lat"] = lat.where(by_coordinates, np.nan)
    frame["lon"] = lon.where(by_coordinates, np.nan)
    frame.loc[by_postal, "lat"] = found.loc[by_postal[need].to_numpy(), "lat"].to_numpy()
    frame.loc[by_postal, "lon"] = found.loc[by_postal[need].to_numpy(), "lon"].to_numpy()
    frame["located_by"] = pd.Series(
        np.where(by_coordinates, "coordinates", np.where(by_postal, "postal_code", "")),
        index=frame.index,
        dtype="str",
    )

    unplaced = ~(by_coordinates | by_postal)
    normalized = geo.normalize_postal_code(postal.fillna(""))
    postal_problem = pd.Series(
        np.where(
            postal.isna(),
            "no postal code",
            np.where(
                normalized.isna(),
                "postal code '" + postal.fillna("") + "' is not a 5-digit US ZIP",
                "postal code '" + postal.fillna("") + "' is not a known US ZIP",
            ),
        ),
        index=frame.index,
        dtype="str",
    )
    unlocated = accounts.loc[unplaced].copy()
    unlocated["reason"] = (coordinate_problem[unplaced] + "; " + postal_problem[unplaced]).astype(
        "str"
    )
    located = assign_zones(frame.loc[~unplaced])
    return Location(located=located, unlocated=unlocated)


def assign_zones(located: pd.DataFrame) -> pd.DataFrame:
    """Complete ``state`` and ``county_fips`` of placed accounts from their point.

    A county code the Census 2016 shapes do not know (a typo, Connecticut's 2022
    planning regions) or a missing one is replaced by the county the point falls
    in (or the nearest within 10 km, for points just offshore); a state code that
    is not one of the 50 states + DC is replaced by that county's state. Given
    codes that are known are kept: the input is the authority on where an
    account is booked.
    """
    frame = located.copy()
    counties = geo.load_counties()
    county = _text(frame, "county_fips").str.zfill(5)
    state = _text(frame, "state").str.upper()
    known_county = county.isin(set(counties["county_fips"]))
    missing = ~known_county
    if missing.any():
        found = _county_of_points(
            frame.loc[missing, "lat"].to_numpy(), frame.loc[missing, "lon"].to_numpy()
        )
        county[missing] = found.to_numpy()
    state_of_county = county.map(dict(zip(counties["county_fips"], counties["state"], strict=True)))
    state = state.where(state.isin(geo.STATES), state_of_county)
    frame["county_fips"] = county.astype("str")
    frame["state"] = state.astype("str")
    return frame


def _county_of_points(lat: np.ndarray, lon: np.ndarray) -> pd.Series:
    counties = geo.load_counties()[["county_fips", "geometry"]]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=INPUT_CRS)
    hit = gpd.sjoin(points, counties, how="inner", predicate="within")
    # A point on a shared border lies in two counties: keep the lowest code, deterministically.
    hit = hit.sort_values("county_fips").loc[lambda f: ~f.index.duplicated(keep="first")]
    fips = hit["county_fips"].reindex(points.index).astype("str")
    rest = fips.isna().to_numpy()
    if rest.any():
        near = gpd.sjoin_nearest(
            points[rest].to_crs(AREA_CRS),
            counties.to_crs(AREA_CRS),
            how="inner",
            max_distance=NEAREST_COUNTY_KM * 1000.0,
        )
        near = near.sort_values("county_fips").loc[lambda f: ~f.index.duplicated(keep="first")]
        fips.loc[near.index] = near["county_fips"].astype("str")
    return fips

"""plan_lib.geo: packaged boundaries, ZIP points, regions, distances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plan_lib import geo


@pytest.fixture(scope="module")
def zips() -> pd.DataFrame:
    return geo.load_zip_points()


def test_states_are_the_50_states_and_dc_in_nad83():
    states = geo.load_states()
    assert states.crs.to_epsg() == 4269
    assert len(states) == 51
    assert set(states["state"]) == set(geo.STATES)
    assert "DC" in set(states["state"]) and "PR" not in set(states["state"])


def test_counties_are_tagged_nad83_and_keyed_by_5_digit_fips():
    counties = geo.load_counties()
    assert counties.crs.to_epsg() == 4269
    assert counties["county_fips"].str.fullmatch(r"\d{5}").all()
    assert counties["county_fips"].is_unique
    assert set(counties["state"]) == set(geo.STATES)
    assert len(counties) > 3000


def test_equal_area_crs_gives_true_areas():
    """Colorado (nearly no water) measured in EQUAL_AREA_CRS matches its Census area."""
    states = geo.load_states()
    colorado = states[states["state"] == "CO"].to_crs(geo.EQUAL_AREA_CRS)
    area_km2 = colorado.geometry.area.iloc[0] / 1e6
    assert area_km2 == pytest.approx(colorado["land_area_km2"].iloc[0], rel=0.01)


def test_nearly_every_zip_gets_a_county_of_its_own_state(zips):
    assert len(zips) > 40_000
    assert zips["county_fips"].notna().mean() > 0.999
    counties = geo.load_counties().set_index("county_fips")["state"]
    joined = zips.dropna(subset=["county_fips"])
    assert (joined["county_fips"].map(counties) == joined["state"]).all()


@pytest.mark.parametrize(
    ("zip_code", "county_fips"),
    [("10001", "36061"), ("94105", "06075"), ("02108", "25025"), ("60601", "17031")],
)
def test_known_zips_fall_in_their_county(zips, zip_code, county_fips):
    assert zips.set_index("zip").loc[zip_code, "county_fips"] == county_fips


def test_zip_text_keeps_leading_zeros(zips):
    assert zips["zip"].str.fullmatch(r"\d{5}").all()
    assert zips["zip"].str.startswith("0").sum() > 1000


def test_haversine_known_distance_and_broadcasting():
    nyc, la = (40.7128, -74.0060), (34.0522, -118.2437)
    assert geo.haversine_km(*nyc, *la) == pytest.approx(3936, abs=10)
    assert geo.haversine_km(*la, *nyc) == pytest.approx(geo.haversine_km(*nyc, *la))
    d = geo.haversine_km(np.array([nyc[0], la[0]]), np.array([nyc[1], la[1]]), nyc[0], nyc[1])
    assert d.shape == (2,)
    assert d[0] == pytest.approx(0.0, abs=1e-9)
    # one degree of latitude is about 111 km
    assert geo.haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.2, abs=0.2)


def test_every_state_has_a_known_region_and_unknowns_are_missing():
    assert set(geo.STATE_REGION) == set(geo.STATES)
    assert set(geo.STATE_REGION.values()) == set(geo.REGIONS)
    regions = geo.region_of_state(pd.Series(["ca", " TX", "NY", "PR", None], dtype="str"))
    assert regions.iloc[:3].tolist() == ["West", "Central", "East"]
    assert regions.iloc[3:].isna().all()


def test_locate_by_postal_code_places_known_codes_and_leaves_unknown_empty():
    codes = pd.Series(
        ["10001", "2108", "94105-1234", "99999", None, "abcde"], index=list("abcdef"), dtype="str"
    )
    found = geo.locate_by_postal_code(codes)
    assert list(found.index) == list("abcdef")
    assert list(found.columns) == ["lat", "lon"]
    assert geo.haversine_km(found.loc["a", "lat"], found.loc["a", "lon"], 40.7506, -73.9972) < 5
    assert geo.haversine_km(found.loc["b", "lat"], found.loc["b", "lon"], 42.3576, -71.0684) < 5
    assert geo.haversine_km(found.loc["c", "lat"], found.loc["c", "lon"], 37.7897, -122.3942) < 5
    assert found.loc[["d", "e", "f"]].isna().all().all()


def test_loaders_are_cached():
    assert geo.load_zip_points() is geo.load_zip_points()
    assert geo.load_counties() is geo.load_counties()

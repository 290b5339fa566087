"""Placing accounts: by coordinates, else by postal code, else listed with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plan_lib import geo
from plan_lib.maps.errors import MapInputError
from plan_lib.maps.locate import assign_zones, locate_accounts


def _accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [
                "ok",
                "zip",
                "zip4",
                "zip_lost_zero",
                "zero",
                "half",
                "bad_zip",
                "unknown_zip",
                "nothing",
            ],
            "lat": [37.79, None, None, None, 0.0, 40.0, None, None, None],
            "lon": [-122.39, None, None, None, 0.0, None, None, None, None],
            "postal_code": ["94105", "94105", "02108-1234", "2108", "", "", "ABCDE", "00000", None],
            "state": ["CA", "CA", "MA", "MA", "", "", "", "", ""],
            "county_fips": ["06075", "", "", "", "", "", "", "", ""],
        }
    )


def test_every_account_is_located_or_listed_with_a_reason() -> None:
    accounts = _accounts()
    located, unlocated = locate_accounts(accounts)
    assert len(located) + len(unlocated) == len(accounts)
    assert set(located["account_id"]) | set(unlocated["account_id"]) == set(accounts["account_id"])
    assert not set(located["account_id"]) & set(unlocated["account_id"])
    assert set(unlocated["account_id"]) == {"zero", "half", "bad_zip", "unknown_zip", "nothing"}
    assert unlocated["reason"].str.len().gt(0).all()


def test_reasons_name_the_problem() -> None:
    _, unlocated = locate_accounts(_accounts())
    reason = unlocated.set_index("account_id")["reason"]
    assert "(0, 0)" in reason["zero"]
    assert "only one of lat/lon" in reason["half"]
    assert "'ABCDE' is not a 5-digit" in reason["bad_zip"]
    assert "'00000' is not a known US ZIP" in reason["unknown_zip"]
    assert reason["nothing"] == "no coordinates; no postal code"


def test_coordinates_win_and_postal_codes_fill_in() -> None:
    located, _ = locate_accounts(_accounts())
    frame = located.set_index("account_id")
    assert frame.loc["ok", "located_by"] == "coordinates"
    assert (frame.loc["ok", "lat"], frame.loc["ok", "lon"]) == (37.79, -122.39)
    expected = geo.locate_by_postal_code(pd.Series(["94105", "02108"], dtype="str"))
    for account, row in (("zip", 0), ("zip4", 1), ("zip_lost_zero", 1)):
        assert frame.loc[account, "located_by"] == "postal_code"
        assert frame.loc[account, "lat"] == pytest.approx(expected["lat"].iloc[row])
        assert frame.loc[account, "lon"] == pytest.approx(expected["lon"].iloc[row])


def test_zones_are_completed_from_the_point_but_known_codes_are_kept() -> None:
    located, _ = locate_accounts(_accounts())
    frame = located.set_index("account_id")
    assert frame.loc["ok", "county_fips"] == "06075"
    assert frame.loc["zip", "county_fips"] == "06075"  # downtown San Francisco
    assert frame.loc["zip4", "county_fips"] == "25025"  # Boston, Suffolk County
    assert frame.loc["zip4", "state"] == "MA"
    # A known code is the input's authority even if the point disagrees; an unknown one is replaced.
    moved = assign_zones(
        pd.DataFrame(
            {
                "lat": [37.79, 37.79],
                "lon": [-122.39, -122.39],
                "county_fips": ["06001", "09110"],
                "state": ["CA", "XX"],
            }
        )
    )
    assert moved["county_fips"].tolist() == ["06001", "06075"]
    assert moved["state"].tolist() == ["CA", "CA"]


def test_row_order_and_columns_are_kept() -> None:
    accounts = _accounts().assign(extra=np.arange(9))
    located, unlocated = locate_accounts(accounts)
    assert located["account_id"].tolist() == ["ok", "zip", "zip4", "zip_lost_zero"]
    assert "extra" in located and "extra" in unlocated


def test_missing_location_columns_mean_nothing_can_be_placed() -> None:
    located, unlocated = locate_accounts(pd.DataFrame({"account_id": ["a", "b"]}))
    assert located.empty and len(unlocated) == 2
    with pytest.raises(MapInputError, match="account_id"):
        locate_accounts(pd.DataFrame({"lat": [1.0]}))

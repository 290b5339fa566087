"""Map layers: counts, geometry, CRS and the figures behind the choropleths."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from plan_lib.maps import boundaries
from plan_lib.maps.crs import AREA_CRS, INPUT_CRS, ensure_crs
from plan_lib.maps.errors import MapCrsError, MapInputError
from plan_lib.maps.example import example_inputs
from plan_lib.maps.layers import build_layers, territory_outlines, zone_summary
from plan_lib.maps.params import MapParams


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return example_inputs(
        n_accounts=300,
        states=("CA", "OR", "WA", "NV"),
        reps_per_segment=5,
        seed=3,
        unlocatable=3,
        open_headcount=True,
    )


@pytest.fixture(scope="module")
def layers(data):
    return build_layers(
        data["accounts"],
        data["reps"],
        data["assignments"],
        data["books"],
        attainment=data["attainment"],
    )


def test_points_are_the_placed_accounts_and_nothing_is_dropped(data, layers) -> None:
    ids = set(data["accounts"]["account_id"])
    placed, unplaced = set(layers.points["account_id"]), set(layers.unlocated["account_id"])
    assert placed | unplaced == ids and not placed & unplaced
    assert len(unplaced) == 3
    assert set(layers.points["located_by"]) == {"coordinates", "postal_code"}
    no_coordinates = data["accounts"]["lat"].isna().sum()
    assert (layers.points["located_by"] == "postal_code").sum() == no_coordinates - 3


def test_every_layer_is_in_the_input_crs(layers) -> None:
    for frame in (
        layers.points,
        layers.homes,
        layers.outlines,
        layers.zones,
        layers.moves,
        layers.attainment,
    ):
        ensure_crs(frame, INPUT_CRS, "layer")


def test_one_outline_per_book_containing_its_accounts(layers) -> None:
    books_with_points = set(layers.points["rep_id"].dropna())
    assert sorted(layers.outlines["rep_id"]) == sorted(books_with_points)
    assert layers.outlines["rep_id"].is_unique
    projected = layers.outlines.to_crs(AREA_CRS).set_index("rep_id")
    # The outline is exactly the union of the counties holding the book's accounts.
    counties = boundaries.counties().to_crs(AREA_CRS).set_index("county_fips").area
    for rep, fips in layers.points.groupby("rep_id")["county_fips"]:
        assert projected.loc[rep, "geometry"].area == pytest.approx(
            counties[fips.unique()].sum(), rel=1e-6
        )
    points = layers.points.to_crs(AREA_CRS)
    # Accounts sit in or near (a coastal point in the water: jitter of ~2 km) their outline.
    distance = [
        projected.loc[r, "geometry"].distance(p)
        for r, p in zip(points["rep_id"], points.geometry, strict=True)
    ]
    assert np.median(distance) == 0 and max(distance) < 5_000
    counted = layers.points.groupby("rep_id")["county_fips"].nunique()
    assert (
        layers.outlines.set_index("rep_id")["n_counties"] == counted.reindex(projected.index)
    ).all()


def test_hull_outlines_wrap_the_accounts_with_a_buffer(layers) -> None:
    hulls = territory_outlines(layers.points, layers.books, method="hull", hull_buffer_km=5)
    assert sorted(hulls["rep_id"]) == sorted(layers.outlines["rep_id"])
    projected = hulls.to_crs(AREA_CRS).set_index("rep_id")
    points = layers.points.to_crs(AREA_CRS)
    for rep, group in points.groupby("rep_id"):
        assert group.within(projected.loc[rep, "geometry"]).all()
    single = territory_outlines(
        layers.points.head(1), layers.books, method="hull", hull_buffer_km=5
    )
    assert single["area_km2"].iloc[0] == pytest.approx(np.pi * 25, rel=0.02)


def test_zones_add_up_and_whitespace_is_non_customer_potential(layers) -> None:
    points, zones = layers.points, layers.zones
    assert zones["potential"].sum() == pytest.approx(points["potential"].sum())
    assert zones["whitespace"].sum() == pytest.approx(
        points.loc[~points["is_customer"], "potential"].sum()
    )
    assert (zones["whitespace"] <= zones["potential"] + 1e-9).all()
    assert zones["n_accounts"].sum() == len(points)
    assert set(zones["zone_id"]) == set(points["county_fips"])
    states = zone_summary(points, layers.books, "state")
    assert set(states["zone_id"]) == set(points["state"])


def test_coverage_is_one_on_average_and_zero_where_only_an_open_seat_sells(data, layers) -> None:
    full = build_layers(
        data["accounts"],
        data["reps"].assign(
            status="active",
            home_lat=data["reps"]["home_lat"].fillna(40.0),
            home_lon=data["reps"]["home_lon"].fillna(-120.0),
        ),
        data["assignments"],
        data["books"],
    )
    weighted = (full.zones["coverage_index"] * full.zones["potential"]).sum() / full.zones[
        "potential"
    ].sum()
    assert weighted == pytest.approx(1.0)
    assert full.zones["covered_share"].eq(1.0).all()
    open_seat = layers.books.loc[layers.books["status"] == "open", "rep_id"].tolist()
    assert open_seat == layers.homes_missing
    owners = layers.points.groupby("county_fips")["rep_id"].agg(set)
    only_open = [z for z, reps in owners.items() if reps <= set(open_seat)]
    assert only_open
    zones = layers.zones.set_index("zone_id")
    assert (zones.loc[only_open, "coverage_index"] == 0).all()
    assert (zones.loc[only_open, "covered_share"] == 0).all()


def test_moves_aggregate_by_owner_pair_from_home_to_home(layers) -> None:
    moved = layers.points[layers.points["moved"]]
    assert layers.moves["n_accounts"].sum() == len(moved)
    pairs = set(zip(moved["previous_rep_id"], moved["rep_id"], strict=True))
    assert set(zip(layers.moves["previous_rep_id"], layers.moves["rep_id"], strict=True)) == pairs
    homes = layers.homes.set_index("rep_id").geometry
    for flow in layers.moves.itertuples():
        start, end = flow.geometry.coords[0], flow.geometry.coords[-1]
        assert flow.from_home == (flow.previous_rep_id in homes.index)
        if flow.from_home:
            assert start == homes[flow.previous_rep_id].coords[0]
        if flow.to_home:
            assert end == homes[flow.rep_id].coords[0]


def test_book_table_keeps_the_balance_figures(data, layers) -> None:
    given = data["books"].set_index("rep_id")
    table = layers.books.set_index("rep_id")
    assert table["potential"].to_dict() == pytest.approx(given["potential"].to_dict())
    assert table["deviation"].to_dict() == pytest.approx(given["deviation"].to_dict())
    assert (table["n_located"] <= given["n_accounts"]).all()


def test_attainment_zones_and_unmatched_ids(data) -> None:
    attainment = pd.concat(
        [
            data["attainment"],
            pd.DataFrame({"county_fips": ["99999"], "quota": [1.0], "bookings": [1.0]}),
        ]
    )
    layers = build_layers(
        data["accounts"], data["reps"], data["assignments"], data["books"], attainment=attainment
    )
    assert layers.attainment_unmatched == ["99999"]
    assert len(layers.attainment) == len(data["attainment"])
    ratio = layers.attainment["bookings"] / layers.attainment["quota"]
    assert np.allclose(layers.attainment["attainment"], ratio)


def test_segments_split_books_but_not_zones() -> None:
    two = example_inputs(n_accounts=200, segments=("SMB", "Enterprise"), reps_per_segment=3, seed=5)
    layers = build_layers(two["accounts"], two["reps"], two["assignments"], two["books"])
    assert layers.segments == ["Enterprise", "SMB"]
    smb = layers.for_segment("SMB")
    assert set(smb.books["segment"]) == {"SMB"}
    assert len(smb.outlines) == len(smb.books) == 3
    assert set(smb.points["rep_id"]) <= set(smb.books["rep_id"])
    assert len(smb.zones) == len(layers.zones)


def test_bad_inputs_fail_with_instructions(data) -> None:
    with pytest.raises(MapInputError, match="potential"):
        build_layers(
            data["accounts"].drop(columns="potential"),
            data["reps"],
            data["assignments"],
            data["books"],
        )
    twice = pd.concat([data["assignments"], data["assignments"].head(1)])
    with pytest.raises(MapInputError, match="assigned twice"):
        build_layers(data["accounts"], data["reps"], twice, data["books"])


def test_crs_mismatch_fails_hard(layers) -> None:
    with pytest.raises(MapCrsError, match="EPSG:3857.*to_crs"):
        ensure_crs(layers.outlines.to_crs("EPSG:3857"), INPUT_CRS, "outlines")
    with pytest.raises(MapCrsError, match="no CRS"):
        ensure_crs(gpd.GeoDataFrame(geometry=list(layers.points.geometry)), INPUT_CRS, "points")


def test_assignments_are_optional_current_owner_is_the_book(data) -> None:
    layers = build_layers(data["accounts"], data["reps"], None, None, MapParams(zone="state"))
    expected = data["accounts"].set_index("account_id")["current_owner"]
    got = layers.points.set_index("account_id")["rep_id"]
    assert (got == expected.reindex(got.index)).all()
    assert not layers.points["moved"].any()
    assert layers.zone == "state"

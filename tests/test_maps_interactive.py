"""Interactive maps: a tooltip per account and per book, no tiles needed, selection callback."""

from __future__ import annotations

import json
from dataclasses import replace

import folium
import geopandas as gpd
import ipyleaflet
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from plan_lib.maps import style
from plan_lib.maps.errors import MapCrsError, MapTooLargeError
from plan_lib.maps.example import example_inputs
from plan_lib.maps.interactive import ACCOUNT_FIELDS, AccountSelectionMap, folium_map, zone_features
from plan_lib.maps.layers import build_layers
from plan_lib.maps.monitor_widget import MonitorMap
from plan_lib.maps.params import MapParams


@pytest.fixture(scope="module")
def layers():
    data = example_inputs(
        n_accounts=200, states=("OR", "WA"), reps_per_segment=4, seed=21, open_headcount=True
    )
    return build_layers(
        data["accounts"],
        data["reps"],
        data["assignments"],
        data["books"],
        attainment=data["attainment"],
    )


def _geojson_layers(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {
        child.layer_name: child
        for child in m._children.values()
        if isinstance(child, folium.GeoJson)
    }


def _tooltip(layer: folium.GeoJson) -> folium.GeoJsonTooltip:
    (tooltip,) = [c for c in layer._children.values() if isinstance(c, folium.GeoJsonTooltip)]
    return tooltip


def test_folium_has_one_tooltip_feature_per_account_and_per_book(layers) -> None:
    m = folium_map(layers)
    found = _geojson_layers(m)
    accounts, books = found["Accounts"], found["Territories"]
    features = accounts.data["features"]
    assert len(features) == len(layers.points)
    assert sorted(f["properties"]["account_id"] for f in features) == sorted(
        layers.points["account_id"]
    )
    assert list(_tooltip(accounts).fields) == list(ACCOUNT_FIELDS)
    assert len(books.data["features"]) == len(layers.outlines)
    assert "rep_id" in _tooltip(books).fields and "per_fte_text" in _tooltip(books).fields
    by_id = {f["properties"]["account_id"]: f["properties"] for f in features}
    row = layers.points.iloc[0]
    assert by_id[row["account_id"]]["book"] == row["rep_id"]


def test_folium_without_tiles_still_draws_the_states(layers) -> None:
    m = folium_map(layers, tiles=None)
    assert not [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert len(_geojson_layers(m)["States"].data["features"]) == 51
    html = m.get_root().render()
    assert layers.points["account_id"].iloc[-1] in html
    with_tiles = folium_map(layers, tiles="OpenStreetMap")
    assert [c for c in with_tiles._children.values() if isinstance(c, folium.TileLayer)]


def test_folium_zone_layers_and_crs(layers) -> None:
    m = folium_map(layers, zones=("potential", "attainment"))
    found = _geojson_layers(m)
    assert len(found["Potential by county"].data["features"]) == len(layers.zones)
    assert len(found["Attainment by county"].data["features"]) == len(layers.attainment)
    x, y = found["Accounts"].data["features"][0]["geometry"]["coordinates"]
    assert -125 < x < -116 and 41 < y < 50  # lon/lat degrees (EPSG:4326) for Leaflet
    with pytest.raises(MapCrsError):
        folium_map(replace(layers, points=layers.points.to_crs("EPSG:5070")))


def test_too_many_accounts_is_refused_with_advice(layers) -> None:
    with pytest.raises(MapTooLargeError, match="for_segment"):
        folium_map(layers, MapParams(max_interactive_accounts=10))


def test_selection_map_calls_back_with_clicked_and_drawn_accounts(layers) -> None:
    selections: list[list[str]] = []
    view = AccountSelectionMap(layers, selections.append)
    assert not [lyr for lyr in view.widget.layers if isinstance(lyr, ipyleaflet.TileLayer)]
    features = view.accounts_layer.data["features"]
    assert len(features) == len(layers.points)
    assert all(f["properties"]["account_id"] in f["properties"]["tooltip"] for f in features)

    clicked = layers.points["account_id"].iloc[5]
    view._on_click(event="click", feature=features[5], properties=features[5]["properties"])
    assert selections[-1] == [clicked]

    area = box(-123.5, 45.0, -121.5, 46.5)
    drawn = {
        "type": "Feature",
        "geometry": json.loads(gpd.GeoSeries([area]).to_json())["features"][0]["geometry"],
    }
    view._on_draw(view.draw_control, action="created", geo_json=drawn)
    inside = layers.points[layers.points.to_crs("EPSG:4326").within(area)]["account_id"]
    assert len(inside) > 0
    assert selections[-1] == sorted(inside)
    assert len(view.selection_layer.data["features"]) == len(inside)

    count = len(selections)
    view._on_draw(view.draw_control, action="deleted", geo_json=drawn)
    assert len(selections) == count


def test_hover_shows_the_tooltip_of_an_account_and_of_a_book(layers) -> None:
    view = AccountSelectionMap(layers)
    feature = view.accounts_layer.data["features"][0]
    view._on_hover(event="mouseover", feature=feature, properties=feature["properties"])
    assert feature["properties"]["account_id"] in view.info.value
    books = view.books_layer.data["features"]
    assert sorted(f["properties"]["rep_id"] for f in books) == sorted(layers.outlines["rep_id"])
    view._on_hover(event="mouseover", feature=books[0], properties=books[0]["properties"])
    assert books[0]["properties"]["rep_id"] in view.info.value and "Potential / FTE" in view.info.value


def _rep_figures(layers) -> pd.DataFrame:
    """Monitoring rows for every book but the first: pace 0.5, 1.0, 1.5, ... in turn."""
    reps = sorted(layers.outlines["rep_id"])[1:]
    pacing = np.resize([0.5, 1.0, 1.5], len(reps))
    return pd.DataFrame({"unit_id": reps, "bookings": 1000.0, "quota": 2000.0,
                         "attainment": pacing / 2, "pacing": pacing, "prob_reach_quota": 0.4})


def test_monitor_map_shows_zones_by_measure_and_books_by_pace(layers) -> None:
    figures = _rep_figures(layers)
    view = MonitorMap(layers, figures)
    zones = view.zones_layer.data["features"]
    assert len(zones) == len(layers.attainment) and all("tooltip" in f["properties"] for f in zones)
    books = {f["properties"]["rep_id"]: f["properties"] for f in view.books_layer.data["features"]}
    assert sorted(books) == sorted(layers.outlines["rep_id"])
    missing = sorted(layers.outlines["rep_id"])[0]  # no monitoring row: grey, figures n/a
    assert books[missing]["style"]["color"] == style.NO_DATA_COLOR and "n/a" in books[missing]["tooltip"]
    ahead = figures.loc[figures["pacing"] == 1.5, "unit_id"].iloc[0]
    behind = figures.loc[figures["pacing"] == 0.5, "unit_id"].iloc[0]
    assert books[ahead]["style"]["color"] == style.PACE_COLORS[-1]
    assert books[behind]["style"]["color"] == style.PACE_COLORS[0]
    assert "40%" in books[ahead]["tooltip"]  # the chance of reaching quota

    view.toggle.value = "coverage"  # the buttons recolour the zones
    zones = view.zones_layer.data["features"]
    assert len(zones) == len(layers.zones) and "Coverage" in view.zones_layer.name
    view._on_hover(event="mouseover", feature=zones[0], properties=zones[0]["properties"])
    assert zones[0]["properties"]["zone_name"] in view.info.value

    plain = replace(layers, attainment=None)
    assert MonitorMap(plain, measure="potential").measures == ["coverage", "potential", "whitespace"]
    with pytest.raises(ValueError, match="measure"):
        MonitorMap(plain)


def test_zone_attainment_is_coloured_against_pace_mid_period() -> None:
    data = example_inputs(n_accounts=120, states=("OR", "WA"), reps_per_segment=2, seed=5)
    layers = build_layers(data["accounts"], data["reps"], data["assignments"], data["books"],
                          MapParams(elapsed_share=0.5), attainment=data["attainment"])
    zones = zone_features(layers, "attainment")
    pace = layers.attainment["attainment"] / 0.5
    assert zones["color"].tolist() == style.pace_colors(pace)
    assert zones["pace_text"].tolist() == [f"{v:.2f}" if pd.notna(v) else "n/a" for v in pace]


def test_web_maps_open_on_the_lower_48_at_a_zoom_that_fits() -> None:
    from plan_lib.maps.interactive import CONUS_BOUNDS, _bounds, _zoom_to_fit, leaflet_base_map

    data = example_inputs(n_accounts=150, states=("AK", "HI", "CA", "TX", "NY", "FL"), reps_per_segment=2, seed=8)
    layers = build_layers(data["accounts"], data["reps"], data["assignments"], data["books"])
    (s, w), (n, e) = _bounds(layers)
    assert CONUS_BOUNDS[0][0] <= s and n <= CONUS_BOUNDS[1][0] and CONUS_BOUNDS[0][1] <= w  # AK/HI not fitted
    assert _zoom_to_fit(CONUS_BOUNDS) == 4 and _zoom_to_fit([[47.0, -123.0], [48.0, -122.0]]) >= 8
    m = leaflet_base_map(layers, None)
    assert m.zoom == _zoom_to_fit([[s, w], [n, e]])

"""Interactive maps for the dashboards: folium (standalone HTML) and ipyleaflet (Voila).

Both carry a tooltip per account and per book, and draw the state boundaries as
a GeoJSON layer, so the map is readable with ``tiles=None`` (the default): no tile
server is contacted and nothing about the viewed area leaves the machine. Pass
a tile name (``"OpenStreetMap"``) where the network allows and a basemap helps.

Offline caveat: a folium HTML file loads Leaflet itself from a CDN when opened;
ipyleaflet widgets are served by the local Jupyter/Voila server, so the
dashboards should use :class:`AccountSelectionMap` (review) and
:class:`~plan_lib.maps.monitor_widget.MonitorMap` (monitoring).

The review dashboard uses :class:`AccountSelectionMap`: clicking an account, or
drawing a rectangle or polygon (lasso) around several, calls ``on_select`` with
the selected account ids, the same action as selecting rows in the table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import Any

import folium
import geopandas as gpd
import ipyleaflet
import ipywidgets
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from plan_lib.maps import boundaries, style
from plan_lib.maps.crs import INPUT_CRS, WEB_CRS, ensure_crs
from plan_lib.maps.errors import MapTooLargeError
from plan_lib.maps.layers import MapLayers
from plan_lib.maps.params import MapParams

#: Coordinates are rounded to this grid (degrees, ~10 m) in web layers: smaller
#: files, no visible change at the zooms territory maps are read at.
WEB_GRID_DEG = 1e-4
ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "book",
    "previous_owner",
    "potential_text",
    "customer",
    "segment",
    "placed_by",
)
ACCOUNT_ALIASES = (
    "Account",
    "Name",
    "Book",
    "Last period",
    "Potential",
    "Customer",
    "Segment",
    "Placed by",
)
BOOK_FIELDS = (
    "rep_id",
    "rep_name",
    "segment",
    "accounts",
    "potential_text",
    "fte_text",
    "per_fte_text",
    "deviation_text",
    "status",
)
BOOK_ALIASES = (
    "Book",
    "Rep",
    "Segment",
    "Accounts on map",
    "Potential",
    "FTE",
    "Potential / FTE",
    "vs segment mean",
    "Status",
)


def to_web(layer: gpd.GeoDataFrame, name: str, grid: float = WEB_GRID_DEG) -> gpd.GeoDataFrame:
    """EPSG:4269 layer -> EPSG:4326 with coordinates rounded for the browser."""
    ensure_crs(layer, INPUT_CRS, name)
    web = layer.to_crs(WEB_CRS)
    web["geometry"] = shapely.set_precision(web.geometry.values, grid)
    return web


def _check_size(layers: MapLayers, params: MapParams) -> None:
    if len(layers.points) > params.max_interactive_accounts:
        raise MapTooLargeError(
            f"{len(layers.points):,} accounts is more than an interactive map can carry "
            f"(maps.max_interactive_accounts = {params.max_interactive_accounts:,}). Show one segment "
            "(layers.for_segment(...)) or one team, or raise the limit in the parameters file."
        )


def as_text(values: pd.Series) -> pd.Series:
    """Display text of ids and labels (missing: empty)."""
    return values.astype("str").fillna("")


def account_features(layers: MapLayers, palette: dict[str, str]) -> gpd.GeoDataFrame:
    """Accounts in EPSG:4326 with display fields, colour, radius and tooltip HTML.

    Shared by folium and ipyleaflet so both show the same text for an account.
    """
    points = layers.points
    web = to_web(points[["account_id", "geometry"]], "accounts", grid=1e-5)
    sizes, _ = style.point_sizes(points["potential"], max(len(points), 300))
    frame = pd.DataFrame(
        {
            "account_id": as_text(points["account_id"]),
            "name": as_text(points["name"]) if "name" in points else "",
            "book": as_text(points["rep_id"]).replace("", "(none)"),
            "previous_owner": as_text(points["previous_rep_id"]).replace("", "(none)"),
            "potential": points["potential"].round(2),
            "potential_text": points["potential"].map(style.money),
            "customer": np.where(points["is_customer"], "yes", "no"),
            "segment": as_text(points["segment"]) if "segment" in points else "",
            "placed_by": as_text(points["located_by"]).str.replace("postal_code", "ZIP code point"),
            "moved": points["moved"].astype(bool),
            "color": style.colors_of(points["rep_id"], palette),
            "radius": np.round(np.clip(np.sqrt(sizes) * 1.1, 3.0, 12.0), 1),
        }
    )
    frame["tooltip"] = [
        tooltip_html(row, ACCOUNT_FIELDS, ACCOUNT_ALIASES) for row in frame.itertuples(index=False)
    ]
    return gpd.GeoDataFrame(frame, geometry=web.geometry.values, crs=WEB_CRS).set_index(
        "account_id", drop=False
    )


def book_features(layers: MapLayers, palette: dict[str, str]) -> gpd.GeoDataFrame:
    """Territory outlines in EPSG:4326 with display fields and tooltip HTML."""
    outlines = layers.outlines
    web = to_web(outlines[["rep_id", "geometry"]], "outlines")
    frame = pd.DataFrame(
        {
            "rep_id": as_text(outlines["rep_id"]),
            "rep_name": as_text(outlines["name"]) if "name" in outlines else "",
            "segment": as_text(outlines["segment"]),
            "accounts": outlines["n_located"].astype(int),
            "potential_text": outlines["potential"].map(style.money),
            "fte_text": outlines["fte"].map(lambda v: f"{v:.2f}"),
            "per_fte_text": outlines["potential_per_fte"].map(style.money),
            "deviation_text": outlines["deviation"].map(
                lambda v: f"{v:+.1%}" if pd.notna(v) else "n/a"
            ),
            "status": as_text(outlines["status"]),
            "color": [palette.get(r, style.UNASSIGNED_COLOR) for r in outlines["rep_id"]],
        }
    )
    frame["tooltip"] = [
        tooltip_html(row, BOOK_FIELDS, BOOK_ALIASES) for row in frame.itertuples(index=False)
    ]
    return gpd.GeoDataFrame(frame, geometry=web.geometry.values, crs=WEB_CRS).set_index(
        "rep_id", drop=False
    )


def home_features(layers: MapLayers, palette: dict[str, str]) -> gpd.GeoDataFrame:
    homes = layers.homes
    web = to_web(homes[["rep_id", "geometry"]], "homes", grid=1e-5)
    frame = pd.DataFrame(
        {
            "rep_id": as_text(homes["rep_id"]),
            "rep_name": as_text(homes["name"]) if "name" in homes else "",
            "segment": as_text(homes["segment"]),
            "potential_text": homes["potential"].map(style.money),
            "per_fte_text": homes["potential_per_fte"].map(style.money),
            "color": [palette.get(r, style.UNASSIGNED_COLOR) for r in homes["rep_id"]],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=web.geometry.values, crs=WEB_CRS)


def zone_features(layers: MapLayers, measure: str) -> gpd.GeoDataFrame:
    """Zones in EPSG:4326 with a colour for ``measure`` and tooltip fields."""
    if measure == "attainment":
        zones = layers.attainment
        if zones is None:
            raise ValueError("no attainment layer: build the layers with attainment=...")
        value = zones["attainment"]
        # Mid-period, 50% attained can be right on pace: colour by pace when it is known.
        pace = zones["pace_index"] if zones["pace_index"].notna().any() else value
        color = style.pace_colors(pace)
        text = {
            "bookings_text": zones["bookings"].map(style.money),
            "quota_text": zones["quota"].map(style.money),
            "attainment_text": value.map(lambda v: f"{v:.0%}" if pd.notna(v) else "no quota"),
            "pace_text": pace.map(lambda v: f"{v:.2f}" if pd.notna(v) else "n/a"),
        }
    else:
        zones = layers.zones
        if measure == "coverage":
            value = zones["coverage_index"]
            color = style.coverage_colors(value)
            text = {"value_text": value.map(lambda v: f"{v:.2f}" if pd.notna(v) else "n/a")}
        else:
            value = zones[measure]
            color, _, _ = style.quantile_colors(value, style.QUANTITY_CMAP.get(measure, "YlOrBr"))
            text = {"value_text": value.map(style.money)}
        text |= {
            "potential_text": zones["potential"].map(style.money),
            "whitespace_text": zones["whitespace"].map(style.money),
            "accounts": zones["n_accounts"].astype(int),
        }
    ensure_crs(zones, INPUT_CRS, "zones")
    # Zone shapes come from the coarser web boundaries (a third of the bytes).
    shapes = boundaries.web_zones(layers.zone).set_index("zone_id").geometry
    coarse = gpd.GeoDataFrame(
        geometry=shapes.reindex(zones["zone_id"])
        .fillna(zones.geometry.set_axis(zones["zone_id"]))
        .values,
        crs=INPUT_CRS,
    )
    web = to_web(coarse, "zones", grid=1e-3)
    frame = pd.DataFrame(
        {
            "zone_id": as_text(zones["zone_id"]),
            "zone_name": as_text(zones["zone_name"]),
            **text,
            "color": color,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=web.geometry.values, crs=WEB_CRS)


def tooltip_html(row: Any, fields: Sequence[str], aliases: Sequence[str]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{html.escape(a)}</th>"
        f"<td>{html.escape(str(getattr(row, f)))}</td></tr>"
        for f, a in zip(fields, aliases, strict=True)
    )
    return f"<table>{cells}</table>"


def _states_web() -> gpd.GeoDataFrame:
    states = boundaries.web_states()[["state", "name", "geometry"]]
    return to_web(states, "states", grid=1e-3)


#: The lower 48 states (lat, lon): the view when most of the map is there.
CONUS_BOUNDS = [[24.5, -125.0], [49.5, -66.9]]


def _bounds(layers: MapLayers) -> list[list[float]]:
    """The view to open on: the layers' extent, but the lower 48 alone when most
    accounts are there (Alaska and Hawaii stay drawn; fitting them too would shrink
    the mainland to a corner of the Pacific)."""
    frame = layers.points if len(layers.points) else layers.zones
    if frame is None or frame.empty:
        return CONUS_BOUNDS
    web = frame.to_crs(WEB_CRS)
    (s, w), (n, e) = CONUS_BOUNDS
    mainland = web.geometry.intersects(shapely.box(w, s, e, n))
    if mainland.mean() >= 0.5:
        web = web[mainland]
    x0, y0, x1, y1 = web.total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


# --------------------------------------------------------------------------- folium


def folium_map(
    layers: MapLayers,
    params: MapParams | None = None,
    *,
    tiles: str | None = None,
    zones: Sequence[str] = ("potential", "whitespace", "coverage"),
) -> folium.Map:
    """A standalone Leaflet map: states, territories, accounts, rep homes, zone layers.

    Every account is one feature of the "Accounts" layer with its own tooltip
    (account, book, last period's owner, potential...); every outline has the
    book's figures. ``zones`` adds switchable choropleth layers (hidden at start);
    'attainment' is available when the layers carry it.
    """
    params = params or MapParams()
    _check_size(layers, params)
    palette = style.book_colors(layers.outlines, layers.books["rep_id"])
    m = folium.Map(tiles=tiles, prefer_canvas=True, control_scale=True, zoom_control=True)
    folium.GeoJson(
        _states_web().to_json(separators=(",", ":")),
        name="States",
        control=False,
        style_function=lambda f: {
            "fillColor": style.LAND_COLOR,
            "color": "#9a9a9a",
            "weight": 1,
            "fillOpacity": 1.0,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(m)
    for measure in zones:
        if measure == "attainment" and layers.attainment is None:
            continue
        source = layers.attainment if measure == "attainment" else layers.zones
        if source is None or source.empty:
            continue
        features = zone_features(layers, measure)
        fields = ["zone_name", "value_text"] + (
            ["bookings_text", "quota_text"]
            if measure == "attainment"
            else ["potential_text", "whitespace_text", "accounts"]
        )
        aliases = ["Zone", measure.capitalize()] + (
            ["Bookings", "Quota"]
            if measure == "attainment"
            else ["Potential", "Whitespace", "Accounts"]
        )
        folium.GeoJson(
            features.to_json(separators=(",", ":")),
            name=f"{measure.capitalize()} by {layers.zone}",
            show=False,
            style_function=lambda f: {
                "fillColor": f["properties"]["color"],
                "color": "white",
                "weight": 0.5,
                "fillOpacity": 0.85,
            },
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
        ).add_to(m)
    if len(layers.outlines):
        folium.GeoJson(
            book_features(layers, palette).to_json(separators=(",", ":")),
            name="Territories",
            style_function=lambda f: {
                "color": f["properties"]["color"],
                "fillColor": f["properties"]["color"],
                "weight": 2.5,
                "fillOpacity": 0.08,
            },
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.2},
            tooltip=folium.GeoJsonTooltip(fields=list(BOOK_FIELDS), aliases=list(BOOK_ALIASES)),
        ).add_to(m)
    if len(layers.points):
        accounts = account_features(layers, palette).drop(columns=["tooltip"])
        folium.GeoJson(
            accounts.to_json(separators=(",", ":")),
            name="Accounts",
            marker=folium.CircleMarker(radius=5, weight=0.5, fill=True, fill_opacity=0.85),
            style_function=lambda f: {
                "fillColor": f["properties"]["color"],
                "color": "#333333",
                "radius": f["properties"]["radius"],
                "weight": 0.5,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=list(ACCOUNT_FIELDS), aliases=list(ACCOUNT_ALIASES)
            ),
        ).add_to(m)
    if len(layers.homes):
        folium.GeoJson(
            home_features(layers, palette).to_json(separators=(",", ":")),
            name="Rep homes",
            marker=folium.CircleMarker(
                radius=9, weight=3, color="black", fill=True, fill_opacity=1.0
            ),
            style_function=lambda f: {
                "fillColor": f["properties"]["color"],
                "color": "black",
                "weight": 3,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["rep_id", "rep_name", "segment", "potential_text", "per_fte_text"],
                aliases=["Rep home", "Name", "Segment", "Book potential", "Potential / FTE"],
            ),
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds(_bounds(layers))
    return m


# --------------------------------------------------------------------------- ipyleaflet


def _zoom_to_fit(bounds: list[list[float]], width_px: int = 900, height_px: int = 450) -> int:
    """The largest web-mercator zoom at which ``bounds`` fit a view of about that size."""
    (s, w), (n, e) = bounds

    def mercator(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(max(min(lat, 85.0), -85.0)) / 2))

    across = math.log2(width_px * 360.0 / (256.0 * max(e - w, 1e-6)))
    up = math.log2(height_px * 2 * math.pi / (256.0 * max(mercator(n) - mercator(s), 1e-6)))
    return int(max(2, min(14, math.floor(min(across, up)))))


def leaflet_base_map(layers: MapLayers, tiles: str | None) -> ipyleaflet.Map:
    """An ipyleaflet map fitted to the layers, with the state boundaries drawn as
    GeoJSON (readable without tiles); ``tiles`` names an optional basemap."""
    bounds = _bounds(layers)
    (s, w), (n, e) = bounds
    kwargs: dict[str, Any] = {
        "center": ((s + n) / 2, (w + e) / 2),
        "zoom": _zoom_to_fit(bounds),
        "scroll_wheel_zoom": True,
    }
    if tiles is None:
        kwargs["layers"] = ()  # no basemap: nothing is fetched from a tile server
    else:
        provider = ipyleaflet.basemaps.get(tiles, ipyleaflet.basemaps.OpenStreetMap.Mapnik)
        kwargs["basemap"] = provider
    m = ipyleaflet.Map(**kwargs)
    m.add(
        ipyleaflet.GeoJSON(
            data=_states_web().__geo_interface__,
            name="States",
            style={
                "fillColor": style.LAND_COLOR,
                "color": "#9a9a9a",
                "weight": 1,
                "fillOpacity": 1.0,
            },
        )
    )
    # Not m.fit_bounds: it waits for the browser's view size, which never comes in a
    # kernel without a frontend (papermill), and leaves a coroutine never awaited.
    return m


def features_with_style(frame: gpd.GeoDataFrame, style_of: Callable[[pd.Series], dict]) -> dict:
    """GeoJSON of ``frame`` with each feature's Leaflet style (ipyleaflet reads ``style``)."""
    data = frame.__geo_interface__
    for feature, (_, row) in zip(data["features"], frame.iterrows(), strict=True):
        feature["properties"]["style"] = style_of(row)
    return data


class AccountSelectionMap:
    """Review map (ipyleaflet): accounts by book, territories, homes; select to move.

    Click an account to select it; draw a rectangle or a polygon (the lasso) to
    select every account inside. Each selection calls ``on_select(account_ids)``
    (sorted ids) and is highlighted on the map; the dashboard wires ``on_select``
    to its move action. Hovering an account or a territory shows its tooltip in
    the panel at the top right. ``widget`` is what the dashboard displays.
    """

    def __init__(
        self,
        layers: MapLayers,
        on_select: Callable[[list[str]], None] | None = None,
        params: MapParams | None = None,
        *,
        tiles: str | None = None,
    ):
        params = params or MapParams()
        _check_size(layers, params)
        self.layers = layers
        self.on_select = on_select
        self.selected: list[str] = []
        palette = style.book_colors(layers.outlines, layers.books["rep_id"])
        self.accounts = account_features(layers, palette)
        self.widget = leaflet_base_map(layers, tiles)
        self.info = ipywidgets.HTML("Hover an account or a territory; click or draw to select.")
        if len(layers.outlines):
            books = book_features(layers, palette)
            self.books_layer = ipyleaflet.GeoJSON(
                data=features_with_style(
                    books,
                    lambda r: {
                        "color": r["color"],
                        "fillColor": r["color"],
                        "weight": 2.5,
                        "fillOpacity": 0.08,
                    },
                ),
                name="Territories",
                hover_style={"weight": 4, "fillOpacity": 0.2},
            )
            self.books_layer.on_hover(self._on_hover)
            self.widget.add(self.books_layer)
        self.accounts_layer = ipyleaflet.GeoJSON(
            data=features_with_style(
                self.accounts.drop(columns=[]),
                lambda r: {
                    "fillColor": r["color"],
                    "color": "#333333",
                    "weight": 0.5,
                    "radius": float(r["radius"]),
                    "fillOpacity": 0.85,
                },
            ),
            name="Accounts",
            point_style={"radius": 5, "fillOpacity": 0.85, "weight": 0.5},
            hover_style={"weight": 2, "color": "black"},
        )
        self.accounts_layer.on_hover(self._on_hover)
        self.accounts_layer.on_click(self._on_click)
        self.widget.add(self.accounts_layer)
        if len(layers.homes):
            homes = home_features(layers, palette)
            self.widget.add(
                ipyleaflet.GeoJSON(
                    data=features_with_style(
                        homes,
                        lambda r: {
                            "fillColor": r["color"],
                            "color": "black",
                            "weight": 3,
                            "radius": 9,
                            "fillOpacity": 1,
                        },
                    ),
                    name="Rep homes",
                    point_style={"radius": 9},
                )
            )
        self.selection_layer = ipyleaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": []},
            name="Selected",
            point_style={"radius": 9, "color": "#ff00ff", "weight": 3, "fillOpacity": 0.0},
        )
        self.widget.add(self.selection_layer)
        self.draw_control = ipyleaflet.DrawControl(
            rectangle={"shapeOptions": {"color": "#ff00ff", "weight": 2}},
            polygon={"shapeOptions": {"color": "#ff00ff", "weight": 2}},
            polyline={},
            circlemarker={},
            circle={},
            marker={},
            edit=False,
            remove=True,
        )
        self.draw_control.on_draw(self._on_draw)
        self.widget.add(self.draw_control)
        self.widget.add(ipyleaflet.WidgetControl(widget=self.info, position="topright"))
        self.widget.add(ipyleaflet.LayersControl(position="topright"))
        self._index = shapely.STRtree(self.accounts.geometry.values)

    def ids_within(self, geometry: dict) -> list[str]:
        """Sorted ids of the accounts inside a GeoJSON geometry (lon/lat, as drawn)."""
        area = shape(geometry)
        hits = self._index.query(area, predicate="intersects")
        return sorted(self.accounts["account_id"].iloc[hits].tolist())

    def select(self, account_ids: Sequence[str]) -> list[str]:
        """Make ``account_ids`` the selection, highlight it, and call ``on_select``."""
        self.highlight(account_ids)
        if self.on_select is not None:
            self.on_select(list(self.selected))
        return self.selected

    def highlight(self, account_ids: Sequence[str]) -> list[str]:
        """Show ``account_ids`` (those on the map) as the selection without calling
        ``on_select``: how a selection made elsewhere (the table) appears here."""
        known = set(self.accounts["account_id"])
        self.selected = sorted(a for a in dict.fromkeys(account_ids) if a in known)
        chosen = self.accounts.loc[self.selected, ["account_id", "geometry"]]
        self.selection_layer.data = (
            chosen.__geo_interface__
            if len(chosen)
            else {"type": "FeatureCollection", "features": []}
        )
        self.info.value = f"<b>{len(self.selected)} account(s) selected</b>"
        return self.selected

    def _on_click(
        self,
        event: str | None = None,
        feature: dict | None = None,
        properties: dict | None = None,
        **_: Any,
    ) -> None:
        props = properties or (feature or {}).get("properties", {})
        if props.get("account_id"):
            self.select([props["account_id"]])

    def _on_draw(
        self, control: Any = None, action: str = "", geo_json: dict | None = None, **_: Any
    ) -> None:
        if action in ("created", "edited") and geo_json and geo_json.get("geometry"):
            self.select(self.ids_within(geo_json["geometry"]))

    def _on_hover(
        self,
        event: str | None = None,
        feature: dict | None = None,
        properties: dict | None = None,
        **_: Any,
    ) -> None:
        props = properties or (feature or {}).get("properties", {})
        if "tooltip" in props:
            self.info.value = props["tooltip"]

"""The monitoring dashboard's map (ipyleaflet): where the plan is ahead or behind.

Zones (state or county) are coloured by a measure picked with toggle buttons
(attainment against pace, coverage, potential, whitespace); every book's outline
is drawn in its rep's pace colour. Hovering a zone or a book shows its figures.
Boundaries are GeoJSON layers, so the map reads without base tiles (offline).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import ipyleaflet
import ipywidgets
import pandas as pd

from plan_lib.maps import style
from plan_lib.maps.crs import WEB_CRS
from plan_lib.maps.interactive import (
    as_text,
    features_with_style,
    leaflet_base_map,
    to_web,
    tooltip_html,
    zone_features,
)
from plan_lib.maps.layers import MapLayers, require_columns

#: Zone measures the toggle offers (attainment only when the layers carry it).
MEASURES = ("attainment", "coverage", "potential", "whitespace")
BOOK_PACE_FIELDS = (
    "rep_id",
    "rep_name",
    "segment",
    "bookings_text",
    "quota_text",
    "attainment_text",
    "pacing_text",
    "forecast_text",
)
BOOK_PACE_ALIASES = (
    "Book",
    "Rep",
    "Segment",
    "Bookings",
    "Quota",
    "Attainment",
    "Pace (1.0 = on pace)",
    "P(reach quota)",
)


def _percent(value: Any) -> str:
    return f"{value:.0%}" if pd.notna(value) else "n/a"


def book_pace_features(layers: MapLayers, reps: pd.DataFrame) -> gpd.GeoDataFrame:
    """Book outlines (EPSG:4326) with their rep's bookings, quota, attainment and pace.

    ``reps``: the monitoring step's rep rows (``unit_id`` = rep_id, ``bookings``,
    ``quota``, ``attainment``, ``pacing``; ``prob_reach_quota`` when forecast).
    A book without a row (a rep who left, say) is drawn grey with "n/a".
    """
    require_columns(
        reps,
        "rep attainment",
        ["unit_id", "bookings", "quota", "attainment", "pacing"],
        "Pass the monitoring step's attainment rows of level 'rep'.",
    )
    outlines = layers.outlines
    figures = reps.assign(unit_id=reps["unit_id"].astype("str")).set_index("unit_id")
    figures = figures.reindex(as_text(outlines["rep_id"]))
    chance = figures.get("prob_reach_quota", pd.Series(index=figures.index, dtype=float))
    web = to_web(outlines[["rep_id", "geometry"]], "outlines")
    frame = pd.DataFrame(
        {
            "rep_id": as_text(outlines["rep_id"]),
            "rep_name": as_text(outlines["name"]) if "name" in outlines else "",
            "segment": as_text(outlines["segment"]),
            "bookings_text": figures["bookings"].map(style.money).fillna("n/a").to_numpy(),
            "quota_text": figures["quota"].map(style.money).fillna("n/a").to_numpy(),
            "attainment_text": figures["attainment"].map(_percent).to_numpy(),
            "pacing_text": figures["pacing"].map(lambda v: f"{v:.2f}" if pd.notna(v) else "n/a").to_numpy(),
            "forecast_text": chance.map(_percent).to_numpy(),
            "color": style.pace_colors(figures["pacing"].reset_index(drop=True)),
        }
    )
    frame["tooltip"] = [
        tooltip_html(row, BOOK_PACE_FIELDS, BOOK_PACE_ALIASES)
        for row in frame.itertuples(index=False)
    ]
    return gpd.GeoDataFrame(frame, geometry=web.geometry.values, crs=WEB_CRS)


class MonitorMap:
    """Zones by a chosen measure and books by pace, for the monitoring dashboard.

    Display it as the last expression of a cell (it renders its ``widget``); call
    :meth:`show` (or press a toggle button) to colour the zones by another measure.
    """

    def __init__(
        self,
        layers: MapLayers,
        reps: pd.DataFrame | None = None,
        *,
        measure: str = "attainment",
        tiles: str | None = None,
    ):
        self.layers = layers
        self.measures = [m for m in MEASURES if m != "attainment" or layers.attainment is not None]
        if measure not in self.measures:
            raise ValueError(f"measure must be one of {self.measures}, got {measure!r}")
        self.map = leaflet_base_map(layers, tiles)
        self.info = ipywidgets.HTML(f"Hover a {layers.zone} or a book")
        self.zones_layer = ipyleaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": []},
            hover_style={"weight": 2, "color": "black"},
        )
        self.zones_layer.on_hover(self._on_hover)
        self.map.add(self.zones_layer)
        self.books_layer: ipyleaflet.GeoJSON | None = None
        if reps is not None:
            books = book_pace_features(layers, reps)
            self.books_layer = ipyleaflet.GeoJSON(
                data=features_with_style(
                    books, lambda r: {"color": r["color"], "weight": 2.5, "fillOpacity": 0.0}
                ),
                name="Books by pace",
                hover_style={"weight": 4},
            )
            self.books_layer.on_hover(self._on_hover)
            self.map.add(self.books_layer)
        self.map.add(ipyleaflet.WidgetControl(widget=self.info, position="topright"))
        self.map.add(ipyleaflet.LayersControl(position="topleft"))
        self.toggle = ipywidgets.ToggleButtons(options=self.measures, value=measure)
        self.toggle.observe(lambda change: self.show(change["new"]), names="value")
        self.widget = ipywidgets.VBox([self.toggle, self.map])
        self.show(measure)

    @classmethod
    def from_results(
        cls,
        layers: MapLayers,
        attainment: pd.DataFrame,
        forecast: pd.DataFrame | None = None,
        *,
        tiles: str | None = None,
    ) -> MonitorMap:
        """The map of a monitoring run: its rep rows (with the forecast's chance of
        reaching quota, when given) on the books."""
        reps = attainment[attainment["level"] == "rep"]
        if forecast is not None:
            chance = forecast.loc[forecast["level"] == "rep", ["unit_id", "prob_reach_quota"]]
            reps = reps.merge(chance, on="unit_id", how="left")
        return cls(layers, reps, tiles=tiles)

    def show(self, measure: str) -> None:
        """Colour the zones by ``measure`` (one of :attr:`measures`)."""
        zones = zone_features(self.layers, measure)
        fields = [c for c in zones.columns if c.endswith("_text") or c == "accounts"]
        aliases = [f.removesuffix("_text").replace("_", " ").capitalize() for f in fields]
        zones["tooltip"] = [
            tooltip_html(r, ["zone_name", *fields], [self.layers.zone.capitalize(), *aliases])
            for r in zones.itertuples(index=False)
        ]
        self.zones_layer.data = features_with_style(
            zones,
            lambda r: {"fillColor": r["color"], "color": "white", "weight": 0.5, "fillOpacity": 0.85},
        )
        self.zones_layer.name = f"Zones: {measure.capitalize()}"
        if self.toggle.value != measure:
            self.toggle.value = measure

    def _on_hover(self, **event: Any) -> None:
        properties = event.get("properties") or event.get("feature", {}).get("properties", {})
        self.info.value = properties.get("tooltip", "")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

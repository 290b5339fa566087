"""The frame every static map shares: an equal-area main panel, optional Alaska and
Hawaii panels, a legend column, a title, a scale bar in km and a footnote.

Why a side column rather than insets drawn over the map: the main panel zooms
to the data (a West-only plan fills the frame with the West), so no corner is
guaranteed to be empty ocean; a column never hides an account.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot state):
nothing leaks when a run writes a dozen maps, and any backend can save them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import geopandas as gpd
import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.ops import orient

from plan_lib.maps import boundaries, style
from plan_lib.maps.crs import ALASKA_CRS, AREA_CRS, HAWAII_CRS, INPUT_CRS, ensure_crs
from plan_lib.maps.params import MapParams

PANEL_CRS = {"CONUS": AREA_CRS, "AK": ALASKA_CRS, "HI": HAWAII_CRS}
PANEL_TITLE = {"AK": "Alaska", "HI": "Hawaii"}
#: Lon/lat boxes of each panel (Alaska's Aleutians cross the antimeridian).
PANEL_AREA = {
    "CONUS": box(-125.5, 24.0, -66.0, 50.0),
    "AK": MultiPolygon([box(-180.0, 50.0, -129.0, 72.0), box(170.0, 50.0, 180.0, 72.0)]),
    "HI": box(-161.0, 18.0, -154.0, 23.0),
}
#: The smallest main extent (metres): a map of a single county still shows its neighbours.
MIN_EXTENT_M = 250_000.0
HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]


def plain(text: str) -> str:
    """Text shown literally: matplotlib reads a pair of ``$`` as maths ("$1M - $2M")."""
    return text.replace("$", r"\$")


def panel_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """'CONUS', 'AK', 'HI' or 'other' (abroad, territories) for each lon/lat point."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), "other", dtype=object)
    conus = (lat >= 24.0) & (lat <= 50.0) & (lon >= -125.5) & (lon <= -66.0)
    alaska = (lat >= 50.0) & (lat <= 72.0) & ((lon <= -129.0) | (lon >= 170.0))
    hawaii = (lat >= 18.0) & (lat <= 23.0) & (lon >= -161.0) & (lon <= -154.0)
    out[conus], out[alaska], out[hawaii] = "CONUS", "AK", "HI"
    return out


@lru_cache(maxsize=8)
def _transformer(target: str) -> Transformer:
    return Transformer.from_crs(INPUT_CRS, target, always_xy=True)


def panels_used(*layers: gpd.GeoDataFrame) -> set[str]:
    """Panels holding at least one feature of the given EPSG:4269 layers."""
    used: set[str] = set()
    for layer in layers:
        if layer is None or layer.empty:
            continue
        for panel, area in PANEL_AREA.items():
            if panel not in used and layer.intersects(area).any():
                used.add(panel)
    return used


def polygon_path(geometry: object) -> Path | None:
    """A matplotlib path of a (multi)polygon: exteriors counter-clockwise, holes
    clockwise, so the non-zero fill rule leaves holes empty. None when empty."""
    if geometry is None or getattr(geometry, "is_empty", True):
        return None
    if isinstance(geometry, Polygon):
        parts = [geometry]
    elif hasattr(geometry, "geoms"):  # MultiPolygon, or a GeometryCollection left by clipping
        parts = [g for g in geometry.geoms if isinstance(g, Polygon) and not g.is_empty]
    else:
        return None
    rings = []
    for polygon in parts:
        polygon = orient(polygon, sign=1.0)
        rings.append(Path(np.asarray(polygon.exterior.coords)[:, :2]))
        rings.extend(Path(np.asarray(r.coords)[:, :2]) for r in polygon.interiors)
    return Path.make_compound_path(*rings) if rings else None


def _per_row(color: object, rows: list[int]) -> object:
    if isinstance(color, np.ndarray | list):
        return [color[r] for r in rows]
    return color


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (metres) of about a fifth of the map width."""
    target = span_m / 5.0
    magnitude = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * magnitude <= target:
            return float(step * magnitude)
    return float(magnitude)


class MapCanvas:
    """One figure: main panel (lower 48, EPSG:5070), optional AK/HI panels, legend column."""

    def __init__(
        self, params: MapParams, title: str, subtitle: str = "", insets: Sequence[str] = ()
    ):
        self.params = params
        width = params.width_in
        self.figure = Figure(figsize=(width, width * 0.64), dpi=params.dpi, layout=None)
        insets = [p for p in ("AK", "HI") if p in insets]
        grid = self.figure.add_gridspec(
            nrows=2 if insets else 1,
            ncols=2,
            width_ratios=[3.0, 1.2],
            height_ratios=[2.6, 1.0] if insets else [1.0],
            left=0.01,
            right=0.99,
            top=0.90,
            bottom=0.07,
            wspace=0.03,
            hspace=0.08,
        )
        self.axes: dict[str, Axes] = {"CONUS": self.figure.add_subplot(grid[:, 0])}
        self.legend_axes = self.figure.add_subplot(grid[0, 1])
        if insets:  # side by side under the legend: the legend keeps most of the column
            row = grid[1, 1].subgridspec(1, len(insets), wspace=0.05)
            for k, panel in enumerate(insets):
                ax = self.figure.add_subplot(row[0, k])
                ax.set_title(PANEL_TITLE[panel], fontsize=8, color="#555555", loc="left")
                self.axes[panel] = ax
        for ax in [*self.axes.values(), self.legend_axes]:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor("#cccccc")
        self.legend_axes.axis("off")
        self.figure.suptitle(
            plain(title), x=0.01, y=0.975, ha="left", fontsize=15, fontweight="bold"
        )
        if subtitle:
            self.figure.text(
                0.01, 0.925, plain(subtitle), ha="left", va="center", fontsize=9.5, color="#333333"
            )
        self._extent: list[np.ndarray] = []
        self._legend: list[tuple[str, Sequence[Artist], list[str]]] = []

    # ---------------------------------------------------------------- drawing

    def _split(self, layer: gpd.GeoDataFrame, name: str) -> dict[str, gpd.GeoDataFrame]:
        """The part of a layer in each panel, projected to that panel's CRS."""
        ensure_crs(layer, INPUT_CRS, name)
        parts = {}
        for panel in self.axes:
            inside = layer[layer.intersects(PANEL_AREA[panel])]
            if inside.empty:
                continue
            whole = inside.within(PANEL_AREA[panel])
            if not whole.all():  # clip only what crosses a panel edge (slow path, rare)
                inside = inside.copy()
                inside.loc[~whole, "geometry"] = inside.loc[~whole].geometry.intersection(
                    PANEL_AREA[panel]
                )
            parts[panel] = inside.to_crs(PANEL_CRS[panel])
        return parts

    def basemap(self) -> None:
        """Land and state borders under everything (readable with no other layer)."""
        self.polygons(
            boundaries.states(),
            "states",
            facecolor=style.LAND_COLOR,
            edgecolor=style.BORDER_COLOR,
            linewidth=0.6,
            zorder=0,
            extent=False,
        )

    def state_lines(self) -> None:
        """State borders above a choropleth, so counties read within their state."""
        self.polygons(
            boundaries.states(),
            "state_lines",
            edgecolor="#7a7a7a",
            linewidth=0.6,
            zorder=4,
            extent=False,
        )

    def polygons(
        self,
        layer: gpd.GeoDataFrame,
        name: str,
        *,
        facecolor: object = "none",
        edgecolor: object = "none",
        linewidth: float = 0.5,
        zorder: float = 2,
        alpha: float | None = None,
        extent: bool = True,
    ) -> int:
        """Draw each polygon row as one patch (a book's outline is one artist path,
        whatever its parts); colours may be per-row arrays. Returns patches drawn.
        The collection carries ``gid=name`` so tests and tools can find it."""
        drawn = 0
        for panel, part in self._split(layer, name).items():
            rows = layer.index.get_indexer(part.index)
            paths, kept = [], []
            for k, geometry in enumerate(part.geometry):
                path = polygon_path(geometry)
                if path is not None:
                    paths.append(path)
                    kept.append(rows[k])
            if not paths:
                continue
            faces, edges = (_per_row(c, kept) for c in (facecolor, edgecolor))
            collection = PatchCollection(
                [PathPatch(p) for p in paths],
                facecolors=faces,
                edgecolors=edges,
                linewidths=linewidth,
                zorder=zorder,
                alpha=alpha,
                gid=name,
            )
            self.axes[panel].add_collection(collection)
            drawn += len(paths)
            if extent and panel == "CONUS":
                self._extent.append(np.asarray(part.total_bounds))
        return drawn

    def points(
        self,
        layer: gpd.GeoDataFrame,
        name: str,
        *,
        sizes: np.ndarray | float,
        colors: np.ndarray | str,
        extent: bool = True,
        **kwargs,
    ) -> dict[str, int]:
        """Scatter point features (vectorised projection); returns the count drawn per panel."""
        ensure_crs(layer, INPUT_CRS, name)
        lon, lat = layer.geometry.x.to_numpy(), layer.geometry.y.to_numpy()
        where = panel_of(lon, lat)
        counts = {}
        for panel, ax in self.axes.items():
            mask = where == panel
            if not mask.any():
                continue
            x, y = _transformer(PANEL_CRS[panel]).transform(lon[mask], lat[mask])
            s = sizes[mask] if isinstance(sizes, np.ndarray) else sizes
            c = colors[mask] if isinstance(colors, np.ndarray) else colors
            ax.scatter(x, y, s=s, c=c if isinstance(c, str) else list(c), **kwargs)
            counts[panel] = int(mask.sum())
            if extent and panel == "CONUS":
                self._extent.append(np.array([x.min(), y.min(), x.max(), y.max()]))
        return counts

    def labels(self, layer: gpd.GeoDataFrame, column: str, name: str, **kwargs) -> None:
        """Text at point features (e.g. rep ids at homes), with a white halo."""
        ensure_crs(layer, INPUT_CRS, name)
        lon, lat = layer.geometry.x.to_numpy(), layer.geometry.y.to_numpy()
        where = panel_of(lon, lat)
        for panel, ax in self.axes.items():
            mask = where == panel
            if not mask.any():
                continue
            x, y = _transformer(PANEL_CRS[panel]).transform(lon[mask], lat[mask])
            for xi, yi, text in zip(x, y, layer.loc[mask, column].astype(str), strict=True):
                ax.annotate(
                    text,
                    (xi, yi),
                    xytext=(5, 5),
                    textcoords="offset points",
                    path_effects=HALO,
                    zorder=9,
                    **{"fontsize": 8, "fontweight": "bold", **kwargs},
                )

    def project(
        self, lon: np.ndarray, lat: np.ndarray, panel: str = "CONUS"
    ) -> tuple[np.ndarray, np.ndarray]:
        return _transformer(PANEL_CRS[panel]).transform(
            np.asarray(lon, float), np.asarray(lat, float)
        )

    # ---------------------------------------------------------------- furniture

    def legend_group(self, title: str, handles: Sequence[Artist], labels: Sequence[str]) -> None:
        self._legend.append((plain(title), handles, [plain(label) for label in labels]))

    def _finish_extent(self) -> None:
        ax = self.axes["CONUS"]
        if self._extent:
            b = np.vstack(self._extent)
            x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        else:
            x0, y0, x1, y1 = (
                boundaries.states()
                .loc[lambda f: ~f["state"].isin(["AK", "HI"])]
                .to_crs(AREA_CRS)
                .total_bounds
            )
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = max(x1 - x0, MIN_EXTENT_M) * 1.08, max(y1 - y0, MIN_EXTENT_M) * 1.08
        box_w, box_h = (
            ax.get_position().width * self.figure.get_figwidth(),
            ax.get_position().height * self.figure.get_figheight(),
        )
        if w / h < box_w / box_h:  # widen to the panel's shape, so equal aspect fills it
            w = h * box_w / box_h
        else:
            h = w * box_h / box_w
        ax.set_xlim(cx - w / 2, cx + w / 2)
        ax.set_ylim(cy - h / 2, cy + h / 2)
        ax.set_aspect("equal", adjustable="box")
        for panel in ("AK", "HI"):
            if panel in self.axes:
                self.axes[panel].set_aspect("equal", adjustable="datalim")
        # Scale bar: EPSG:5070 is equal-area, its scale is within ~1% of true across the lower 48.
        length = _nice_length(w)
        label = f"{length / 1000:,.0f} km"
        bar = AnchoredSizeBar(
            ax.transData,
            length,
            label,
            loc="lower left",
            pad=0.6,
            borderpad=0.8,
            sep=4,
            frameon=True,
            size_vertical=h * 0.006,
            fontproperties={"size": 8},
        )
        bar.patch.set_alpha(0.8)
        bar.patch.set_edgecolor("none")
        ax.add_artist(bar)
        self._state_codes(ax, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))

    def _state_codes(self, ax: Axes, view: tuple[float, float, float, float]) -> None:
        """Label states by code when the view holds few enough to read (regional maps)."""
        states = boundaries.states()
        states = states[~states["state"].isin(["AK", "HI"])].to_crs(AREA_CRS)
        anchor = states.geometry.representative_point()
        seen = anchor.within(box(*view))
        if 0 < seen.sum() <= 20:
            for point, code in zip(anchor[seen], states.loc[seen, "state"], strict=True):
                ax.text(
                    point.x,
                    point.y,
                    code,
                    fontsize=9,
                    color="#8a8a8a",
                    ha="center",
                    va="center",
                    zorder=4.5,
                    path_effects=HALO,
                )

    def finish(self, notes: Sequence[str] = ()) -> Figure:
        """Fix extents, add scale bar, legend and footnote; return the figure."""
        self._finish_extent()
        y = 1.0
        for title, handles, labels in self._legend:
            legend = self.legend_axes.legend(
                handles,
                labels,
                title=title,
                loc="upper left",
                bbox_to_anchor=(0.0, y),
                frameon=False,
                fontsize=8.5,
                title_fontsize=9.5,
                alignment="left",
                handletextpad=0.6,
                borderaxespad=0.0,
                labelspacing=0.45,
            )
            self.legend_axes.add_artist(legend)
            height = legend.get_window_extent().height / self.legend_axes.get_window_extent().height
            y -= height + 0.04
        projection = "Equal-area projection (NAD83 / Conus Albers, EPSG:5070)"
        if len(self.axes) > 1:
            projection += "; Alaska and Hawaii at their own scale"
        text = ". ".join([projection, *(n[:1].upper() + n[1:] for n in notes)]) + "."
        self.figure.text(
            0.01, 0.02, plain(text), ha="left", va="bottom", fontsize=8, color="#555555", wrap=True
        )
        return self.figure

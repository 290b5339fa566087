"""Static PNG maps, legible at a glance: title, subtitle with the headline numbers,
legend, scale bar in km, equal-area projection, and a footnote saying what is
not on the map (unplaced accounts, reps without a home, places left out).

One function per kind, each taking :class:`~plan_lib.maps.layers.MapLayers` and
returning a :class:`matplotlib.figure.Figure`:

- :func:`books_map`: accounts coloured by book (area = potential), outlines, rep homes;
- :func:`choropleth_map`: potential, whitespace or coverage by state or county;
- :func:`moves_map`: what changed owner since last period, as owner-to-owner flows;
- :func:`attainment_map`: attainment (or pace) by zone, for monitoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely.geometry import Point

from plan_lib.maps import style
from plan_lib.maps.canvas import MapCanvas, panel_of, panels_used
from plan_lib.maps.errors import MapInputError
from plan_lib.maps.layers import MapLayers
from plan_lib.maps.params import MapParams

Measure = Literal["potential", "whitespace", "coverage"]
#: Books are listed one by one in the legend up to this many (all fit beside the map);
#: beyond, the legend explains the colours instead of showing a misleading partial list.
MAX_LEGEND_BOOKS = 12
#: Rep ids are written next to their home star up to this many homes.
MAX_HOME_LABELS = 30
#: Accounts placed at a ZIP point get a dark ring up to this many accounts (beyond, rings are noise).
MAX_RINGED_POINTS = 5_000
ZONE_WORD = {"county": "county", "state": "state"}
ZONE_PLURAL = {"county": "counties", "state": "states"}


def _insets(params: MapParams, *layers) -> list[str]:
    if params.alaska_hawaii != "insets":
        return []
    used = panels_used(*layers)
    return [p for p in ("AK", "HI") if p in used]


def _notes(layers: MapLayers, params: MapParams, shown: list[str]) -> list[str]:
    """What the reader should know is missing or approximate."""
    notes = []
    points = layers.points
    where = (
        panel_of(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
        if len(points)
        else np.array([])
    )
    if len(layers.unlocated):
        notes.append(
            f"{len(layers.unlocated):,} account(s) could not be placed (no usable coordinates or ZIP; "
            "listed in unlocated_accounts.csv)"
        )
    by_zip = int((points["located_by"] == "postal_code").sum()) if "located_by" in points else 0
    if by_zip:
        notes.append(f"{by_zip:,} placed at their ZIP code's point")
    hidden = {p: int((where == p).sum()) for p in ("AK", "HI") if p not in shown}
    hidden = {p: n for p, n in hidden.items() if n}
    if hidden:
        notes.append(
            "not shown: "
            + ", ".join(
                f"{n:,} account(s) in {'Alaska' if p == 'AK' else 'Hawaii'}"
                for p, n in hidden.items()
            )
        )
    other = int((where == "other").sum())
    if other:
        notes.append(f"{other:,} account(s) outside the 50 states are not shown")
    if layers.homes_missing:
        names = ", ".join(layers.homes_missing[:6]) + (
            " ..." if len(layers.homes_missing) > 6 else ""
        )
        notes.append(f"no home on file for {len(layers.homes_missing)} book owner(s): {names}")
    return notes


def _dot(color: str, size: float = 8.0, **kwargs) -> Line2D:
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markerfacecolor=color,
        markeredgecolor="none",
        markersize=size,
        **kwargs,
    )


def _size_legend(
    canvas: MapCanvas, potential: pd.Series, n_points: int, cap: float, color: str = "#777777"
) -> None:
    values = potential[potential > 0]
    if values.empty:
        return
    picks = sorted({float(np.quantile(values, q)) for q in (0.5, 0.9)} | {cap})
    handles = [_dot(color, np.sqrt(style.size_for(v, cap, n_points))) for v in picks]
    labels = [style.money(v) + (" or more" if v == cap else "") for v in picks]
    canvas.legend_group("Potential (marker area)", handles, labels)


# --------------------------------------------------------------------------- books


def books_map(
    layers: MapLayers, params: MapParams | None = None, title: str | None = None
) -> Figure:
    """Accounts coloured by book and sized by potential, territory outlines, rep homes."""
    params = params or MapParams()
    points, outlines, homes, books = layers.points, layers.outlines, layers.homes, layers.books
    palette = style.book_colors(outlines, books["rep_id"])
    insets = _insets(params, points, outlines, homes)
    segments = layers.segments
    if title is None:
        title = "Books of business" + (f": {segments[0]}" if len(segments) == 1 else "")
    spread = books["deviation"].abs().max() if len(books) else np.nan
    subtitle = (
        f"{len(books)} books, {len(points):,} accounts on the map "
        f"({int(points['is_customer'].sum()):,} customers)"
    )
    if np.isfinite(spread):
        subtitle += f"; potential per FTE within \u00b1{spread:.0%} of the segment mean"
    canvas = MapCanvas(params, title, subtitle, insets)
    canvas.basemap()
    edge = np.array([palette[r] for r in outlines["rep_id"]], dtype=object)
    face = np.array([to_rgba(c, 0.10) for c in edge], dtype=object)
    canvas.polygons(
        outlines, "outlines", facecolor=list(face), edgecolor=list(edge), linewidth=1.6, zorder=3
    )

    sizes, cap = style.point_sizes(points["potential"], len(points))
    colors = style.colors_of(points["rep_id"], palette)
    order = np.argsort(-sizes, kind="stable")  # big first, so small accounts stay visible on top
    drawn = points.iloc[order]
    canvas.points(
        drawn,
        "accounts",
        sizes=sizes[order],
        colors=colors[order],
        alpha=0.85,
        linewidths=0,
        zorder=5,
        gid="accounts",
    )
    by_zip = drawn["located_by"].to_numpy() == "postal_code"
    ring = by_zip.sum() > 0 and len(points) <= MAX_RINGED_POINTS
    if ring:
        canvas.points(
            drawn[by_zip],
            "accounts placed by ZIP",
            sizes=sizes[order][by_zip],
            colors="none",
            edgecolors="#222222",
            linewidths=0.7,
            zorder=6,
            extent=False,
            gid="zip_placed",
        )
    if len(homes):
        canvas.points(
            homes,
            "homes",
            sizes=260.0,
            colors=style.colors_of(homes["rep_id"], palette),
            marker="*",
            edgecolors="black",
            linewidths=0.9,
            zorder=8,
            gid="homes",
        )
        if len(homes) <= MAX_HOME_LABELS:
            canvas.labels(homes, "rep_id", "homes")

    if len(books) <= MAX_LEGEND_BOOKS:
        handles = [_dot(palette[r]) for r in books["rep_id"]]
        labels = [
            f"{r}  {style.money(p)}/FTE ({d:+.1%})" if np.isfinite(d) else str(r)
            for r, p, d in zip(
                books["rep_id"], books["potential_per_fte"], books["deviation"], strict=True
            )
        ]
        legend_title = "Books: potential/FTE (vs mean)"
    else:  # a partial list would mislead: say how colours work instead
        handles = [Line2D([], [], linestyle="none")]
        labels = [
            f"{len(books)} books; colours tell neighbouring\nbooks apart (figures: books table)"
        ]
        legend_title = "Books"
    canvas.legend_group(legend_title, handles, labels)
    symbols = [
        Line2D(
            [],
            [],
            marker="*",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=13,
        ),
        Patch(facecolor=to_rgba("#555555", 0.1), edgecolor="#555555", linewidth=1.4),
    ]
    symbol_labels = [
        "rep home",
        f"territory ({'counties holding its accounts' if params.outline == 'counties' else 'hull of its accounts'})",
    ]
    if points["rep_id"].isna().any():
        symbols.append(_dot(style.UNASSIGNED_COLOR))
        symbol_labels.append(f"no book ({int(points['rep_id'].isna().sum()):,} accounts)")
    if ring:
        symbols.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor="none",
                markeredgecolor="#222222",
                markersize=8,
            )
        )
        symbol_labels.append("placed at its ZIP code's point")
    canvas.legend_group("Symbols", symbols, symbol_labels)
    _size_legend(canvas, points["potential"], len(points), cap)
    return canvas.finish(_notes(layers, params, insets))


# --------------------------------------------------------------------------- choropleths

COVERAGE_LABELS = (
    "under 0.5: thin, invest",
    "0.5 - 0.8",
    "0.8 - 1.25: as the segment average",
    "1.25 - 2",
    "over 2: rich",
)


def _classes(values: pd.Series, cmap: str) -> tuple[list, list[Patch], list[str]]:
    """Quantile classes of positive values; zero gets its own pale class."""
    colors, edges, palette = style.quantile_colors(values, cmap)
    handles = [Patch(facecolor=c, edgecolor="#999999", linewidth=0.4) for c in palette[::-1]]
    labels = style.class_labels(edges)[::-1]
    if (values <= 0).any():
        handles.append(Patch(facecolor=style.NO_DATA_COLOR, edgecolor="#999999", linewidth=0.4))
        labels.append("$0")
    return colors, handles, labels


def choropleth_map(
    layers: MapLayers, measure: Measure = "potential", params: MapParams | None = None
) -> Figure:
    """Potential, whitespace (potential of non-customers) or coverage per zone.

    Coverage is ``coverage_index`` (see :func:`~plan_lib.maps.layers.zone_summary`):
    1.0 = staffed like its segments' average, below 1 = thin.
    """
    params = params or MapParams()
    zones, zone = layers.zones, layers.zone
    word, plural = ZONE_WORD[zone], ZONE_PLURAL[zone]
    insets = _insets(params, zones, layers.points)
    if measure == "potential":
        title = f"Potential by {word}"
        total = zones["potential"].sum()
        subtitle = (
            f"{style.money(total)} of potential in {len(zones):,} {plural} (quantile classes)"
        )
        colors, handles, labels = _classes(zones["potential"], style.QUANTITY_CMAP["potential"])
        legend_title = "Potential"
    elif measure == "whitespace":
        title = f"Whitespace by {word}: potential of accounts not yet customers"
        total, share = (
            zones["whitespace"].sum(),
            zones["whitespace"].sum() / max(zones["potential"].sum(), 1e-9),
        )
        subtitle = f"{style.money(total)} of whitespace ({share:.0%} of all potential) in {len(zones):,} {plural}"
        colors, handles, labels = _classes(zones["whitespace"], style.QUANTITY_CMAP["whitespace"])
        legend_title = "Whitespace"
    elif measure == "coverage":
        title = f"Coverage by {word}: rep capacity for the potential there"
        index = zones["coverage_index"].to_numpy(dtype=float)
        colors = style.coverage_colors(zones["coverage_index"])
        nobody = int((index == 0).sum())
        thin = int(((index > 0) & (index < style.COVERAGE_EDGES[0])).sum())
        subtitle = (
            f"FTE per potential, 1.0 = staffed like the segment average. {thin:,} {plural} under 0.5, "
            f"{nobody:,} with no active rep"
        )
        handles = [
            Patch(facecolor=c, edgecolor="#999999", linewidth=0.4)
            for c in style.COVERAGE_COLORS[::-1]
        ]
        labels = list(COVERAGE_LABELS[::-1])
        handles.append(Patch(facecolor=style.NOBODY_COLOR, edgecolor="#999999", linewidth=0.4))
        labels.append("no active rep (open seat or unassigned)")
        legend_title = "Coverage index"
    else:
        raise ValueError(
            f"measure must be 'potential', 'whitespace' or 'coverage', got {measure!r}"
        )
    canvas = MapCanvas(params, title, subtitle, insets)
    canvas.basemap()
    canvas.polygons(
        zones,
        "zones",
        facecolor=colors,
        edgecolor="white",
        linewidth=0.25 if zone == "county" else 0.6,
        zorder=2,
    )
    canvas.state_lines()
    handles.append(Patch(facecolor=style.LAND_COLOR, edgecolor=style.BORDER_COLOR, linewidth=0.4))
    labels.append("no accounts")
    canvas.legend_group(legend_title, handles, labels)
    if measure == "coverage" and len(layers.homes):
        canvas.points(
            layers.homes,
            "homes",
            sizes=22.0,
            colors="black",
            marker="^",
            linewidths=0,
            zorder=7,
            extent=False,
            gid="homes",
        )
        canvas.legend_group(
            "Symbols",
            [Line2D([], [], marker="^", linestyle="none", color="black", markersize=5)],
            ["rep home"],
        )
    return canvas.finish(_notes(layers, params, insets))


# --------------------------------------------------------------------------- moves


def moves_map(
    layers: MapLayers, params: MapParams | None = None, title: str = "Moves since last period"
) -> Figure:
    """Accounts that changed owner against the layers' baseline, and owner-to-owner flows.

    The baseline is last period's owner; for :meth:`MapLayers.against_draft` it is
    the draft's, and ``title`` says so.

    Each arrow runs from the previous owner's home to the new owner's (width =
    potential moved); the moved accounts are coloured by their new book. Only
    the ``max_flow_lines`` largest flows are drawn, and the subtitle says so.
    """
    params = params or MapParams()
    points, flows, homes = layers.points, layers.moves, layers.homes
    moved = points[points["moved"]]
    palette = style.book_colors(layers.outlines, layers.books["rep_id"])
    insets = _insets(params, points, homes)
    total_pot = max(points["potential"].sum(), 1e-9)
    subtitle = (
        f"{len(moved):,} of {len(points):,} accounts moved ({len(moved) / max(len(points), 1):.1%}), "
        f"{style.money(moved['potential'].sum())} of potential ({moved['potential'].sum() / total_pot:.1%})"
    )
    new = int((points["previous_rep_id"].isna() & points["rep_id"].notna()).sum())
    if new:
        subtitle += f"; {new:,} previously unowned accounts assigned"
    shown = flows.head(params.max_flow_lines)
    subtitle += f"; {len(flows):,} owner-to-owner flows" + (
        f" (largest {len(shown)} drawn)" if len(shown) < len(flows) else ""
    )
    canvas = MapCanvas(params, title, subtitle, insets)
    canvas.basemap()
    canvas.points(
        points[~points["moved"]],
        "accounts",
        sizes=4.0 if len(points) < 5000 else 1.0,
        colors="#b0b0b0",
        alpha=0.5,
        linewidths=0,
        zorder=3,
        gid="kept",
    )
    sizes, cap = style.point_sizes(moved["potential"], max(len(moved), 300))
    canvas.points(
        moved,
        "moved accounts",
        sizes=sizes,
        colors=style.colors_of(moved["rep_id"], palette),
        edgecolors="black",
        linewidths=0.4,
        zorder=6,
        gid="moved",
    )
    widest = max(float(shown["potential"].max()) if len(shown) else 1.0, 1e-9)
    for flow in shown.itertuples():
        (x0, y0), (x1, y1) = flow.geometry.coords[0], flow.geometry.coords[-1]
        start, end = (
            panel_of(np.array([x0]), np.array([y0]))[0],
            panel_of(np.array([x1]), np.array([y1]))[0],
        )
        if start != end or start not in canvas.axes or (x0, y0) == (x1, y1):
            continue
        (px0, px1), (py0, py1) = canvas.project(np.array([x0, x1]), np.array([y0, y1]), start)
        width = 0.8 + 5.0 * flow.potential / widest
        canvas.axes[start].annotate(
            "",
            xy=(px1, py1),
            xytext=(px0, py0),
            zorder=7,
            gid="flow",
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#333333",
                "alpha": 0.75,
                "lw": width,
                "shrinkA": 6,
                "shrinkB": 9,
                "mutation_scale": 9 + 2 * width,
                "connectionstyle": "arc3,rad=0.18",
            },
        )
    if len(homes):
        canvas.points(
            homes,
            "homes",
            sizes=200.0,
            colors=style.colors_of(homes["rep_id"], palette),
            marker="*",
            edgecolors="black",
            linewidths=0.8,
            zorder=8,
            gid="homes",
        )
        if len(homes) <= MAX_HOME_LABELS:
            canvas.labels(homes, "rep_id", "homes")
    symbols = [
        _dot("#b0b0b0", 5),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor="#4e79a7",
            markeredgecolor="black",
            markersize=8,
        ),
        Line2D([0, 1], [0, 0], color="#333333", lw=2.5),
        Line2D(
            [],
            [],
            marker="*",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=13,
        ),
    ]
    symbol_labels = [
        "kept its owner",
        "moved (colour = new book)",
        "flow old -> new owner (width = potential)",
        "rep home",
    ]
    homeless = _homeless_ends(shown)
    if len(homeless):
        canvas.points(
            homeless,
            "owners without a home",
            sizes=90.0,
            colors="white",
            marker="D",
            edgecolors="black",
            linewidths=1.0,
            zorder=8,
            gid="homeless",
        )
        canvas.labels(homeless, "rep_id", "owners without a home", fontstyle="italic")
        symbols.append(
            Line2D(
                [],
                [],
                marker="D",
                linestyle="none",
                markerfacecolor="white",
                markeredgecolor="black",
                markersize=7,
            )
        )
        symbol_labels.append("no home on file: centre of the book")
    canvas.legend_group("Symbols", symbols, symbol_labels)
    if len(shown):
        top = shown.head(8)
        canvas.legend_group(
            "Largest flows",
            [
                Line2D([0, 1], [0, 0], color="#333333", lw=0.8 + 5.0 * p / widest)
                for p in top["potential"]
            ],
            [
                f"{a} -> {b}: {n} acct, {style.money(p)}"
                for a, b, n, p in zip(
                    top["previous_rep_id"],
                    top["rep_id"],
                    top["n_accounts"],
                    top["potential"],
                    strict=True,
                )
            ],
        )
    return canvas.finish(_notes(layers, params, insets))


def _homeless_ends(flows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The flow ends that are not a home (an owner without one), one point per owner."""
    ends: dict[str, Point] = {}
    for flow in flows.itertuples():
        if not flow.from_home:
            ends.setdefault(flow.previous_rep_id, Point(flow.geometry.coords[0]))
        if not flow.to_home:
            ends.setdefault(flow.rep_id, Point(flow.geometry.coords[-1]))
    return gpd.GeoDataFrame({"rep_id": list(ends)}, geometry=list(ends.values()), crs=flows.crs)


# --------------------------------------------------------------------------- attainment


def attainment_map(layers: MapLayers, params: MapParams | None = None) -> Figure:
    """Attainment by zone: bookings over quota, or over the quota due by now when
    ``params.elapsed_share`` is set (then 1.0 = on pace)."""
    params = params or MapParams()
    zones = layers.attainment
    if zones is None:
        raise MapInputError(
            "attainment",
            "no attainment table was given",
            "Pass bookings and quota per zone from the monitoring step (attainment=...).",
        )
    word = ZONE_WORD[layers.zone]
    paced = params.elapsed_share is not None and params.elapsed_share > 0
    value = zones["attainment"] / params.elapsed_share if paced else zones["attainment"]
    bookings, quota = zones["bookings"].sum(), zones["quota"].sum()
    subtitle = f"Bookings {style.money(bookings)} of quota {style.money(quota)} ({bookings / max(quota, 1e-9):.0%})"
    if paced:
        subtitle += (
            f"; {params.elapsed_share:.0%} of the period elapsed, colours compare with that pace"
        )
    colors = style.pace_colors(value)
    edges = style.PACE_EDGES
    insets = _insets(params, zones)
    canvas = MapCanvas(
        params, f"Attainment by {word}" + (" against pace" if paced else ""), subtitle, insets
    )
    canvas.basemap()
    canvas.polygons(
        zones,
        "zones",
        facecolor=colors,
        edgecolor="white",
        linewidth=0.25 if layers.zone == "county" else 0.6,
        zorder=2,
    )
    canvas.state_lines()
    unit = "of pace" if paced else "of quota"
    labels = [
        f"under {edges[0]:.0%} {unit}",
        f"{edges[0]:.0%} - {edges[1]:.0%}",
        f"{edges[1]:.0%} - {edges[2]:.0%}",
        f"{edges[2]:.0%} - {edges[3]:.0%}",
        f"over {edges[3]:.0%}",
    ]
    handles = [
        Patch(facecolor=c, edgecolor="#999999", linewidth=0.4) for c in style.PACE_COLORS[::-1]
    ]
    handles += [
        Patch(facecolor=style.NO_DATA_COLOR, edgecolor="#999999", linewidth=0.4),
        Patch(facecolor=style.LAND_COLOR, edgecolor=style.BORDER_COLOR, linewidth=0.4),
    ]
    canvas.legend_group(
        "Attainment" + (" / pace" if paced else ""),
        handles,
        [*labels[::-1], "no quota", f"no data for the {word}"],
    )
    notes = []
    if layers.attainment_unmatched:
        notes.append(
            f"{len(layers.attainment_unmatched)} zone id(s) match no {word} and are not shown: "
            + ", ".join(layers.attainment_unmatched[:5])
        )
    return canvas.finish(notes)


def save_png(figure: Figure, path: str | Path, *, optimize: bool = False) -> Path:
    """Write the figure as PNG (white background), creating the folder.

    ``optimize`` shrinks the file by about a fifth for about 0.3 s more per map:
    worth it for pictures committed to the repository, not for every run.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", facecolor="white", pil_kwargs={"optimize": optimize})
    return path

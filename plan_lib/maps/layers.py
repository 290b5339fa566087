"""GeoDataFrames the maps are drawn from: one builder per layer, all in EPSG:4269.

Builders are pure (frames in, frames out) and know nothing about matplotlib or
Leaflet, so the static PNGs and the dashboards show the same numbers. Inputs:

- ``accounts``: contract columns joined with the scores (``potential``, ``segment``);
- ``reps``: contract columns (``home_lat``, ``home_lon``, ``capacity_fte``, ``status``...);
- ``assignments``: ``account_id``, ``rep_id`` (+ ``previous_rep_id``, ``moved``);
- ``books``: one row per book owner (``rep_id`` + optional ``segment``, ``fte``,
  ``potential``, ``potential_per_fte``, ``deviation``);
- ``attainment`` (monitoring): bookings and quota per state or county.

:func:`build_layers` assembles them all into a :class:`MapLayers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from plan_lib.maps import boundaries
from plan_lib.maps.crs import AREA_CRS, INPUT_CRS
from plan_lib.maps.errors import MapInputError
from plan_lib.maps.locate import locate_accounts
from plan_lib.maps.params import MapParams

ZONE_KEY = {"county": "county_fips", "state": "state"}


def require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str], fix: str) -> None:
    """Stop with a message naming the frame, the missing columns and the fix."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MapInputError(name, f"missing column(s) {', '.join(repr(c) for c in missing)}", fix)


def _as_bool(values: pd.Series) -> pd.Series:
    """Booleans from a validated bool column or raw text (true/1/yes); missing is False."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("str").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "y", "t"]).fillna(False).astype(bool)


def _rep_text(values: pd.Series) -> pd.Series:
    text = values.astype("str").str.strip()
    return text.where(text != "")


# --------------------------------------------------------------------------- points


def account_points(located: pd.DataFrame, assignments: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """One point per placed account, with its book (``rep_id``) and last period's owner.

    ``previous_rep_id`` comes from the assignments when given there, else from the
    account's ``current_owner``; ``moved`` likewise (else: both owners known and
    different). Accounts absent from the assignments have no book (grey on maps).
    """
    require_columns(
        located,
        "accounts",
        ["account_id", "potential", "is_customer"],
        "Join the scores (potential) to the validated accounts before drawing maps.",
    )
    keep = [
        c
        for c in (
            "account_id",
            "name",
            "segment",
            "potential",
            "is_customer",
            "current_arr",
            "current_owner",
            "state",
            "county_fips",
            "postal_code",
            "located_by",
            "lat",
            "lon",
        )
        if c in located
    ]
    frame = located[keep].copy()
    frame["potential"] = (
        pd.to_numeric(frame["potential"], errors="coerce").fillna(0.0).astype(float)
    )
    frame["is_customer"] = _as_bool(frame["is_customer"])
    frame["current_arr"] = (
        pd.to_numeric(frame["current_arr"], errors="coerce").fillna(0.0)
        if "current_arr" in frame
        else 0.0
    )
    owner = (
        _rep_text(frame["current_owner"])
        if "current_owner" in frame
        else pd.Series(pd.NA, index=frame.index, dtype="str")
    )
    if assignments is not None:
        require_columns(
            assignments,
            "assignments",
            ["account_id", "rep_id"],
            "Pass the assignments written by the balance step.",
        )
        if assignments["account_id"].duplicated().any():
            dup = (
                assignments.loc[assignments["account_id"].duplicated(), "account_id"]
                .head(5)
                .tolist()
            )
            raise MapInputError(
                "assignments",
                f"account(s) assigned twice, e.g. {dup}",
                "An account belongs to exactly one book; fix the assignment table.",
            )
        extra = [
            c for c in ("previous_rep_id", "moved", "reason", "draft_rep_id") if c in assignments
        ]
        table = assignments[["account_id", "rep_id", *extra]].astype({"account_id": "str"})
        frame = frame.astype({"account_id": "str"}).merge(
            table, on="account_id", how="left", validate="one_to_one"
        )
        frame.index = located.index
    else:
        frame["rep_id"] = owner
    frame["rep_id"] = _rep_text(frame["rep_id"])
    previous = _rep_text(frame["previous_rep_id"]) if "previous_rep_id" in frame else owner
    frame["previous_rep_id"] = previous.fillna(owner) if "previous_rep_id" in frame else previous
    computed = (
        frame["previous_rep_id"].notna()
        & frame["rep_id"].notna()
        & (frame["previous_rep_id"] != frame["rep_id"])
    )
    if "moved" in frame:
        given = frame["moved"]
        frame["moved"] = _as_bool(given).where(given.notna(), computed).astype(bool)
    else:
        frame["moved"] = computed.astype(bool)
    frame = frame.drop(columns=[c for c in ("current_owner",) if c in frame])
    geometry = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geometry, crs=INPUT_CRS)


# --------------------------------------------------------------------------- books and homes


def book_table(
    points: gpd.GeoDataFrame, reps: pd.DataFrame, books: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per book owner: who, segment, FTE, status and the book's figures.

    Figures given by the balance step (``potential``, ``potential_per_fte``,
    ``deviation``, ``fte``, ``segment``) are the authority (they count unplaced
    accounts too); missing ones come from the reps table (``capacity_fte``,
    ``segment``, ``status``) or are computed from the placed accounts.
    ``n_located`` says how many of the book's accounts are on the map.
    """
    require_columns(reps, "reps", ["rep_id"], "Pass the validated reps table.")
    owners = set(points["rep_id"].dropna())
    if books is not None:
        require_columns(
            books, "books", ["rep_id"], "Pass the books table written by the balance step."
        )
        owners |= set(_rep_text(books["rep_id"]).dropna())
    table = pd.DataFrame({"rep_id": pd.Series(sorted(owners), dtype="str")})
    rep_columns = [c for c in ("name", "segment", "region", "status", "capacity_fte") if c in reps]
    table = table.merge(
        reps[["rep_id", *rep_columns]].astype({"rep_id": "str"}), on="rep_id", how="left"
    )
    if books is not None:
        given = books.drop(
            columns=[c for c in ("name", "region", "status", "capacity_fte") if c in books]
        )
        table = table.merge(
            given.astype({"rep_id": "str"}), on="rep_id", how="left", suffixes=("_rep", "")
        )
        if "segment_rep" in table:  # the book's segment wins, the rep's fills gaps
            table["segment"] = table["segment"].fillna(table.pop("segment_rep"))

    def column(name: str, default: object) -> pd.Series:
        return table[name] if name in table else pd.Series(default, index=table.index)

    grouped = points.groupby("rep_id")
    stats = pd.DataFrame(
        {
            "n_located": grouped["account_id"].size(),
            "located_potential": grouped["potential"].sum(),
            "n_customers": grouped["is_customer"].sum(),
            "arr": grouped["current_arr"].sum(),
        }
    )
    table = table.merge(stats, left_on="rep_id", right_index=True, how="left")
    table[["n_located", "n_customers"]] = table[["n_located", "n_customers"]].fillna(0).astype(int)
    table[["located_potential", "arr"]] = table[["located_potential", "arr"]].fillna(0.0)
    segment = column("segment", pd.NA).astype("str")
    if "segment" in points:
        segment = segment.fillna(
            table["rep_id"].map(
                grouped["segment"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else pd.NA)
            )
        )
    table["segment"] = segment.astype("str")
    capacity = pd.to_numeric(column("capacity_fte", np.nan), errors="coerce")
    table["fte"] = (
        pd.to_numeric(column("fte", np.nan), errors="coerce")
        .fillna(capacity)
        .fillna(1.0)
        .astype(float)
    )
    table["potential"] = (
        pd.to_numeric(column("potential", np.nan), errors="coerce")
        .fillna(table["located_potential"])
        .astype(float)
    )
    computed = table["potential"] / table["fte"].where(table["fte"] > 0)
    table["potential_per_fte"] = pd.to_numeric(
        column("potential_per_fte", np.nan), errors="coerce"
    ).fillna(computed)
    computed = (
        table["potential_per_fte"] / table.groupby("segment")["potential_per_fte"].transform("mean")
        - 1.0
    )
    table["deviation"] = pd.to_numeric(column("deviation", np.nan), errors="coerce").fillna(
        computed
    )
    table["status"] = column("status", "active").astype("str").fillna("active")
    table = table.drop(columns=[c for c in ("capacity_fte",) if c in table])
    return table.sort_values("rep_id").reset_index(drop=True)


def rep_homes(reps: pd.DataFrame, table: pd.DataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Home points of the book owners, with their book's figures; and owners without a home.

    Open headcount usually has no home yet: those rep_ids are returned, not dropped,
    so the map can say whose star is missing.
    """
    require_columns(
        reps, "reps", ["rep_id", "home_lat", "home_lon"], "Pass the validated reps table."
    )
    homes = reps[["rep_id", "home_lat", "home_lon"]].astype({"rep_id": "str"})
    frame = table.merge(homes, on="rep_id", how="left")
    lat = pd.to_numeric(frame["home_lat"], errors="coerce")
    lon = pd.to_numeric(frame["home_lon"], errors="coerce")
    has_home = lat.notna() & lon.notna() & ~((lat == 0) & (lon == 0))
    missing = frame.loc[~has_home, "rep_id"].tolist()
    placed = frame[has_home].drop(columns=["home_lat", "home_lon"]).reset_index(drop=True)
    geometry = gpd.points_from_xy(lon[has_home], lat[has_home])
    return gpd.GeoDataFrame(placed, geometry=geometry, crs=INPUT_CRS), missing


# --------------------------------------------------------------------------- outlines


def territory_outlines(
    points: gpd.GeoDataFrame,
    table: pd.DataFrame,
    method: str = "counties",
    hull_buffer_km: float = 10.0,
) -> gpd.GeoDataFrame:
    """One (multi)polygon per book that has at least one placed account.

    ``counties`` (default): the counties holding at least one of the book's
    accounts, dissolved. Chosen over a hull because it follows borders planners
    know, a lone far account adds one county rather than a huge triangle, and its
    area is the Census land area. Books sharing a county overlap there, which is
    the truth (``shared_counties`` counts them); maps draw outlines as lines so
    overlaps stay readable. Accounts outside every county fall back to a hull.

    ``hull``: convex hull of the book's accounts in the equal-area CRS, buffered
    by ``hull_buffer_km`` (so a book of one account still has an area).
    """
    assigned = points[points["rep_id"].notna()]
    segment_of = table.set_index("rep_id")["segment"]
    pieces: list[gpd.GeoDataFrame] = []
    hull_points = assigned
    if method == "counties":
        counties = boundaries.counties()
        pairs = assigned[["rep_id", "county_fips"]].dropna().drop_duplicates()
        pairs = pairs[pairs["county_fips"].isin(set(counties["county_fips"]))]
        shapes = counties[["county_fips", "land_area_km2", "geometry"]].merge(
            pairs, on="county_fips"
        )
        if len(shapes):
            pairs_seg = pairs.assign(segment=pairs["rep_id"].map(segment_of))
            holders = pairs_seg.groupby(["segment", "county_fips"])["rep_id"].transform("size")
            shared = pairs_seg.assign(shared=holders > 1).groupby("rep_id")["shared"].sum()
            dissolved = shapes.dissolve(
                by="rep_id",
                method="coverage",
                aggfunc={"county_fips": "size", "land_area_km2": "sum"},
            )
            dissolved = dissolved.rename(
                columns={"county_fips": "n_counties", "land_area_km2": "area_km2"}
            )
            dissolved["shared_counties"] = shared.reindex(dissolved.index).fillna(0).astype(int)
            dissolved["outline_method"] = "counties"
            pieces.append(dissolved.reset_index())
        hull_points = assigned[~assigned["rep_id"].isin(set(shapes["rep_id"]))]
    elif method != "hull":
        raise ValueError(f"outline method must be 'counties' or 'hull', got {method!r}")
    if len(hull_points):
        projected = hull_points[["rep_id", "geometry"]].to_crs(AREA_CRS)
        hulls = projected.dissolve(by="rep_id").convex_hull.buffer(
            max(hull_buffer_km, 0.5) * 1000.0
        )
        frame = gpd.GeoDataFrame(
            {"rep_id": hulls.index, "area_km2": hulls.area / 1e6},
            geometry=hulls.values,
            crs=AREA_CRS,
        )
        frame["n_counties"] = (
            hull_points.groupby("rep_id")["county_fips"]
            .nunique()
            .reindex(frame["rep_id"])
            .to_numpy()
        )
        frame["shared_counties"] = 0
        frame["outline_method"] = "hull"
        pieces.append(frame.to_crs(INPUT_CRS))
    if not pieces:
        return gpd.GeoDataFrame({"rep_id": pd.Series(dtype="str")}, geometry=[], crs=INPUT_CRS)
    outlines = pd.concat(pieces, ignore_index=True)
    outlines = outlines.merge(table, on="rep_id", how="left")
    return (
        gpd.GeoDataFrame(outlines, geometry="geometry", crs=INPUT_CRS)
        .sort_values("rep_id")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------- zones


def zone_summary(
    points: gpd.GeoDataFrame, table: pd.DataFrame, zone: str = "county"
) -> gpd.GeoDataFrame:
    """Potential, whitespace and coverage per state or county holding placed accounts.

    - ``potential``: sum over the zone's accounts; ``whitespace``: the part held by
      non-customers (where new logos can come from).
    - ``fte``: each rep's FTE spread over zones in proportion to the potential of
      their book there (by account count for a book without potential).
    - ``coverage_index``: sum over segments of the zone's FTE times that segment's
      potential per FTE, over the zone's potential. 1.0 = staffed like the segment
      average; 0.5 = half the capacity its potential calls for (invest here);
      0 = nobody. Per segment, so a zone of Enterprise accounts is not judged by
      the SMB norm. Only active reps count as capacity in the zone (an open seat
      is not selling yet); the norm counts every planned FTE.
    - ``covered_share``: share of the zone's potential owned by an active rep with FTE > 0.
    """
    key = ZONE_KEY[zone]
    book = table.set_index("rep_id")
    frame = pd.DataFrame(
        {
            "zone_id": points[key].astype("str"),
            "rep_id": points["rep_id"],
            "potential": points["potential"].to_numpy(),
            "is_customer": points["is_customer"].to_numpy(),
            "arr": points["current_arr"].to_numpy(),
        }
    )
    point_segment = (
        points["segment"].astype("str")
        if "segment" in points
        else pd.Series(pd.NA, index=points.index, dtype="str")
    )
    frame["segment"] = frame["rep_id"].map(book["segment"]).fillna(point_segment).fillna("(none)")
    fte = frame["rep_id"].map(book["fte"]).fillna(0.0)
    active = frame["rep_id"].map(book["status"]).isin(["active"]) & (fte > 0)
    book_potential = frame.groupby("rep_id")["potential"].transform("sum")
    book_count = frame.groupby("rep_id")["potential"].transform("size")
    weight = np.where(
        book_potential > 0,
        frame["potential"] / book_potential.where(book_potential > 0),
        1.0 / book_count,
    )
    frame["fte"] = np.where(frame["rep_id"].notna(), fte * weight, 0.0)
    frame["covered_potential"] = frame["potential"].where(active, 0.0)
    frame["whitespace"] = frame["potential"].where(~frame["is_customer"], 0.0)
    # Norm: the plan's potential per FTE of the segment (open seats count: they are
    # planned capacity). Zone capacity: active reps only, so a zone served by an
    # open seat shows as uncovered until someone is hired.
    seg_norm = frame.groupby("segment")["potential"].sum() / frame.groupby("segment")[
        "fte"
    ].sum().replace(0.0, np.nan)
    frame["fte_value"] = frame["fte"].where(active, 0.0) * frame["segment"].map(seg_norm).fillna(
        0.0
    )
    frame = frame.dropna(subset=["zone_id"])
    summary = frame.groupby("zone_id").agg(
        n_accounts=("potential", "size"),
        n_customers=("is_customer", "sum"),
        potential=("potential", "sum"),
        whitespace=("whitespace", "sum"),
        customer_arr=("arr", "sum"),
        fte=("fte", "sum"),
        covered_potential=("covered_potential", "sum"),
        fte_value=("fte_value", "sum"),
    )
    summary["n_customers"] = summary["n_customers"].astype(int)
    positive = summary["potential"].where(summary["potential"] > 0)
    summary["coverage_index"] = summary.pop("fte_value") / positive
    summary["covered_share"] = summary.pop("covered_potential") / positive
    summary["potential_per_fte"] = summary["potential"] / summary["fte"].where(summary["fte"] > 0)
    shapes = boundaries.zones(zone)[["zone_id", "zone_name", "state", "geometry"]]
    joined = shapes.merge(summary.reset_index(), on="zone_id", how="inner")
    return (
        gpd.GeoDataFrame(joined, geometry="geometry", crs=INPUT_CRS)
        .sort_values("zone_id")
        .reset_index(drop=True)
    )


def attainment_zones(
    attainment: pd.DataFrame, zone: str = "county", elapsed_share: float | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Attainment (bookings / quota) per zone, with the zones that matched no boundary.

    ``attainment`` holds ``bookings`` and ``quota`` keyed by ``state`` (zone
    'state') or ``county_fips`` (zone 'county'), or by ``zone_id``. With
    ``elapsed_share``, ``pace_index`` = attainment / elapsed share (1.0 = on pace).
    """
    key = ZONE_KEY[zone]
    column = key if key in attainment else "zone_id"
    require_columns(
        attainment,
        "attainment",
        [column, "bookings", "quota"],
        f"Give bookings and quota per {zone} (a '{key}' column), from the monitoring step.",
    )
    frame = attainment.assign(zone_id=attainment[column].astype("str").str.strip().str.upper())
    if zone == "county":
        frame["zone_id"] = frame["zone_id"].str.zfill(5)
    frame = frame.groupby("zone_id")[["bookings", "quota"]].sum(min_count=1).reset_index()
    frame["attainment"] = frame["bookings"] / frame["quota"].where(frame["quota"] > 0)
    frame["pace_index"] = frame["attainment"] / elapsed_share if elapsed_share else np.nan
    shapes = boundaries.zones(zone)[["zone_id", "zone_name", "state", "geometry"]]
    unmatched = sorted(set(frame["zone_id"]) - set(shapes["zone_id"]))
    joined = shapes.merge(frame, on="zone_id", how="inner")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=INPUT_CRS).sort_values(
        "zone_id"
    ).reset_index(drop=True), unmatched


# --------------------------------------------------------------------------- moves


def move_flows(points: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One line per (previous owner, new owner) pair with moved accounts, old home -> new home.

    Aggregated by pair rather than one line per account: a hundred accounts moving
    between the same two reps are one decision and one line (width = potential
    moved). Where an owner has no home on file (open headcount, a rep who left),
    that end is the centre of the owner's book (or, for a rep who left, of the
    accounts they owned), the same point for all their flows, flagged by
    ``from_home`` / ``to_home`` = False. Accounts that had no owner before are
    not moves (not listed).
    """
    moved = points[points["moved"] & points["previous_rep_id"].notna() & points["rep_id"].notna()]
    columns = [
        "previous_rep_id",
        "rep_id",
        "n_accounts",
        "potential",
        "arr",
        "from_home",
        "to_home",
    ]
    if moved.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=INPUT_CRS)
    flows = (
        moved.groupby(["previous_rep_id", "rep_id"])
        .agg(
            n_accounts=("account_id", "size"),
            potential=("potential", "sum"),
            arr=("current_arr", "sum"),
        )
        .reset_index()
    )
    home = homes.set_index("rep_id").geometry
    flows["from_home"] = flows["previous_rep_id"].isin(home.index)
    flows["to_home"] = flows["rep_id"].isin(home.index)
    homeless = sorted((set(flows["previous_rep_id"]) | set(flows["rep_id"])) - set(home.index))
    anchor = dict(home.items()) | book_centres(points, homeless)
    lines = [
        LineString([anchor[a], anchor[b]])
        for a, b in zip(flows["previous_rep_id"], flows["rep_id"], strict=True)
    ]
    frame = gpd.GeoDataFrame(flows, geometry=lines, crs=INPUT_CRS)
    return frame.sort_values(
        ["potential", "previous_rep_id", "rep_id"], ascending=[False, True, True]
    ).reset_index(drop=True)


def book_centres(points: gpd.GeoDataFrame, rep_ids: Sequence[str]) -> dict[str, object]:
    """Centre (mean in the equal-area CRS) of each rep's book, else of the accounts
    they owned last period: where a rep without a home "is" on a map."""
    if not len(rep_ids):
        return {}
    projected = points.to_crs(AREA_CRS)
    xy = pd.DataFrame(
        {
            "x": projected.geometry.x,
            "y": projected.geometry.y,
            "rep_id": points["rep_id"],
            "previous_rep_id": points["previous_rep_id"],
        }
    )
    current = xy.groupby("rep_id")[["x", "y"]].mean()
    previous = xy.groupby("previous_rep_id")[["x", "y"]].mean()
    centre = (
        pd.concat([current, previous[~previous.index.isin(current.index)]])
        .reindex(list(rep_ids))
        .dropna()
    )
    located = gpd.GeoSeries(
        gpd.points_from_xy(centre["x"], centre["y"]), index=centre.index, crs=AREA_CRS
    ).to_crs(INPUT_CRS)
    return dict(located.items())


# --------------------------------------------------------------------------- all together


@dataclass(frozen=True)
class MapLayers:
    """Everything a territory map can show, built once per run (all EPSG:4269)."""

    points: gpd.GeoDataFrame
    """One row per placed account (``rep_id`` = its book; ``moved``; ``located_by``)."""
    unlocated: pd.DataFrame
    """Accounts that could not be placed, with ``reason``."""
    books: pd.DataFrame
    """One row per book owner with segment, fte, status and the book's figures."""
    homes: gpd.GeoDataFrame
    """Home point of each book owner that has one."""
    homes_missing: list[str]
    """Book owners without a home on file (open headcount, mostly)."""
    outlines: gpd.GeoDataFrame
    """One outline per book with at least one placed account."""
    zones: gpd.GeoDataFrame
    """Potential, whitespace and coverage per zone holding placed accounts."""
    moves: gpd.GeoDataFrame
    """One line per (previous owner, new owner) pair with moved accounts."""
    zone: str = "county"
    attainment: gpd.GeoDataFrame | None = None
    """Attainment per zone (monitoring only)."""
    attainment_unmatched: list[str] = field(default_factory=list)
    """Attainment zone ids that match no boundary (left off the map)."""

    @property
    def segments(self) -> list[str]:
        """Segments with at least one book, sorted."""
        return sorted(s for s in self.books["segment"].dropna().unique() if s != "")

    @property
    def has_draft(self) -> bool:
        """Whether the points know their draft owner (a lock run's refined plan)."""
        return "draft_rep_id" in self.points

    def against_draft(self) -> MapLayers:
        """The same plan with the *draft* as the baseline: moves are the review's edits.

        A lock run's assignments carry ``draft_rep_id``; an account moved when its
        locked owner differs from the draft's, and the flows run between them.
        """
        if not self.has_draft:
            raise MapInputError(
                "assignments",
                "no draft_rep_id column, so the review's moves are unknown",
                "Pass the refined assignments of a lock run (they carry draft_rep_id).",
            )
        points = self.points.copy()
        points["previous_rep_id"] = _rep_text(points["draft_rep_id"])
        points["moved"] = (
            points["previous_rep_id"].notna()
            & points["rep_id"].notna()
            & (points["previous_rep_id"] != points["rep_id"])
        ).astype(bool)
        return replace(self, points=points, moves=move_flows(points, self.homes))

    def for_segment(self, segment: str) -> MapLayers:
        """The books of one segment: their accounts, homes, outlines and moves.

        Zones and attainment stay whole (they describe the company); unplaced
        accounts are kept when their own ``segment`` column says this segment.
        """
        reps = set(self.books.loc[self.books["segment"] == segment, "rep_id"])
        own = self.points["rep_id"].isin(reps)
        if "segment" in self.points:
            own |= self.points["rep_id"].isna() & (self.points["segment"] == segment)
        return replace(
            self,
            points=self.points[own].reset_index(drop=True),
            books=self.books[self.books["rep_id"].isin(reps)].reset_index(drop=True),
            homes=self.homes[self.homes["rep_id"].isin(reps)].reset_index(drop=True),
            homes_missing=[r for r in self.homes_missing if r in reps],
            outlines=self.outlines[self.outlines["rep_id"].isin(reps)].reset_index(drop=True),
            moves=self.moves[self.moves["rep_id"].isin(reps)].reset_index(drop=True),
            unlocated=(
                self.unlocated[self.unlocated["segment"] == segment]
                if "segment" in self.unlocated
                else self.unlocated
            ),
        )


def build_layers(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    assignments: pd.DataFrame | None,
    books: pd.DataFrame | None = None,
    params: MapParams | None = None,
    attainment: pd.DataFrame | None = None,
) -> MapLayers:
    """Place the accounts and build every layer (see the module docstring for inputs)."""
    params = params or MapParams()
    require_columns(
        accounts,
        "accounts",
        ["account_id", "potential", "is_customer"],
        "Join the scores (potential) to the validated accounts before drawing maps.",
    )
    located, unlocated = locate_accounts(accounts)
    points = account_points(located, assignments)
    table = book_table(points, reps, books)
    homes, homes_missing = rep_homes(reps, table)
    outlines = territory_outlines(points, table, params.outline, params.hull_buffer_km)
    zones = zone_summary(points, table, params.zone)
    moves = move_flows(points, homes)
    zone_attainment: gpd.GeoDataFrame | None = None
    unmatched: list[str] = []
    if attainment is not None:
        zone_attainment, unmatched = attainment_zones(attainment, params.zone, params.elapsed_share)
    return MapLayers(
        points=points,
        unlocated=unlocated,
        books=table,
        homes=homes,
        homes_missing=homes_missing,
        outlines=outlines,
        zones=zones,
        moves=moves,
        zone=params.zone,
        attainment=zone_attainment,
        attainment_unmatched=unmatched,
    )

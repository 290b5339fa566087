"""The review dashboard's Map tab: the user's accounts on an interactive map, selecting feeds the move action.

A panel of its own because the map needs geopandas, ipyleaflet and the Census
shapes (seconds on first use) that the page must not pay at load: the panel
imports ``plan_lib.maps`` and draws only when its tab is first opened, then
redraws when the owners it shows change (a move, a refresh showing others' edits).

Access: everything drawn comes from the frames the dashboard got from its
``ReviewSession`` (accounts, books and reps in scope). The run folder is read
only for the location columns of those accounts, by id, so nothing outside the
user's scope reaches the map. A selection on the map only proposes ids to the
dashboard, which keeps those it holds; every move still goes through
``ReviewSession.reassign`` with the etag the user saw.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd
import pyarrow.parquet as pq

from plan_lib.errors import TqpError
from plan_lib.review.access import ReviewSession
from plan_lib.rundir import RunFolder

if TYPE_CHECKING:  # imported on first draw: plan_lib.maps pulls in geopandas and ipyleaflet
    from plan_lib.maps.interactive import AccountSelectionMap
    from plan_lib.maps.layers import MapLayers
    from plan_lib.maps.params import MapParams

ALL = ""
LOCATION_COLUMNS = ("lat", "lon", "postal_code", "county_fips", "country")
BOOK_COLUMNS = ("rep_id", "segment", "fte", "potential", "potential_per_fte", "deviation")
MAP_HEIGHT = "520px"
#: ``plan_lib.maps.locate.locate_accounts`` fails when *every* account has
#: coordinates (it assigns an empty object array into a float column). One row
#: without any location keeps it on its working path; it is removed from the
#: layers again. Drop this once locate.py handles that case.


def read_locations(run_dir: str | Path, account_ids: Iterable[str]) -> pd.DataFrame:
    """Location columns of ``account_ids`` from the draft run's ``accounts`` table.

    Only the location columns are read, and only the given ids are kept: the
    ids come from the session, so the rows are those of the user's scope.
    Returns ``account_id`` plus whichever of ``LOCATION_COLUMNS`` the run has.
    """
    wanted = pd.Index(pd.unique(pd.Series(list(account_ids), dtype="str")))
    run = RunFolder(run_dir)
    if wanted.empty or not run.has_table("accounts"):
        return pd.DataFrame({"account_id": pd.Series(dtype="str")})
    path = run.table_path("accounts")
    present = set(pq.read_schema(path).names)
    columns = ["account_id", *(c for c in LOCATION_COLUMNS if c in present)]
    frame = pd.read_parquet(path, columns=columns)
    frame["account_id"] = frame["account_id"].astype("str")
    return (
        frame[frame["account_id"].isin(wanted)].drop_duplicates("account_id").reset_index(drop=True)
    )


def layer_inputs(
    accounts: pd.DataFrame, books: pd.DataFrame, reps: pd.DataFrame, locations: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """``build_layers`` arguments from the session's frames (pure).

    The book of an account is its current owner (overrides applied);
    ``previous_rep_id`` is last period's owner from the draft, so the tooltip's
    "Last period" means what it says.
    """
    located = accounts.drop(columns=[c for c in LOCATION_COLUMNS if c in accounts.columns])
    located = located.merge(locations, on="account_id", how="left")
    previous = (
        accounts["draft_previous_rep_id"]
        if "draft_previous_rep_id" in accounts
        else accounts["draft_rep_id"]
    )
    assignments = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "rep_id": accounts["rep_id"],
            "previous_rep_id": previous,
        }
    )
    roster = reps.copy()
    for column in ("home_lat", "home_lon"):
        if column not in roster:
            roster[column] = float("nan")
    return {
        "accounts": located,
        "reps": roster,
        "assignments": assignments,
        "books": books[[c for c in BOOK_COLUMNS if c in books.columns]],
    }


def build_review_layers(
    accounts: pd.DataFrame,
    books: pd.DataFrame,
    reps: pd.DataFrame,
    locations: pd.DataFrame,
    params: MapParams,
) -> MapLayers:
    """Map layers of the given (in-scope) accounts, books and reps."""
    from plan_lib.maps.layers import build_layers

    inputs = layer_inputs(accounts, books, reps, locations)
    return build_layers(inputs["accounts"], inputs["reps"], inputs["assignments"], inputs["books"], params)


def _options(pairs: Iterable[tuple[str, str]], everything: str) -> list[tuple[str, str]]:
    return [(everything, ALL), *pairs]


class ReviewMapPanel:
    """The Map tab: segment and team filters, the map, what is selected, what is not on the map.

    ``update`` hands it the dashboard's latest frames (cheap: nothing is drawn
    until ``open``); ``open`` draws on first call; after that every ``update``
    that changes an owner redraws. ``on_select(ids)`` receives each selection
    made on the map (click, rectangle or polygon).
    """

    def __init__(
        self,
        session: ReviewSession,
        on_select: Callable[[list[str]], Any],
        params: MapParams | None = None,
        *,
        tiles: str | None = None,
    ):
        self.session = session
        self.on_select = on_select
        self._params = params
        self.tiles = tiles
        self.accounts = pd.DataFrame(columns=["account_id", "rep_id", "segment"])
        self.books = pd.DataFrame(columns=["rep_id"])
        self.selected: tuple[str, ...] = ()
        self.opened = False
        self.map: AccountSelectionMap | None = None
        self.layers: MapLayers | None = None
        self._drawn_key: tuple | None = None
        self._filling = False
        self._locations = pd.DataFrame({"account_id": pd.Series(dtype="str")})

        self.segment = widgets.Dropdown(description="Segment", options=_options([], "all segments"))
        self.segment.add_class("tqp-map-segment")
        self.team = widgets.Dropdown(description="Team", options=_options([], "all in your scope"))
        self.team.add_class("tqp-map-team")
        self.status = widgets.HTML("<em>the map is drawn when this tab is opened</em>")
        self.status.add_class("tqp-map-status")
        self.map_box = widgets.Box(layout=widgets.Layout(width="100%"))
        self.selection = widgets.HTML()
        self.selection.add_class("tqp-map-selection")
        self.goto_button = widgets.Button(
            description="Move or lock them",
            icon="arrow-right",
            tooltip="the move and lock controls of the Accounts tab act on this selection",
            layout=widgets.Layout(width="auto"),
        )
        self.goto_button.add_class("tqp-map-goto")
        self.unlocated = widgets.HTML()
        self.unlocated.add_class("tqp-map-unlocated")
        self.segment.observe(self._on_filter, names="value")
        self.team.observe(self._on_filter, names="value")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.segment, self.team]),
                self.status,
                self.map_box,
                widgets.HBox([self.selection, self.goto_button]),
                self.unlocated,
            ]
        )
        self.widget.add_class("tqp-map-panel")
        self._show_selection()

    @property
    def params(self) -> MapParams:
        if self._params is None:
            from plan_lib.maps.params import MapParams

            self._params = MapParams()
        return self._params

    # -- data in ---------------------------------------------------------------
    def update(
        self, accounts: pd.DataFrame, books: pd.DataFrame, selected: Sequence[str] = ()
    ) -> None:
        """New frames from the session; redraws only if the map is open and what it shows changed."""
        self.accounts, self.books, self.selected = accounts, books, tuple(selected)
        self._fill_filters()
        if self.opened:
            self.redraw()

    def open(self) -> None:
        """Draw the map the first time its tab is shown (later calls do nothing)."""
        if not self.opened:
            self.opened = True
            self.redraw()

    def team_reps(self, team: str) -> frozenset[str] | None:
        """Reps of ``team`` (a manager in scope and everyone below them); None for the whole scope."""
        if not team:
            return None
        return (self.session.base.descendants(team) | {team}) & self.session.scope_reps

    def shown(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Accounts and books that pass the segment and team filters."""
        accounts, books = self.accounts, self.books
        if self.segment.value:
            accounts = accounts[accounts["segment"] == self.segment.value]
            books = books[books["segment"] == self.segment.value] if "segment" in books else books
        reps = self.team_reps(self.team.value or ALL)
        if reps is not None:
            accounts = accounts[accounts["rep_id"].isin(reps)]
            books = books[books["rep_id"].isin(reps)]
        return accounts, books

    # -- drawing ---------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        """Draw the filtered accounts, unless they have the same owners as the map already shows."""
        accounts, books = self.shown()
        key = (
            self.segment.value,
            self.team.value,
            tuple(accounts["account_id"]),
            tuple(accounts["rep_id"]),
        )
        if key == self._drawn_key and not force:
            self.highlight(self.selected)
            return
        self._drawn_key = key
        limit = self.params.max_interactive_accounts
        if len(accounts) > limit:
            self._clear(
                f"{len(accounts):,} accounts match: more than an interactive map can carry "
                f"(maps.max_interactive_accounts = {limit:,}). Pick a segment or a team above to map part of them.",
                "tqp-map-too-large",
            )
            return
        if accounts.empty:
            self._clear("no accounts to map: change the segment or team above", "tqp-map-empty")
            return
        self.status.value = f"<div><em>drawing the map of {len(accounts)} accounts...</em></div>"
        try:
            self.layers = build_review_layers(
                accounts,
                books,
                self.session.reps(),
                self._locations_of(accounts["account_id"]),
                self.params,
            )
            self._draw(self.layers)
        except TqpError as error:  # MapTooLargeError, MapInputError...: say it, keep the page
            self._clear(str(error), "tqp-map-error")

    def _draw(self, layers: MapLayers) -> None:
        from plan_lib.maps.interactive import AccountSelectionMap

        unlocated = layers.unlocated
        if layers.points.empty:
            self._clear(
                f"none of the {len(unlocated)} accounts has a location (coordinates or a known ZIP code) "
                "in the draft run: fix the accounts input",
                "tqp-map-empty",
            )
        else:
            amap = AccountSelectionMap(layers, None, self.params, tiles=self.tiles)
            amap.widget.layout.height = MAP_HEIGHT
            # highlight before wiring on_select: a redraw is not a new selection
            amap.highlight(self.selected)
            amap.on_select = self._on_map_select
            self.map = amap
            self.map_box.children = (amap.widget,)
            books = layers.points["rep_id"].nunique()
            self.status.value = (
                f"<div>{len(layers.points)} accounts in {books} books. Click an account, or draw a rectangle or "
                "polygon around several, to select them for a move or a lock. Hover for details.</div>"
            )
        self.unlocated.value = (
            ""
            if unlocated.empty
            else (
                f"<div><b>{len(unlocated)} account(s) not on the map</b> (no usable location): "
                + html.escape(
                    ", ".join(
                        f"{a} ({r})"
                        for a, r in zip(unlocated["account_id"], unlocated["reason"], strict=True)
                    )
                )
                + "</div>"
            )
        )
        self._show_selection()

    def _clear(self, message: str, css: str) -> None:
        self.map, self.layers = None, None
        self.map_box.children = ()
        self.unlocated.value = ""
        self.status.value = f'<div class="{css}" style="color:#a11">{html.escape(message)}</div>'

    def _locations_of(self, account_ids: pd.Series) -> pd.DataFrame:
        """Locations of these accounts, read once per account (a move never changes where it is)."""
        missing = sorted(set(account_ids) - set(self._locations["account_id"]))
        if missing:
            fresh = read_locations(self.session.base.run_dir, missing)
            self._locations = (
                pd.concat([self._locations, fresh], ignore_index=True)
                if len(self._locations)
                else fresh
            )
        return self._locations[self._locations["account_id"].isin(set(account_ids))]

    # -- selection ---------------------------------------------------------------
    def _on_map_select(self, account_ids: list[str]) -> None:
        self.on_select(list(account_ids))

    def highlight(self, account_ids: Sequence[str]) -> None:
        """Show a selection made elsewhere (the account table) on the map."""
        self.selected = tuple(account_ids)
        if self.map is not None:
            self.map.highlight(self.selected)
        self._show_selection()

    def _show_selection(self) -> None:
        count = len(self.selected)
        shown = ", ".join(self.selected[:8]) + (f" and {count - 8} more" if count > 8 else "")
        self.selection.value = (
            f"<div>{count} account(s) selected{': ' + html.escape(shown) if count else ''}</div>"
        )
        self.goto_button.disabled = count == 0

    # -- filters ---------------------------------------------------------------
    def _fill_filters(self) -> None:
        segments = sorted(str(s) for s in self.accounts["segment"].dropna().unique())
        reps = self.session.reps()
        leaders = reps[(reps["role"].fillna("rep") != "rep")].sort_values("rep_id")
        owners = set(self.accounts["rep_id"])
        teams = [
            (f"{rep_id} {name if isinstance(name, str) else ''}".strip(), str(rep_id))
            for rep_id, name in zip(leaders["rep_id"], leaders["name"], strict=True)
            if owners & (self.session.base.descendants(str(rep_id)) | {str(rep_id)})
        ]
        for control, pairs, everything in (
            (self.segment, [(s, s) for s in segments], "all segments"),
            (self.team, teams, "all in your scope"),
        ):
            keep = control.value
            options = _options(pairs, everything)
            if options != list(control.options):
                with self._quiet():
                    control.options = options
                    control.value = keep if keep in {v for _, v in options} else ALL
            control.layout.display = "none" if len(options) <= 2 and not control.value else None

    def _on_filter(self, _change: Any = None) -> None:
        if self.opened and not self._filling:
            self.redraw()

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Refill a filter's options without each intermediate value triggering a redraw."""
        self._filling = True
        try:
            yield
        finally:
            self._filling = False

"""The dashboard's callbacks, called as plain functions (no browser), and its indicators."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import test_review_fixtures as fx
from shapely.geometry import box
from test_review_fixtures import seed_store, session_for

from plan_lib.maps.params import MapParams
from plan_lib.review.dashboard import ReviewDashboard, build_review_dashboard
from plan_lib.review.indicators import effective_books, quota_preview
from plan_lib.review.params import ReviewParams
from plan_lib.review.store import open_store
from plan_lib.review.tokens import invite_token, make_token
from plan_lib.review.views import filter_accounts

run_dir = fx.run_dir  # fixtures from test_review_fixtures, used by name below


@pytest.fixture
def env(tmp_path: Path, run_dir, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TQP_SECRET", "k" * 40)
    url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    store = open_store(url)
    version = seed_store(store, run_dir)
    yield url, store, version
    store.dispose()


def _dashboard(store, version, user: str, map_params: MapParams | None = None) -> ReviewDashboard:
    return ReviewDashboard(session_for(store, version, user), ReviewParams(), map_params)


def test_moving_selected_accounts_through_the_widgets(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    r1 = dash.accounts.loc[dash.accounts["rep_id"] == "R1", "account_id"].tolist()[:2]
    dash.filter_rep.value = "R1"
    assert set(dash.account_select.options[i][1] for i in range(len(dash.account_select.options))) == set(
        dash.accounts.loc[dash.accounts["rep_id"] == "R1", "account_id"]
    )
    dash.account_select.value = tuple(r1)
    dash.move_target.value = "R2"
    dash.reason.value = "R2 covers these logos"
    seen = []
    dash._progress = lambda done, total: seen.append((done, total))  # progress reported per account
    dash.on_move()
    assert "saved: moved" in dash.status.value and "refused" not in dash.status.value
    assert seen == [(1, 2), (2, 2)]
    assert set(dash.accounts.set_index("account_id").loc[r1, "rep_id"]) == {"R2"}
    assert all(a in dash.changes_html.value for a in r1) and "Mia Manager" in dash.changes_html.value
    books = dash.books.set_index("rep_id")
    moved_potential = dash.accounts.set_index("account_id").loc[r1, "potential"].sum()
    draft = _dashboard(store, version, "ops1")  # RevOps sees the same books
    assert books.at["R2", "potential"] == pytest.approx(draft.books.set_index("rep_id").at["R2", "potential"])
    assert moved_potential > 0


def test_a_stale_move_is_refused_on_the_page_with_who_changed_it(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    account = dash.accounts.loc[dash.accounts["rep_id"] == "R1", "account_id"].iloc[0]
    session_for(store, version, "ops1").lock(account, "RevOps keeps it", 0)
    report = dash.move_selected([account], "R2", "my move")
    assert not report.ok and "Olga Ops" in report.refused[0] and "locked" in report.refused[0]
    message = dash.refresh()  # the refresh after the action shows others' edits ...
    assert "up to date" in message or "Olga Ops" in message
    assert dash.accounts.set_index("account_id").at[account, "locked_to"] == "R1"
    report = dash.move_selected([account], "R2", "my move")  # ... and the next try gets the real reason
    assert "unlock it first" in report.refused[0]


def test_refresh_reports_edits_by_others(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    session_for(store, version, "D1").set_quota("R2", 99_000.0, "director's call", 0)
    message = dash.refresh()
    assert "1 edit(s) by others" in message and "Dan Director" in message and "quota of R2" in message
    assert dash.quotas.set_index("rep_id").at["R2", "quota"] == 99_000.0
    assert "up to date" in dash.refresh()


def test_quota_preview_is_live_and_apply_saves(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    before = dash.books.set_index("rep_id").at["R3", "quota"]
    dash.quota_rep.value = "R3"
    dash.quota_value.value = float(before) * 1.5
    assert "quota/potential" in dash.quota_preview_html.value  # updated by the observer, nothing saved
    assert dash.session.quotas().set_index("rep_id").at["R3", "quota"] == before
    dash.quota_reason.value = "bigger territory"
    dash.on_apply_quota()
    assert "saved: quota of R3" in dash.status.value
    assert dash.session.quotas().set_index("rep_id").at["R3", "quota"] == pytest.approx(before * 1.5)
    refused = dash.apply_quota("R5", 1.0, "not mine")
    assert "outside your team" in refused.refused[0]


def test_lock_unlock_and_comments(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    account = dash.accounts["account_id"].iloc[0]
    assert dash.lock_selected([account], "renewal").ok
    assert dash.accounts.set_index("account_id").at[account, "locked_to"] == dash.accounts.set_index("account_id").at[account, "rep_id"]
    assert dash.lock_selected([account], "signed", unlock=True).ok
    assert not dash.lock_selected([], "nothing").ok
    dash.account_select.value = (account,)
    assert dash.comment_subject.value == account  # selecting an account targets it for comments
    dash.comment_text.value = "CFO changed in November"
    dash.on_comment()
    assert "CFO changed in November" in dash.comments_html.value and dash.comment_text.value == ""
    assert not dash.add_comment("account", "A999", "ghost").ok


def test_a_locked_version_is_read_only_on_the_page(env) -> None:
    _, store, version = env
    ops = session_for(store, version, "ops1")
    ops.set_state("locked", "review over", ops.version.row_version)
    dash = _dashboard(store, version, "M1")
    assert dash.move_button.disabled and dash.quota_button.disabled and "read only" in dash.title.value


def test_build_refuses_missing_tampered_expired_and_foreign_links(env, run_dir) -> None:
    url, store, version = env
    page = build_review_dashboard(url, "", run_dir)
    assert "tqp-refusal" in page._dom_classes and "missing" in page.value
    good = invite_token(store, "M1")
    page = build_review_dashboard(url, good[:-2] + ("xy" if good[-2:] != "xy" else "zz"), run_dir)
    assert "tqp-refusal" in page._dom_classes and "tampered" in page.value
    expired = make_token("M1", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30), days=1)
    page = build_review_dashboard(url, expired, run_dir)
    assert "expired" in page.value
    page = build_review_dashboard(url, good, run_dir.parent / "another_run")
    assert "no plan version" in page.value
    page = build_review_dashboard(url, good, run_dir)
    assert "tqp-dashboard" in page._dom_classes


def test_search_and_filters() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3"], "name": ["Harbor Analytics", "Pine Retail", "Harbor Foods"],
            "industry": ["Software", "Retail", "Food"], "state": ["CA", "OR", "CA"], "rep_id": ["R1", "R2", "R1"],
            "segment": ["SMB"] * 3, "is_customer": [True, False, False], "reassigned": [False, True, False],
            "locked_to": [None, None, "R1"], "potential": [3.0, 2.0, 1.0],
        }
    )
    assert filter_accounts(accounts, search="harbor ca")["account_id"].tolist() == ["A1", "A3"]
    assert filter_accounts(accounts, rep="R1", customers_only=True)["account_id"].tolist() == ["A1"]
    assert filter_accounts(accounts, changed_only=True)["account_id"].tolist() == ["A2", "A3"]


def test_indicators_against_hand_computed_values() -> None:
    reps = pd.DataFrame(
        {"name": ["a", "b", "c"], "role": ["rep"] * 3, "segment": ["S", "S", "S"], "region": ["W"] * 3, "fte": [1.0, 1.0, 0.5]},
        index=pd.Index(["R1", "R2", "R3"], name="rep_id"),
    )
    accounts = pd.DataFrame(
        {"rep_id": ["R1", "R1", "R2", "R3"], "potential": [60.0, 40.0, 80.0, 70.0], "workload": [1.0, 2.0, 3.0, 4.0],
         "is_customer": [True, False, True, False]}
    )
    quotas = pd.Series({"R1": 30.0, "R2": 24.0, "R3": 25.0})
    books = effective_books(accounts, reps, quotas, band=0.05).set_index("rep_id")
    mean = 250.0 / 2.5  # total potential / total FTE
    assert books.at["R1", "deviation"] == pytest.approx(100.0 / mean - 1)
    assert books.at["R3", "potential_per_fte"] == pytest.approx(140.0) and not books.at["R3", "in_band"]
    assert books.at["R1", "in_band"] and books.at["R1", "customers"] == 1 and books.at["R1", "workload"] == 3.0
    segment_ratio = 79.0 / 250.0
    assert books.at["R2", "ratio_deviation"] == pytest.approx(24.0 / 80.0 / segment_ratio - 1)  # -5%: inside 10%
    preview = quota_preview(books.reset_index(), "R2", 40.0, {"R1", "R2"}, band=0.1)
    assert preview.ratio_after == pytest.approx(0.5)
    assert preview.segment_ratio_after == pytest.approx(95.0 / 250.0)
    assert preview.team_quota_after - preview.team_quota_before == pytest.approx(16.0)
    assert preview.leaves_band and np.isfinite(preview.ratio_deviation_after)


# -- the Map tab ------------------------------------------------------------------

def _open_map(dash: ReviewDashboard):
    """Open the Map tab as a user does; the map must not exist before."""
    assert dash.map_panel.map is None and dash.map_panel.map_box.children == ()
    dash.tabs.selected_index = dash.tabs.titles.index("Map")
    assert dash.map_panel.map is not None, dash.map_panel.status.value
    return dash.map_panel.map


def _click(amap, account_id: str) -> None:
    """The message ipyleaflet's front end sends when an account's marker is clicked."""
    amap.accounts_layer._handle_mouse_events(None, {"event": "click", "properties": {"account_id": account_id}}, None)


def _draw(amap, geometry: dict) -> None:
    """The message the front end's draw control sends when a rectangle or polygon is finished."""
    amap.draw_control._handle_leaflet_event(None, {"event": "draw:created", "geo_json": {"type": "Feature", "geometry": geometry}}, None)


def _books_on_map(amap) -> dict[str, str]:
    return dict(zip(amap.accounts["account_id"], amap.accounts["book"], strict=True))


def test_the_map_is_drawn_when_opened_and_shows_exactly_the_teams_accounts_by_book(env) -> None:
    import ipyleaflet

    _, store, version = env
    dash = _dashboard(store, version, "M1")
    amap = _open_map(dash)
    mine = dash.session.accounts()
    assert set(amap.accounts["account_id"]) == set(mine["account_id"])  # every fixture account has coordinates
    assert _books_on_map(amap) == dict(zip(mine["account_id"], mine["rep_id"], strict=True))
    assert not set(amap.accounts["account_id"]) & set(session_for(store, version, "M2").accounts()["account_id"])
    colors = amap.accounts.groupby("book")["color"].agg(["nunique", "first"])
    assert (colors["nunique"] == 1).all() and colors["first"].nunique() == len(colors)  # one colour per book
    books = amap.books_layer.data["features"]
    assert sorted(f["properties"]["rep_id"] for f in books) == sorted(mine["rep_id"].unique())
    assert all("<table>" in f["properties"]["tooltip"] for f in books + amap.accounts_layer.data["features"])
    assert not [layer for layer in amap.widget.layers if isinstance(layer, ipyleaflet.TileLayer)]  # no tiles
    assert "States" in [layer.name for layer in amap.widget.layers]
    dash.open_map()
    assert dash.map_panel.map is amap  # drawn once


def test_a_selection_on_the_map_is_moved_by_the_accounts_move_control(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    amap = _open_map(dash)
    dash.filter_rep.value = "R3"  # the table shows another book: the map's selection is listed anyway
    r1 = sorted(dash.accounts.loc[dash.accounts["rep_id"] == "R1", "account_id"])
    _click(amap, r1[0])
    assert dash.account_select.value == (r1[0],) and dash.comment_subject.value == r1[0]
    points = amap.accounts.set_index("account_id").geometry
    lasso = box(*points.loc[r1[:2]].total_bounds).buffer(1e-3)
    expected = sorted(a for a, p in points.items() if lasso.contains(p))
    _draw(amap, lasso.__geo_interface__)
    assert set(r1[:2]) <= set(expected) and list(dash.account_select.value) == expected
    assert set(expected) <= {value for _, value in dash.account_select.options}
    expected = [a for a in expected if dash.accounts.set_index("account_id").at[a, "rep_id"] != "R2"]
    dash.select_accounts(expected)
    dash.move_target.value, dash.reason.value = "R2", "one route for these"
    dash.on_move()
    assert "refused" not in dash.status.value and dash.status.value.count("saved: moved") == len(expected)
    stored = session_for(store, version, "ops1").accounts().set_index("account_id")
    assert set(stored.loc[expected, "rep_id"]) == {"R2"}
    redrawn = dash.map_panel.map
    assert redrawn is not amap and all(_books_on_map(redrawn)[a] == "R2" for a in expected)
    assert redrawn.selected == sorted(expected)  # the selection stays highlighted after the redraw


def test_ids_outside_the_scope_are_refused_not_selected(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    amap = _open_map(dash)
    own = dash.accounts["account_id"].iloc[0]
    foreign = session_for(store, version, "M2").accounts()["account_id"].iloc[0]
    assert amap.select([foreign]) == []  # not on the map
    amap.on_select([own, foreign, "A999"])  # a crafted callback gets no further than the dashboard
    assert dash.account_select.value == (own,)
    assert "refused" in dash.status.value and foreign in dash.status.value and "A999" in dash.status.value
    report = dash.move_selected([foreign], "R2", "not mine")  # and the session refuses it anyway
    assert not report.ok and "not in your team's books" in report.refused[0]


def test_refresh_redraws_the_map_with_others_moves(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "M1")
    amap = _open_map(dash)
    dash.refresh()
    assert dash.map_panel.map is amap  # nothing changed: no redraw
    account = dash.accounts.loc[dash.accounts["rep_id"] == "R3", "account_id"].iloc[0]
    session_for(store, version, "D1").reassign(account, "R1", "director's call", 0)
    assert _books_on_map(amap)[account] == "R3"
    dash.refresh()
    assert _books_on_map(dash.map_panel.map)[account] == "R1"
    account = dash.accounts.loc[dash.accounts["rep_id"] == "R2", "account_id"].iloc[0]
    session_for(store, version, "ops1").reassign(account, "R5", "to M2's team", 0)
    dash.refresh()
    assert account not in _books_on_map(dash.map_panel.map)  # moved out of the team: off the map


def test_a_scope_too_large_for_a_map_asks_for_a_segment_or_a_team(env) -> None:
    _, store, version = env
    dash = _dashboard(store, version, "ops1", MapParams(max_interactive_accounts=20))
    assert len(dash.accounts) > 20
    dash.open_map()
    panel = dash.map_panel
    assert panel.map is None and "tqp-map-too-large" in panel.status.value and "segment or a team" in panel.status.value
    panel.segment.value = "SMB"
    assert panel.map is None and "tqp-map-too-large" in panel.status.value  # still too many
    panel.segment.value = ""
    panel.team.value = "M3"
    m3 = dash.accounts[dash.accounts["rep_id"].isin(["R9", "R10"])]
    assert panel.map is not None and set(panel.map.accounts["account_id"]) == set(m3["account_id"])


def test_accounts_without_a_location_are_listed_under_the_map(env, monkeypatch: pytest.MonkeyPatch) -> None:
    from plan_lib.review import map_panel

    _, store, version = env
    dash = _dashboard(store, version, "M1")
    real = map_panel.read_locations
    lost = dash.accounts["account_id"].iloc[0]

    def without_one(run_dir, ids):
        frame = real(run_dir, ids)
        return frame.assign(lat=frame["lat"].where(frame["account_id"] != lost), lon=frame["lon"].where(frame["account_id"] != lost))

    monkeypatch.setattr(map_panel, "read_locations", without_one)
    amap = _open_map(dash)
    assert set(amap.accounts["account_id"]) == set(dash.accounts["account_id"]) - {lost}
    assert dash.map_panel.layers.unlocated["account_id"].tolist() == [lost]
    assert lost in dash.map_panel.unlocated.value and "1 account(s) not on the map" in dash.map_panel.unlocated.value


def test_the_served_page_uses_the_settings_the_run_was_made_with(tmp_path: Path) -> None:
    from conftest import REPO

    from plan_lib.review.dashboard import _run_settings

    text = (REPO / "parameters" / "test.yaml").read_text()
    (tmp_path / "parameters.yaml").write_text(text + "\nmaps:\n  max_interactive_accounts: 1234\n")
    review, maps = _run_settings(tmp_path, None, None)
    assert maps.max_interactive_accounts == 1234 and isinstance(review, ReviewParams)
    given = MapParams(max_interactive_accounts=99)
    assert _run_settings(tmp_path, None, given)[1] is given  # what the caller passes wins
    assert _run_settings(tmp_path / "no-run", None, None) == (None, None)

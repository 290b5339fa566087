"""Static maps: what is drawn (counted on the matplotlib artists), projection, files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from plan_lib.maps import static
from plan_lib.maps.api import UNLOCATED_FILE, render_maps, write_run_maps
from plan_lib.maps.errors import MapCrsError, MapInputError
from plan_lib.maps.example import example_inputs
from plan_lib.maps.layers import build_layers
from plan_lib.maps.params import MapParams


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return example_inputs(
        n_accounts=250, states=("CA", "OR", "WA"), reps_per_segment=4, seed=11, open_headcount=True
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


def _collections(figure: Figure, gid: str) -> list:
    return [c for ax in figure.axes for c in ax.collections if c.get_gid() == gid]


def _offsets(figure: Figure, gid: str) -> int:
    return sum(len(c.get_offsets()) for c in _collections(figure, gid))


def _paths(figure: Figure, gid: str) -> int:
    return sum(len(c.get_paths()) for c in _collections(figure, gid))


def _texts(figure: Figure) -> str:
    texts = [t.get_text() for t in figure.texts] + [figure._suptitle.get_text()]
    for ax in figure.axes:
        for legend in [a for a in ax.artists if hasattr(a, "get_texts")] + (
            [ax.get_legend()] if ax.get_legend() else []
        ):
            texts += [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
    return "\n".join(texts)


def test_books_map_draws_every_placed_account_one_outline_per_book_and_homes(layers) -> None:
    figure = static.books_map(layers)
    assert _offsets(figure, "accounts") == len(layers.points)
    assert _paths(figure, "outlines") == len(layers.outlines) == layers.points["rep_id"].nunique()
    assert (
        _offsets(figure, "homes")
        == len(layers.homes)
        == len(layers.books) - len(layers.homes_missing)
    )
    assert _offsets(figure, "zip_placed") == (layers.points["located_by"] == "postal_code").sum()
    text = _texts(figure)
    assert "Books of business" in text and "rep home" in text and "Potential (marker area)" in text
    assert f"{len(layers.unlocated)} account(s) could not be placed" in text
    assert "No home on file" in text and layers.homes_missing[0] in text
    assert "\\$" in text  # dollar amounts are escaped, not read as maths


def test_maps_are_drawn_in_metres_of_the_equal_area_projection_with_a_km_scale_bar(layers) -> None:
    figure = static.books_map(layers)
    main = figure.axes[0]
    x0, x1 = main.get_xlim()
    assert x1 - x0 > 500_000  # metres (EPSG:5070), not degrees
    drawn = np.vstack([c.get_offsets() for c in _collections(figure, "accounts")])
    expected = layers.points.to_crs("EPSG:5070").get_coordinates().to_numpy()
    assert np.allclose(np.sort(drawn, axis=0), np.sort(expected, axis=0))
    bars = [a for a in main.artists if isinstance(a, AnchoredSizeBar)]
    assert len(bars) == 1
    assert bars[0].txt_label.get_text().endswith(" km")


def test_choropleths_draw_one_patch_per_zone(layers) -> None:
    for measure in ("potential", "whitespace", "coverage"):
        figure = static.choropleth_map(layers, measure)
        assert _paths(figure, "zones") == len(layers.zones)
    coverage = static.choropleth_map(layers, "coverage")
    assert "no active rep" in _texts(coverage)
    assert _offsets(coverage, "homes") == len(layers.homes)
    with pytest.raises(ValueError, match="measure"):
        static.choropleth_map(layers, "revenue")  # type: ignore[arg-type]


def test_moves_map_draws_the_largest_flows_and_says_how_many(layers) -> None:
    flows = layers.moves
    assert len(flows) > 2
    figure = static.moves_map(layers, MapParams(max_flow_lines=2))
    arrows = [t for ax in figure.axes for t in ax.texts if t.get_gid() == "flow"]
    assert len(arrows) == 2
    assert f"{len(flows)} owner-to-owner flows (largest 2 drawn)" in _texts(figure)
    assert _offsets(figure, "moved") == layers.points["moved"].sum()
    assert _offsets(figure, "moved") + _offsets(figure, "kept") == len(layers.points)


def test_attainment_map_colours_each_zone_and_needs_attainment(layers) -> None:
    figure = static.attainment_map(layers, MapParams(elapsed_share=0.5))
    assert _paths(figure, "zones") == len(layers.attainment)
    assert "against pace" in _texts(figure)
    with pytest.raises(MapInputError, match="attainment"):
        static.attainment_map(replace(layers, attainment=None))


def test_a_layer_in_the_wrong_crs_stops_the_drawing(layers) -> None:
    wrong = replace(layers, outlines=layers.outlines.to_crs("EPSG:3857"))
    with pytest.raises(MapCrsError, match="outlines"):
        static.books_map(wrong)


def test_alaska_and_hawaii_get_panels_or_a_note() -> None:
    data = example_inputs(
        n_accounts=80, states=("AK", "HI", "WA"), reps_per_segment=3, seed=2, unlocatable=0
    )
    layers = build_layers(data["accounts"], data["reps"], data["assignments"], data["books"])
    in_panels = static.books_map(layers)
    titles = {ax.get_title(loc="left") for ax in in_panels.axes}
    assert {"Alaska", "Hawaii"} <= titles
    assert _offsets(in_panels, "accounts") == len(layers.points)
    excluded = static.books_map(layers, MapParams(alaska_hawaii="exclude"))
    states = layers.points["state"]
    assert len(excluded.axes) == 2
    assert _offsets(excluded, "accounts") == (states == "WA").sum()
    assert f"{(states == 'AK').sum()} account(s) in Alaska" in _texts(excluded)


def _refined(assignments: pd.DataFrame, n_edits: int) -> pd.DataFrame:
    """A lock run's assignments: the draft owner kept in ``draft_rep_id``, and the
    first ``n_edits`` assigned accounts given to another rep of the plan in review."""
    refined = assignments.copy()
    refined["draft_rep_id"] = refined["rep_id"]
    owners = refined["rep_id"].dropna().unique()
    edited = refined.index[refined["rep_id"].notna()][:n_edits]
    for i in edited:
        refined.loc[i, "rep_id"] = next(r for r in owners if r != refined.loc[i, "draft_rep_id"])
    return refined


def test_review_moves_are_the_locked_plan_against_the_draft(data) -> None:
    refined = _refined(data["assignments"], 6)
    layers = build_layers(data["accounts"], data["reps"], refined, data["books"])
    review = layers.against_draft()
    edited = refined.loc[refined["rep_id"] != refined["draft_rep_id"], "account_id"]
    placed = layers.points["account_id"].isin(edited)
    assert review.points["moved"].sum() == placed.sum() > 0
    assert review.moves["n_accounts"].sum() == placed.sum()
    figure = render_maps(layers, "lock")["review-moves"]
    assert _offsets(figure, "moved") == placed.sum()
    assert "Moves made in review" in figure._suptitle.get_text()
    # the period-over-period moves are untouched by the draft baseline
    assert layers.points["moved"].sum() != review.points["moved"].sum()
    plain = build_layers(data["accounts"], data["reps"], data["assignments"], data["books"])
    with pytest.raises(MapInputError, match="draft_rep_id"):
        plain.against_draft()


def test_run_folder_gets_the_pngs_and_the_unlocated_list(data, tmp_path: Path) -> None:
    written = write_run_maps(
        data["accounts"],
        data["reps"],
        _refined(data["assignments"], 4),
        data["books"],
        tmp_path / "maps",
        kind="lock",
    )
    assert set(written) == {"books", "coverage", "moves", "review-moves", "unlocated"}
    for name in ("books", "coverage", "moves", "review-moves"):
        content = written[name].read_bytes()
        assert content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 20_000
    unlocated = pd.read_csv(written["unlocated"], dtype=str)
    assert written["unlocated"].name == UNLOCATED_FILE
    assert len(unlocated) == 3 and unlocated["reason"].notna().all()
    with pytest.raises(MapInputError, match="attainment"):
        write_run_maps(
            data["accounts"],
            data["reps"],
            data["assignments"],
            data["books"],
            tmp_path / "m",
            kind="monitor",
        )


def test_each_step_renders_its_maps_and_books_split_by_segment() -> None:
    data = example_inputs(
        n_accounts=150, segments=("SMB", "Mid-Market"), reps_per_segment=2, seed=4
    )
    layers = build_layers(
        data["accounts"],
        data["reps"],
        data["assignments"],
        data["books"],
        attainment=data["attainment"],
    )
    assert set(render_maps(layers, "balance")) == {
        "books-mid-market",
        "books-smb",
        "potential",
        "whitespace",
        "coverage",
        "moves",
    }
    assert set(render_maps(layers, "monitor", MapParams(split_books_by_segment=False))) == {
        "attainment",
        "coverage",
        "books",
    }
    locked = build_layers(
        data["accounts"], data["reps"], _refined(data["assignments"], 3), data["books"]
    )
    smb = render_maps(locked, "lock")["books-smb"]
    assert (
        _offsets(smb, "accounts")
        == (locked.points["rep_id"].isin(locked.for_segment("SMB").books["rep_id"])).sum()
    )
    assert np.isclose(smb.get_size_inches()[0], MapParams().width_in)

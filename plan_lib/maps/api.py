"""The maps of a run folder: which maps each pipeline step writes, and writing them.

:func:`render_maps` is pure (layers in, figures out); :func:`write_run_maps`
(or :func:`write_layer_maps`, for layers already built) is the one place in the package that writes files: the PNGs and the list of
accounts that could not be placed (``unlocated_accounts.csv``, written even when
empty, so its absence never has to be interpreted).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pandas as pd
from matplotlib.figure import Figure

from plan_lib.maps import static
from plan_lib.maps.errors import MapInputError
from plan_lib.maps.layers import MapLayers, build_layers
from plan_lib.maps.params import MapParams

Kind = Literal["balance", "lock", "monitor"]
#: Maps of each step, in the order they are written.
MAPS_OF: dict[str, tuple[str, ...]] = {
    "balance": ("books", "potential", "whitespace", "coverage", "moves"),
    "lock": ("books", "coverage", "moves", "review-moves"),
    "monitor": ("attainment", "coverage", "books"),
}
UNLOCATED_FILE = "unlocated_accounts.csv"
REVIEW_MOVES_TITLE = "Moves made in review (draft to locked plan)"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "segment"


def render_maps(
    layers: MapLayers, kind: Kind = "balance", params: MapParams | None = None
) -> dict[str, Figure]:
    """The figures of a step, keyed by file stem (``books`` or ``books-<segment>``,
    ``potential``, ``whitespace``, ``coverage``, ``moves``, ``review-moves``, ``attainment``).

    ``review-moves`` (lock runs) shows what the managers changed: the locked plan
    against the draft; it needs assignments with ``draft_rep_id``.
    """
    params = params or MapParams()
    if kind not in MAPS_OF:
        raise ValueError(f"kind must be one of {sorted(MAPS_OF)}, got {kind!r}")
    figures: dict[str, Figure] = {}
    for name in MAPS_OF[kind]:
        if name == "books":
            segments = layers.segments
            if params.split_books_by_segment and len(segments) > 1:
                for segment in segments:
                    figures[f"books-{_slug(segment)}"] = static.books_map(
                        layers.for_segment(segment), params
                    )
            else:
                figures["books"] = static.books_map(layers, params)
        elif name in ("potential", "whitespace", "coverage"):
            figures[name] = static.choropleth_map(layers, name, params)  # type: ignore[arg-type]
        elif name == "moves":
            figures[name] = static.moves_map(layers, params)
        elif name == "review-moves":
            figures[name] = static.moves_map(layers.against_draft(), params, REVIEW_MOVES_TITLE)
        elif name == "attainment":
            figures[name] = static.attainment_map(layers, params)
    return figures


def write_run_maps(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    assignments: pd.DataFrame | None,
    books: pd.DataFrame | None,
    out_dir: str | Path,
    kind: Kind = "balance",
    attainment: pd.DataFrame | None = None,
    params: MapParams | None = None,
) -> dict[str, Path]:
    """Build the layers, write the step's PNG maps and ``unlocated_accounts.csv`` into ``out_dir``.

    Returns the written paths keyed like :func:`render_maps` plus ``unlocated``.
    ``kind='monitor'`` needs ``attainment`` (bookings and quota per state or county).
    """
    params = params or MapParams()
    if kind == "monitor" and attainment is None:
        raise MapInputError(
            "attainment",
            "the monitor maps need attainment per zone",
            "Pass attainment=... (bookings and quota per state or county_fips).",
        )
    layers = build_layers(accounts, reps, assignments, books, params, attainment)
    return write_layer_maps(layers, out_dir, kind, params)


def write_layer_maps(
    layers: MapLayers, out_dir: str | Path, kind: Kind = "balance", params: MapParams | None = None
) -> dict[str, Path]:
    """:func:`write_run_maps` for layers already built (a step that also shows them live)."""
    params = params or MapParams()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, figure in render_maps(layers, kind, params).items():
        written[name] = static.save_png(figure, out / f"{name}.png")
    unlocated = out / UNLOCATED_FILE
    layers.unlocated.to_csv(unlocated, index=False)
    written["unlocated"] = unlocated
    return written

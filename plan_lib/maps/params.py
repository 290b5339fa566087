"""Parameters of the maps (the ``maps:`` section of the parameters file).

Every field changes what a reader sees, not what the plan is: maps never feed
back into balancing or quotas.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Zone = Literal["county", "state"]
OutlineMethod = Literal["counties", "hull"]


class MapParams(BaseModel):
    """How the territory maps are drawn."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    zone: Zone = Field(
        default="county",
        description="geographic unit of the choropleths (potential, whitespace, coverage, "
        "attainment): 'county' shows where inside a state potential sits; 'state' reads "
        "better for national summaries",
    )
    outline: OutlineMethod = Field(
        default="counties",
        description="territory outline of a book: 'counties' dissolves the counties holding "
        "at least one of its accounts (follows boundaries planners know, robust to a lone "
        "far account); 'hull' is the convex hull of its accounts buffered by hull_buffer_km",
    )
    hull_buffer_km: float = Field(
        default=10.0,
        ge=0,
        le=200,
        description="buffer around a 'hull' outline, so books of one or two accounts still "
        "get an area",
    )
    alaska_hawaii: Literal["insets", "exclude"] = Field(
        default="insets",
        description="static maps: draw Alaska and Hawaii in side panels at their own scale "
        "(only when something is there), or leave them out with a note of what was left out",
    )
    split_books_by_segment: bool = Field(
        default=True,
        description="write one books map per segment: books of different segments overlap "
        "on the ground and are unreadable on one map",
    )
    max_flow_lines: int = Field(
        default=60,
        ge=1,
        description="moves map: draw at most this many owner-to-owner flows (largest "
        "potential first); the map says how many were left out",
    )
    elapsed_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="monitoring: share of the period elapsed; attainment is then shown "
        "against this pace (1.0 = on pace) instead of against the full quota",
    )
    dpi: int = Field(default=110, ge=50, le=300, description="resolution of the PNG maps")
    width_in: float = Field(
        default=12.0, ge=6, le=30, description="width of the PNG maps in inches (height follows)"
    )
    max_interactive_accounts: int = Field(
        default=25_000,
        ge=1,
        description="interactive maps refuse more accounts than this (the browser would "
        "stall); filter to a segment or a team first",
    )

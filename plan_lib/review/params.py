"""Parameters of the review step (the ``review:`` section of a parameters file).

The store URL here must not carry a password: URLs with credentials go in the
``TQP_REVIEW_URL`` environment variable, which wins over this setting.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ReviewParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str = Field(
        "",
        description="review database URL without password (sqlite:///... or postgresql://host/db); empty: "
        "sqlite file review.sqlite in the outputs folder; the TQP_REVIEW_URL environment variable wins",
    )
    band: float = Field(0.05, gt=0, lt=1, description="allowed deviation of potential per FTE from the segment mean; books outside are flagged")
    quota_ratio_band: float = Field(
        0.10, gt=0, lt=1, description="allowed deviation of a rep's quota/potential from the segment's ratio"
    )
    invite_days: float = Field(14, gt=0, le=365, description="days an invite link stays valid")
    max_rows: int = Field(300, ge=10, le=5000, description="accounts listed at once in the dashboard (search narrows them)")
    port: int = Field(8866, ge=1024, le=65535, description="localhost port of `tqp serve`")
    cull_idle_timeout_s: int = Field(1800, ge=60, description="shut down a dashboard kernel idle for this long (each costs ~54 MB)")
    cull_interval_s: int = Field(60, ge=10, description="how often idle kernels are looked for")

    @field_validator("store")
    @classmethod
    def _no_password(cls, value: str) -> str:
        from sqlalchemy.engine import make_url

        if value and make_url(value).password:
            raise ValueError("the review store URL carries a password: put it in the TQP_REVIEW_URL environment variable instead")
        return value


def resolve_store_url(params: ReviewParams, outputs: str | Path = "outputs") -> str:
    """The store to use: ``TQP_REVIEW_URL``, else ``params.store``, else a SQLite file in the outputs folder."""
    if os.environ.get("TQP_REVIEW_URL"):
        return os.environ["TQP_REVIEW_URL"]
    if params.store:
        return params.store
    return f"sqlite:///{(Path(outputs) / 'review.sqlite').resolve()}"

"""One conversion of step results to plain JSON values, for reports and manifests.

numpy scalars become Python numbers, NaN and infinities become null (JSON has
neither), dates become ISO strings and DataFrames lists of records, so every
step's report serialises the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """``value`` with every nested container, number and date made JSON-serialisable."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(row) for row in value.to_dict(orient="records")]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value

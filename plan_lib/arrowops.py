"""Fast column operations through pyarrow compute, for the million-row paths.

pandas 3 stores text as Arrow strings; some pandas operations on them still go
through Python objects (``Series.isin`` with a Series argument iterates it in
Python). These helpers keep the work in Arrow and return pandas objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def to_arrow(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The Arrow data behind a Series (no copy for Arrow-backed text)."""
    array = series.array
    if hasattr(array, "__arrow_array__"):
        return array.__arrow_array__()
    return pa.array(series.to_numpy(dtype=object), from_pandas=True)


def isin(series: pd.Series, values: pd.Series | np.ndarray | list) -> np.ndarray:
    """Boolean mask (numpy) of ``series`` values found in ``values``; missing values are False."""
    value_set = to_arrow(values) if isinstance(values, pd.Series) else pa.array(values, from_pandas=True)
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    data = to_arrow(series)
    if data.type != value_set.type:
        value_set = value_set.cast(data.type)
    mask = pc.is_in(data, value_set=value_set, skip_nulls=True)
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def parse_float(series: pd.Series) -> pd.Series | None:
    """All-or-nothing fast path: the column as float64 if every cell parses, else None."""
    try:
        parsed = pc.cast(to_arrow(series), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if parsed.null_count != series.isna().sum() or pc.any(pc.is_nan(parsed)).as_py():
        return None  # the text "nan" is not a number: let the strict path report it
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=series.index, dtype="float64")


def parse_iso_dates(series: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text to datetime64[s]; anything else becomes NaT.

    Strict: ``strptime`` alone accepts ``2024-1-5`` and rolls ``2024-02-30`` over to
    March, so a date only counts when writing it back gives the original text.
    """
    text = to_arrow(series)
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    shaped = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$")
    day_written = pc.cast(pc.if_else(shaped, pc.utf8_slice_codeunits(text, 8, 10), pa.scalar("0")), pa.int64())
    exact = pc.and_(shaped, pc.equal(pc.day(parsed), day_written))  # 2024-02-30 parses as March 1st
    parsed = pc.if_else(pc.fill_null(exact, False), parsed, pa.scalar(None, parsed.type))
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=series.index).astype("datetime64[s]")

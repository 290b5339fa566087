"""Check the scoring parameters against the data before anything is computed.

A weight for an industry no account has is almost always a typo ("Sofware")
or a stale file; silently ignoring it would give every account the default
weight and nobody would notice. So names in the parameters (industries,
columns, topics, activity types, segments, formula terms, prior coefficients)
must exist in the data, and the run stops with a ParameterError naming the key.
Signs and shapes are checked earlier, when the parameters are parsed.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from plan_lib.contract import ACCOUNTS
from plan_lib.errors import ParameterError
from plan_lib.scoring.features import FEATURE_COLUMNS, FeatureBuilder
from plan_lib.scoring.params import ScoringParams
from plan_lib.scoring.propensity import design_matrix, formula_of, preparation
from plan_lib.scoring.segments import assign_segments

NUMBER_COLUMNS = tuple(c.name for c in ACCOUNTS.columns if c.kind in ("int", "float"))


def _names(values: pd.Series | None) -> set[str]:
    if values is None:
        return set()
    return {str(v) for v in values.dropna().unique()}


def _unknown(source: str, key: str, name: str, known: Iterable[str], what: str) -> ParameterError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
    return ParameterError(
        source, key, f"no {what} '{name}' in the data{hint} (the data has: {listing or 'none'})"
    )


def _sample_accounts(accounts: pd.DataFrame, size: int = 200) -> pd.DataFrame:
    """The first rows plus one row per industry and per segment, so every category level appears."""
    firsts = [accounts.head(size)]
    for column in ("industry", "segment"):
        firsts.append(accounts.drop_duplicates(column))
    return pd.concat(firsts).drop_duplicates("account_id").reset_index(drop=True)


def check_against_data(
    params: ScoringParams,
    tables: dict[str, pd.DataFrame],
    as_of: dt.date | None = None,
    source: str = "parameters",
) -> None:
    """Raise ParameterError (naming the key) for any parameter that does not fit the data."""
    accounts = tables["accounts"]
    industries = _names(accounts["industry"])
    for name in params.industry_weights:
        if name not in industries:
            raise _unknown(
                source, f"scoring.industry_weights.{name}", name, industries, "account has industry"
            )
    for i, rule in enumerate(params.segment_rules):
        for name in rule.industries or ():
            if name not in industries:
                raise _unknown(
                    source,
                    f"scoring.segment_rules.{i}.industries",
                    name,
                    industries,
                    "account has industry",
                )

    for column in params.size_curves:
        key = f"scoring.size_curves.{column}"
        if column not in accounts.columns:
            raise ParameterError(
                source,
                key,
                f"no such column in accounts (number columns: {', '.join(NUMBER_COLUMNS)})",
            )
        if not pd.api.types.is_numeric_dtype(accounts[column]):
            raise ParameterError(
                source,
                key,
                f"'{column}' is not a number column (use one of: {', '.join(NUMBER_COLUMNS)})",
            )

    signals = tables.get("intent_signals")
    topics = _names(signals["topic"]) if signals is not None else set()
    for name in params.intent.topic_weights:
        if name not in topics:
            raise _unknown(
                source,
                f"scoring.intent.topic_weights.{name}",
                name,
                topics,
                "intent signal has topic",
            )
    activities = tables.get("activities")
    types = _names(activities["type"]) if activities is not None else set()
    for name in params.activities.type_weights:
        if name not in types:
            raise _unknown(
                source, f"scoring.activities.type_weights.{name}", name, types, "activity has type"
            )

    segments = assign_segments(accounts, params)
    counts = segments["segment"].value_counts()
    missing = [s for s in counts.index if s not in params.base_value]
    if missing:
        listing = ", ".join(f"'{s}' ({counts[s]} accounts)" for s in missing)
        raise ParameterError(
            source,
            "scoring.base_value",
            f"no value for segment {listing}; add one value per segment",
        )

    if (
        as_of is not None
        and params.propensity.holdout_from is not None
        and params.propensity.holdout_from > as_of
    ):
        raise ParameterError(
            source,
            "scoring.propensity.holdout_from",
            f"{params.propensity.holdout_from} is after the snapshot {as_of}: no outcome is known then",
        )
    _check_formula(params, accounts, segments, source)


def _check_formula(
    params: ScoringParams, accounts: pd.DataFrame, segments: pd.DataFrame, source: str
) -> None:
    sample = _sample_accounts(accounts.assign(segment=segments["segment"].to_numpy()))
    builder = FeatureBuilder({"accounts": sample}, params, sample["segment"])
    frame = builder.at(np.arange(len(sample)), 0)
    frame["won"] = 0.0
    levels, fills, _ = preparation(
        frame, params.propensity.model_copy(update={"min_level_count": 0})
    )
    prepared = frame.copy()
    for column, value in fills.items():
        prepared[column] = prepared[column].astype("float64").fillna(value)
    for column, values in levels.items():
        prepared[column] = pd.Categorical(
            prepared[column].astype("str").fillna("(missing)"), categories=values
        )
    columns = ", ".join(c for c in FEATURE_COLUMNS if c != "account_id")
    for i, term in enumerate(params.propensity.terms):
        try:
            design_matrix(formula_of([term]), prepared)
        except Exception as error:
            first_line = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            raise ParameterError(
                source,
                f"scoring.propensity.terms.{i}",
                f"cannot evaluate '{term}': {first_line} (terms may use: {columns})",
            ) from None
    names, _ = design_matrix(formula_of(params.propensity.terms), prepared)
    for name in params.propensity.prior:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                source,
                f"scoring.propensity.prior.{name}",
                f"not a coefficient of the formula{hint} (coefficients: {', '.join(names)})",
            )

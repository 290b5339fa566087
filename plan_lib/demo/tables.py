"""Turn the generator's arrays into contract tables (exact columns, contract order).

Column types follow the contract's kinds: ``str`` -> pandas ``str`` (missing
as NA), ``int`` -> int64, ``float`` -> float64 (NaN missing), ``bool`` ->
bool, ``date`` -> ``datetime64[s]`` (NaT missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.contract import ACCOUNTS, ACTIVITIES, INTENT_SIGNALS, OPPORTUNITIES, Table
from plan_lib.demo._columns import id_width, labels, make_ids, masked
from plan_lib.demo.calendar import to_datetime64
from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.opportunities import STAGES, Opportunities
from plan_lib.demo.roster import Sellers
from plan_lib.demo.segments import SEGMENTS
from plan_lib.demo.signals import EventLog
from plan_lib.demo.vocabulary import ACTIVITY_TYPES, INDUSTRY_NAMES, INTENT_TOPICS


def in_contract_order(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    missing = [c for c in table.column_names if c not in frame.columns]
    if missing:  # a generator bug, not a user error
        raise AssertionError(f"demo table {table.name} lacks contract columns {missing}")
    return frame[table.column_names]


def account_ids(n: int) -> pd.Series:
    return make_ids("A", np.arange(1, n + 1), id_width(n, 6))


def accounts_table(
    accounts: Accounts, owner: np.ndarray, sellers: Sellers, ids: pd.Series
) -> pd.DataFrame:
    zips = geo.load_zip_points()
    n = accounts.n
    is_child = accounts.parent >= 0
    frame = pd.DataFrame(
        {
            "account_id": ids,
            "name": accounts.name,
            "parent_account_id": masked(ids.take(np.maximum(accounts.parent, 0)), ~is_child),
            "country": labels(["US"], np.zeros(n, dtype=np.int32)),
            "state": labels(geo.STATES, accounts.state),
            "county_fips": zips["county_fips"].take(accounts.zip_row).reset_index(drop=True),
            "postal_code": zips["zip"].take(accounts.zip_row).reset_index(drop=True),
            "lat": np.where(accounts.coords_missing, np.nan, accounts.lat),
            "lon": np.where(accounts.coords_missing, np.nan, accounts.lon),
            "industry": labels(INDUSTRY_NAMES, accounts.industry),
            "employees": accounts.employees.astype(np.int64),
            "annual_revenue": accounts.revenue.astype(float),
            "is_customer": accounts.is_customer.astype(bool),
            "current_arr": accounts.arr.astype(float),
            "current_owner": labels(list(sellers.rep_id), np.maximum(owner, 0), missing=owner < 0),
            # left empty on purpose: the pipeline derives it from its segment rules
            "segment": labels(
                SEGMENTS, np.zeros(n, dtype=np.int32), missing=np.ones(n, dtype=bool)
            ),
        }
    )
    return in_contract_order(frame, ACCOUNTS)


def opportunities_table(opps: Opportunities, account_id: pd.Series) -> pd.DataFrame:
    n = len(opps)
    is_open = opps.stage == STAGES.index("open")
    frame = pd.DataFrame(
        {
            "opportunity_id": make_ids("O", np.arange(1, n + 1), id_width(n, 7)),
            "account_id": account_id.take(opps.account).reset_index(drop=True),
            "owner_rep_id": opps.owner,
            "created_date": to_datetime64(opps.created),
            "close_date": to_datetime64(opps.close, missing=is_open),
            "stage": labels(STAGES, opps.stage),
            "amount": opps.amount,
        }
    )
    return in_contract_order(frame, OPPORTUNITIES)


def intent_table(log: EventLog, account_id: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "account_id": account_id.take(log.account).reset_index(drop=True),
            "date": to_datetime64(log.day),
            "topic": labels(INTENT_TOPICS, log.kind),
            "strength": log.value,
        }
    )
    return in_contract_order(frame, INTENT_SIGNALS)


def activities_table(log: EventLog, account_id: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "account_id": account_id.take(log.account).reset_index(drop=True),
            "date": to_datetime64(log.day),
            "type": labels(ACTIVITY_TYPES, log.kind),
        }
    )
    return in_contract_order(frame, ACTIVITIES)

"""plan_lib.demo: the seeded demo data generator and its writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from plan_lib import geo
from plan_lib.contract import TABLES, TABLES_BY_NAME
from plan_lib.demo import (
    DEFAULT_SEGMENT_RULES,
    SEGMENTS,
    DemoDataError,
    Period,
    generate_demo_data,
    write_demo_data,
)
from plan_lib.demo.segments import segment_codes

N_ACCOUNTS, N_REPS = 2000, 20
SNAPSHOT = pd.Timestamp("2026-12-31")
PERIOD_START, PERIOD_END = pd.Timestamp("2027-01-01"), pd.Timestamp("2027-03-31")

DTYPE_OF_KIND = {
    "str": lambda s: s.dtype == "str",
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "bool": pd.api.types.is_bool_dtype,
    "date": pd.api.types.is_datetime64_dtype,
}


@pytest.fixture(scope="module")
def data():
    return generate_demo_data(N_ACCOUNTS, N_REPS, seed=0)


@pytest.fixture(scope="module")
def accounts(data) -> pd.DataFrame:
    return data.tables["accounts"]


@pytest.fixture(scope="module")
def reps(data) -> pd.DataFrame:
    return data.tables["reps"]


@pytest.fixture(scope="module")
def opps(data) -> pd.DataFrame:
    return data.tables["opportunities"]


def auc(won: np.ndarray, score: np.ndarray) -> float:
    ranks = rankdata(score)
    n1, n0 = won.sum(), (~won).sum()
    return float((ranks[won].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(data):
    again = generate_demo_data(N_ACCOUNTS, N_REPS, seed=0)
    for name, frame in data.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], obj=name)
    for name, frame in data.truth.items():
        pd.testing.assert_frame_equal(frame, again.truth[name], obj=name)


def test_different_seed_gives_different_data(data):
    other = generate_demo_data(N_ACCOUNTS, N_REPS, seed=1)
    assert not other.tables["accounts"]["employees"].equals(data.tables["accounts"]["employees"])
    assert not other.tables["accounts"]["postal_code"].equals(
        data.tables["accounts"]["postal_code"]
    )
    assert len(other.tables["opportunities"]) != len(data.tables["opportunities"])


# contract shape ------------------------------------------------------------------------


def test_every_contract_table_with_exact_columns_and_types(data):
    assert set(data.tables) == {t.name for t in TABLES}
    for table in TABLES:
        frame = data.tables[table.name]
        assert list(frame.columns) == table.column_names, table.name
        assert len(frame) > 0, table.name
        for column in table.columns:
            assert DTYPE_OF_KIND[column.kind](frame[column.name]), (table.name, column.name)
            values = frame[column.name]
            if not column.nullable:
                assert values.notna().all(), (table.name, column.name)
            if column.allowed:
                assert values.dropna().isin(column.allowed).all(), (table.name, column.name)
            if column.min is not None:
                assert (values.dropna() >= column.min).all(), (table.name, column.name)
            if column.max is not None:
                assert (values.dropna() <= column.max).all(), (table.name, column.name)


def test_keys_are_unique(data):
    for table in TABLES:
        if table.key:
            frame = data.tables[table.name]
            assert not frame.duplicated(list(table.key)).any(), table.name


def test_references_resolve(data):
    """Strict references all resolve; soft ones only miss for former reps."""
    for table in TABLES:
        for ref in table.references:
            values = data.tables[table.name][ref.column].dropna()
            known = values.isin(data.tables[ref.table][ref.key])
            if ref.strict:
                assert known.all(), (table.name, ref.column)
            else:
                assert values[~known].str.startswith("R-FORMER-").all(), (table.name, ref.column)
    opp_owners = data.tables["opportunities"]["owner_rep_id"].dropna()
    assert opp_owners.str.startswith("R-FORMER-").any()  # realistic history keeps departed reps


# roster --------------------------------------------------------------------------------


def test_hierarchy_is_acyclic_with_one_vp(reps):
    manager = dict(zip(reps["rep_id"], reps["manager_id"], strict=True))
    role = dict(zip(reps["rep_id"], reps["role"], strict=True))
    tops = reps[reps["manager_id"].isna()]
    assert len(tops) == 1 and tops["role"].iloc[0] == "vp"
    assert (reps["role"] == "vp").sum() == 1
    expected_boss = {"rep": "manager", "manager": "director", "director": "vp"}
    for rep_id in reps["rep_id"]:
        seen, node = set(), rep_id
        while isinstance(manager[node], str):
            assert node not in seen, f"cycle through {node}"
            seen.add(node)
            assert role[manager[node]] == expected_boss[role[node]]
            node = manager[node]
        assert role[node] == "vp"


def test_rep_counts_segments_and_regions(reps):
    sellers = reps[reps["role"] == "rep"]
    assert len(sellers) == N_REPS
    assert set(sellers["segment"]) == set(SEGMENTS)
    assert set(sellers["region"]) == set(geo.REGIONS)
    assert sellers.groupby(["segment", "region"]).size().min() >= 1
    share = sellers["segment"].value_counts(normalize=True)
    assert share["Enterprise"] < share["Mid-Market"] < share["SMB"]
    leads = reps[reps["role"] != "rep"]
    assert (leads["capacity_fte"] == 0).all()
    assert (sellers.loc[sellers["status"] != "open", "capacity_fte"] > 0).all()


def test_exactly_one_leaving_and_one_open_rep(reps, accounts):
    sellers = reps[reps["role"] == "rep"]
    assert (sellers["status"] == "leaving").sum() == 1
    assert (reps["status"] == "open").sum() == 1
    open_row = reps[reps["status"] == "open"].iloc[0]
    assert open_row["role"] == "rep"
    assert pd.isna(open_row["name"]) and pd.isna(open_row["email"])
    assert PERIOD_START < open_row["start_date"] <= PERIOD_END
    assert open_row["capacity_fte"] == 1.0
    assert not np.isnan(open_row["home_lat"])
    assert open_row["rep_id"] not in set(accounts["current_owner"].dropna())
    leaving = sellers.loc[sellers["status"] == "leaving", "rep_id"].iloc[0]
    assert (accounts["current_owner"] == leaving).sum() > 0


def test_new_hires_and_part_timers(reps):
    sellers = reps[(reps["role"] == "rep") & (reps["status"] != "open")]
    recent = sellers["start_date"] > SNAPSHOT - pd.Timedelta(days=183)
    assert recent.sum() == round(0.10 * N_REPS)
    assert (sellers.loc[recent, "capacity_fte"] == 1.0).all()
    assert (sellers["capacity_fte"] == 0.5).sum() == 2
    assert (sellers["start_date"] <= SNAPSHOT).all()


def test_names_and_emails_are_unique_people(reps):
    people = reps.dropna(subset=["name"])
    assert people["name"].is_unique and people["email"].is_unique
    assert people["email"].str.fullmatch(r"[a-z]+\.[a-z]+@example\.com").all()


# accounts ------------------------------------------------------------------------------


def test_families_share_the_parents_owner(accounts):
    children = accounts.dropna(subset=["parent_account_id"])
    assert len(children) > 0
    parents = accounts.set_index("account_id").loc[children["parent_account_id"]]
    assert parents["parent_account_id"].isna().all()  # no grandchildren
    owner_of = accounts.set_index("account_id")["current_owner"]
    assert (
        children["current_owner"].to_numpy()
        == owner_of.loc[children["parent_account_id"]].to_numpy()
    ).all()
    per_parent = children.groupby("parent_account_id").size()
    assert per_parent.between(1, 6).all()
    assert 0.01 < len(per_parent) / len(accounts) < 0.03


def test_customers_and_arr(accounts):
    assert 0.16 < accounts["is_customer"].mean() < 0.24
    customers = accounts[accounts["is_customer"]]
    assert (customers["current_arr"] > 0).all()
    assert accounts.loc[~accounts["is_customer"], "current_arr"].isna().all()
    # bigger accounts buy more
    big = accounts["employees"] >= accounts["employees"].quantile(0.9)
    assert accounts.loc[big, "is_customer"].mean() > accounts.loc[~big, "is_customer"].mean()


def test_employees_are_heavy_tailed_and_revenue_follows(accounts):
    employees = np.sort(accounts["employees"].to_numpy())[::-1]
    top = employees[: len(employees) // 100].sum()
    assert top / employees.sum() > 0.10
    assert employees[0] > 50 * np.median(employees)
    corr = np.corrcoef(np.log(accounts["employees"]), np.log(accounts["annual_revenue"]))[0, 1]
    assert corr > 0.7
    assert accounts["industry"].nunique() == 12


def test_segment_left_empty_and_default_rules_reproduce_the_truth(data, accounts):
    assert accounts["segment"].isna().all()
    row_of = pd.Series(np.arange(len(accounts)), index=accounts["account_id"])
    parent = accounts["parent_account_id"].map(row_of).fillna(-1).to_numpy(dtype=np.int64)
    codes = segment_codes(
        accounts["employees"].to_numpy(),
        accounts["annual_revenue"].to_numpy(),
        parent,
        DEFAULT_SEGMENT_RULES,
    )
    derived = np.array(SEGMENTS)[codes]
    assert (derived == data.truth["account_truth"]["true_segment"].to_numpy()).all()
    assert set(derived) == set(SEGMENTS)


def test_locations_are_real_us_places(accounts):
    assert accounts["state"].isin(geo.STATES).all()
    assert (accounts["country"] == "US").all()
    assert accounts["postal_code"].str.fullmatch(r"\d{5}").all()
    assert accounts["postal_code"].str.startswith("0").any()
    state_fips = geo.load_states().set_index("state")["state_fips"]
    assert (accounts["county_fips"].str[:2] == accounts["state"].map(state_fips)).all()
    zip_point = geo.locate_by_postal_code(accounts["postal_code"])
    placed = accounts.dropna(subset=["lat"])
    distance = geo.haversine_km(
        placed["lat"],
        placed["lon"],
        zip_point.loc[placed.index, "lat"],
        zip_point.loc[placed.index, "lon"],
    )
    assert np.median(distance) < 5


def test_a_few_accounts_lack_coordinates_but_can_be_placed_by_zip(accounts):
    missing = accounts[accounts["lat"].isna()]
    assert 0 < len(missing) < 0.02 * len(accounts)
    assert missing["lon"].isna().all()
    assert geo.locate_by_postal_code(missing["postal_code"]).notna().all().all()


def test_current_owners_are_imperfect_but_local(data, accounts, reps):
    owned = accounts.dropna(subset=["current_owner"])
    assert 0.015 < accounts["current_owner"].isna().mean() < 0.05
    assert not accounts.loc[accounts["current_owner"].isna(), "is_customer"].any()
    truth = data.truth["account_truth"].set_index("account_id")
    rep = reps.set_index("rep_id")
    heads = owned[owned["parent_account_id"].isna()]
    same_segment = (
        truth.loc[heads["account_id"], "true_segment"].to_numpy()
        == rep.loc[heads["current_owner"], "segment"].to_numpy()
    )
    assert same_segment.all()
    same_region = (
        geo.region_of_state(heads["state"]).to_numpy()
        == rep.loc[heads["current_owner"], "region"].to_numpy()
    )
    assert same_region.all()
    load = (
        truth["expected_annual_bookings"]
        .groupby(owned.set_index("account_id")["current_owner"])
        .sum()
    )
    sellers = rep[(rep["role"] == "rep") & (rep["status"] != "open")]
    per_fte = load.reindex(sellers.index).fillna(0) / sellers["capacity_fte"]
    relative = per_fte / per_fte.groupby(sellers["segment"]).transform("mean") - 1
    assert relative.abs().max() > 0.15  # last period's books are not balanced


# signals, opportunities and the hidden truth -------------------------------------------


def test_intent_and_activities_are_dated_and_typed(data, accounts):
    intent = data.tables["intent_signals"]
    assert 0.25 < intent["account_id"].nunique() / len(accounts) < 0.45
    assert intent["topic"].nunique() == 8
    assert intent["date"].min() >= pd.Timestamp("2025-07-01") and intent["date"].max() <= PERIOD_END
    assert (intent["date"] > SNAPSHOT).any()
    activities = data.tables["activities"]
    assert set(activities["type"]) == {"meeting", "email", "call", "demo"}
    assert activities["date"].max() <= PERIOD_END


def test_opportunity_dates_and_stages(opps):
    is_open = opps["stage"] == "open"
    assert opps.loc[is_open, "close_date"].isna().all()
    closed = opps[~is_open]
    assert closed["close_date"].notna().all()
    cycle = (closed["close_date"] - closed["created_date"]).dt.days
    assert cycle.between(20, 150).all()
    assert opps["created_date"].min() >= pd.Timestamp("2024-07-01")
    assert opps["created_date"].max() <= PERIOD_END
    assert closed["close_date"].max() <= PERIOD_END
    # history ends at the snapshot, but the period's own activity is in the extract
    assert (opps["created_date"] >= PERIOD_START).any()
    in_period = closed[closed["close_date"] >= PERIOD_START]
    assert (in_period["stage"] == "won").any() and (in_period["stage"] == "lost").any()
    assert 3.0 < len(opps) / N_ACCOUNTS < 6.0


def test_won_rate_rises_with_the_true_probability(data, opps):
    closed = opps[opps["stage"] != "open"].merge(
        data.truth["opportunity_truth"], on="opportunity_id"
    )
    assert len(closed) == (opps["stage"] != "open").sum()
    won = (closed["stage"] == "won").to_numpy()
    quartile = pd.qcut(closed["true_win_probability"], 4, labels=False)
    rates = pd.Series(won).groupby(quartile.to_numpy()).mean()
    assert rates.is_monotonic_increasing
    assert rates.iloc[-1] > 2 * rates.iloc[0]
    assert 0.70 < auc(won, closed["true_win_probability"].to_numpy()) < 0.90
    # calibrated: predicted and observed win rates agree overall
    assert closed["true_win_probability"].mean() == pytest.approx(won.mean(), abs=0.03)


def test_account_truth_covers_every_account(data, accounts):
    truth = data.truth["account_truth"]
    assert truth["account_id"].equals(accounts["account_id"])
    assert truth["true_propensity"].between(0, 1).all()
    trend = data.truth["bookings_trend"]
    sellers = data.tables["reps"].query("role == 'rep'")["rep_id"]
    assert set(trend.loc[trend["unit_type"] == "rep", "unit_id"]) == set(sellers)
    assert set(trend.loc[trend["unit_type"] == "region", "unit_id"]) == set(geo.REGIONS)


def test_targets_grow_10_to_20_percent_over_last_years_bookings(data, opps):
    targets = data.tables["targets"]
    assert sorted(targets["period"].unique()) == ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    assert len(targets) == 4 * len(SEGMENTS) * len(geo.REGIONS)
    accounts = data.tables["accounts"].merge(data.truth["account_truth"], on="account_id")
    accounts["region"] = geo.region_of_state(accounts["state"])
    won = opps[opps["stage"] == "won"].merge(accounts[["account_id", "true_segment", "region"]])
    won["period"] = (
        (won["close_date"].dt.year + 1).astype(str) + "Q" + won["close_date"].dt.quarter.astype(str)
    )
    last_year = won.groupby(["period", "true_segment", "region"])["amount"].sum()
    key = pd.MultiIndex.from_frame(targets[["period", "segment", "region"]])
    base = last_year.reindex(key).fillna(0).to_numpy()
    ratio = targets["bookings_target"].to_numpy() / np.maximum(base, 1)
    sizeable = base > 50_000
    assert sizeable.sum() > 20
    assert ((ratio[sizeable] > 1.09) & (ratio[sizeable] < 1.21)).all()


def test_quota_history_matches_what_reps_won(data, opps):
    quotas = data.tables["quota_history"]
    assert sorted(quotas["period"].unique()) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    won = opps[
        (opps["stage"] == "won") & opps["close_date"].between("2026-01-01", "2026-12-31")
    ].copy()
    won["period"] = "2026Q" + won["close_date"].dt.quarter.astype(str)
    actual = won.groupby(["period", "owner_rep_id"])["amount"].sum()
    key = pd.MultiIndex.from_frame(quotas[["period", "rep_id"]])
    assert np.allclose(quotas["bookings"], actual.reindex(key).fillna(0).to_numpy())
    assert 0.7 < quotas["bookings"].sum() / quotas["quota"].sum() < 1.1
    starts = data.tables["reps"].set_index("rep_id")["start_date"]
    quarter_start = pd.PeriodIndex(quotas["period"], freq="Q").start_time
    assert (starts.loc[quotas["rep_id"]].to_numpy() <= quarter_start.to_numpy()).all()
    sellers = data.tables["reps"].query("role == 'rep' and status != 'open'")
    q4 = quotas[quotas["period"] == "2026Q4"]
    assert set(q4["rep_id"]) == set(sellers.loc[sellers["start_date"] <= "2026-10-01", "rep_id"])


# parameters and periods ----------------------------------------------------------------


def test_periods_parse_generally():
    period = Period.parse("2027q3")
    assert period.label == "2027Q3"
    assert pd.Timestamp(np.datetime64(period.start, "D")) == pd.Timestamp("2027-07-01")
    assert pd.Timestamp(np.datetime64(period.end, "D")) == pd.Timestamp("2027-09-30")
    assert period.shift(2).label == "2028Q1" and period.shift(-3).label == "2026Q4"
    with pytest.raises(DemoDataError, match="YYYYQn"):
        Period.parse("2027-Q5")


def test_other_periods_shift_every_date():
    data = generate_demo_data(1000, 10, seed=2, period="2025Q3")
    assert data.as_of.isoformat() == "2025-06-30"
    opps = data.tables["opportunities"]
    assert opps["created_date"].min() >= pd.Timestamp("2023-01-01")
    assert opps["created_date"].max() <= pd.Timestamp("2025-09-30")
    assert sorted(data.tables["targets"]["period"].unique()) == [
        "2025Q3",
        "2025Q4",
        "2026Q1",
        "2026Q2",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_reps": 5}, "n_reps"),
        ({"period": "2027-1"}, "period"),
        ({"n_accounts": 10}, "n_accounts"),
    ],
)
def test_bad_arguments_raise_a_clear_error(kwargs, message):
    with pytest.raises(DemoDataError, match=message):
        generate_demo_data(**{"n_accounts": 2000, "n_reps": 20, **kwargs})


# writing -------------------------------------------------------------------------------


def test_csv_files_follow_the_conventions(data, tmp_path):
    paths = write_demo_data(data, tmp_path / "a")
    assert set(paths) == set(data.tables) | {f"ground_truth/{n}" for n in data.truth}
    for name, table in TABLES_BY_NAME.items():
        text = paths[name].read_text()
        header, first = text.splitlines()[:2]
        assert header.split(",") == table.column_names
        assert len(text.splitlines()) == len(data.tables[name]) + 1
    raw = pd.read_csv(paths["accounts"], dtype=str, keep_default_na=False)
    assert raw["postal_code"].str.fullmatch(r"\d{5}").all()
    assert raw["postal_code"].str.startswith("0").any()
    assert raw["county_fips"].str.fullmatch(r"\d{5}").all()
    assert set(raw["is_customer"]) == {"true", "false"}
    assert (raw["segment"] == "").all()
    assert raw.loc[raw["is_customer"] == "false", "current_arr"].eq("").all()
    opps = pd.read_csv(paths["opportunities"], dtype=str, keep_default_na=False)
    assert opps["created_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert opps.loc[opps["stage"] == "open", "close_date"].eq("").all()
    reps = pd.read_csv(paths["reps"], dtype=str, keep_default_na=False)
    assert reps.loc[reps["status"] == "open", ["name", "email"]].eq("").all().all()
    assert (tmp_path / "a" / "README.md").exists()


def test_same_seed_writes_byte_identical_files(data, tmp_path):
    first = write_demo_data(data, tmp_path / "a")
    second = write_demo_data(generate_demo_data(N_ACCOUNTS, N_REPS, seed=0), tmp_path / "b")
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name


def test_parquet_round_trip(data, tmp_path):
    paths = write_demo_data(data, tmp_path, fmt="parquet")
    for name, frame in data.tables.items():
        back = pd.read_parquet(paths[name])
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
    back = pd.read_parquet(paths["accounts"])
    assert back["postal_code"].equals(data.tables["accounts"]["postal_code"])
    with pytest.raises(DemoDataError, match="csv"):
        write_demo_data(data, tmp_path, fmt="xlsx")  # type: ignore[arg-type]


# bigger data: the properties that only show at scale -----------------------------------


@pytest.mark.slow
def test_distributions_at_20k_accounts():
    data = generate_demo_data(20_000, 80, seed=3)
    opps, accounts = data.tables["opportunities"], data.tables["accounts"]
    assert 4.0 < len(opps) / len(accounts) < 5.0
    assert (accounts["employees"] >= 10_000).sum() >= 3
    closed = opps[opps["stage"] != "open"].merge(data.truth["opportunity_truth"])
    assert (
        0.75
        < auc((closed["stage"] == "won").to_numpy(), closed["true_win_probability"].to_numpy())
        < 0.85
    )
    truth = data.truth["account_truth"].set_index("account_id")
    reps = data.tables["reps"].set_index("rep_id")
    sellers = reps[(reps["role"] == "rep") & (reps["status"] != "open")]
    owned = accounts.dropna(subset=["current_owner"]).set_index("account_id")
    load = truth.loc[owned.index, "expected_annual_bookings"].groupby(owned["current_owner"]).sum()
    per_fte = load.reindex(sellers.index).fillna(0) / sellers["capacity_fte"]
    relative = (
        per_fte / per_fte.groupby([sellers["segment"], sellers["region"]]).transform("mean") - 1
    )
    assert 0.15 < relative.abs().quantile(0.9) < 0.5  # roughly +/-30%


def test_propensity_docstring_states_the_coefficients_in_use():
    """The formula is documented exactly: the docstring must not drift from the code."""
    from plan_lib.demo import propensity
    from plan_lib.demo.vocabulary import INDUSTRIES

    doc = " ".join(propensity.__doc__.split())
    for name in ("B0", "B_EMPLOYEES", "B_INTENT", "B_CUSTOMER", "B_ACTIVITY"):
        assert f"{name} = {getattr(propensity, name)}" in doc, name
    for industry in INDUSTRIES:
        effect = industry.propensity_effect
        text = "0" if effect == 0 else f"{effect:+.2f}"
        assert f"{industry.name} {text}" in doc, industry.name

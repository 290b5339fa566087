"""Draft -> review -> lock -> publish on small demo data, through the notebook (papermill) and the commands."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO

from plan_lib.cli import TqpGroup
from plan_lib.demo import generate_demo_data, write_demo_data
from plan_lib.fairness.cli import lock_command, publish_command
from plan_lib.fairness.lock import lock_record
from plan_lib.review.access import ReviewSession
from plan_lib.review.admin import add_user
from plan_lib.review.serve import prepare_review
from plan_lib.review.store import open_store
from plan_lib.rundir import RunFolder
from plan_lib.runs import DRAFT_STEPS, latest_run, run_steps

TEST_PARAMS = REPO / "parameters" / "test.yaml"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A draft run of small demo data, opened for review, with a move and a quota change by RevOps."""
    root = tmp_path_factory.mktemp("fairness")
    write_demo_data(generate_demo_data(n_accounts=1500, n_reps=20, seed=3), root / "data")
    outputs = root / "outputs"
    draft = run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(root / "data"), outputs=outputs, progress=False)
    store = open_store(f"sqlite:///{outputs / 'review.sqlite'}")  # where `tqp serve` and `tqp lock` look by default
    try:
        version = prepare_review(store, draft, period="2027Q1")
        add_user(store, "ops1", "Olga Ops", "revops")
        session = ReviewSession(store, "ops1", version)
        accounts = session.accounts()
        books = accounts.groupby("rep_id").size()
        smb = accounts[accounts["segment"] == "SMB"]
        giver = smb["rep_id"].value_counts().index[0]
        taker = sorted(set(smb["rep_id"]) - {giver})[0]
        account = smb.loc[smb["rep_id"] == giver, "account_id"].iloc[0]
        session.reassign(account, taker, "the taker knows their CFO", int(smb.set_index("account_id").at[account, "etag"]))
        session.set_quota(taker, 123_000.0, "a bigger book", 0)
    finally:
        store.dispose()
    return {"draft": draft, "outputs": outputs, "version": version, "account": account, "giver": giver, "taker": taker,
            "books": books}


def _cli() -> TqpGroup:
    group = TqpGroup("tqp")
    group.add_command(lock_command)
    group.add_command(publish_command)
    return group


def test_lock_checks_fairness_then_locks_with_waivers_and_publishes(reviewed: dict) -> None:
    outputs, runner = reviewed["outputs"], CliRunner()
    refused = runner.invoke(_cli(), ["lock", str(TEST_PARAMS), "--outputs", str(outputs), "--quiet"])
    lock_dir = latest_run(outputs, "2027Q1", "lock")
    assert lock_dir is not None, refused.output
    run = RunFolder(lock_dir)
    assert run.manifest()["status"] == "complete" and (run.path / "notebooks" / "05_lock_fairness.ipynb").exists()

    # the review edits are in the refined plan: the account moved, the quota kept as set, sums still exact
    owners = run.read_table("assignments").set_index("account_id")
    assert owners.at[reviewed["account"], "rep_id"] == reviewed["taker"] and owners.at[reviewed["account"], "overridden"]
    assert owners.at[reviewed["account"], "draft_rep_id"] == reviewed["giver"]
    quotas = run.read_table("quotas").set_index("rep_id")
    assert quotas.at[reviewed["taker"], "quota"] == pytest.approx(123_000.0)
    draft_quotas = RunFolder(reviewed["draft"]).read_table("quotas")
    assert quotas["quota"].sum() == pytest.approx(draft_quotas["quota"].sum())  # others absorbed the change
    books = run.read_table("books").set_index("rep_id")
    assert books.at[reviewed["taker"], "accounts"] == reviewed["books"][reviewed["taker"]] + 1

    # the lock run has its maps, and the review's move is on the "moves made in review" map
    maps = {path.name for path in (run.path / "maps").iterdir()}
    assert {"coverage.png", "moves.png", "review-moves.png", "unlocated_accounts.csv"} <= maps
    assert any(name.startswith("books") for name in maps)
    assert (run.path / "maps" / "review-moves.png").stat().st_size > 20_000

    criteria = run.read_table("fairness_criteria")
    failing = criteria.loc[criteria["status"] == "fail", "name"].tolist()
    report = (run.path / "fairness_report.html").read_text()
    assert "data:image/png;base64," in report and "src='http" not in report and 'src="http' not in report
    assert all(html.escape(label) in report for label in criteria["label"])
    assert run.read_table("fairness_comparison")["verdict"].isin(["fairer", "less fair", "unchanged"]).all()

    if failing:  # without waivers the lock is refused, naming each failing criterion
        assert refused.exit_code == 2 and all(name in refused.output for name in failing), refused.output
        waive = [arg for name in failing for arg in ("--waive", name, f"accepted for the demo: {name}")]
        locked = runner.invoke(_cli(), ["lock", str(TEST_PARAMS), "--outputs", str(outputs), "--run", str(lock_dir),
                                        *waive, "--by", "Vera VP"])
    else:
        locked = refused
    assert locked.exit_code == 0, locked.output
    store = open_store(f"sqlite:///{outputs / 'review.sqlite'}")
    try:
        record = lock_record(store, reviewed["version"])
    finally:
        store.dispose()
    assert record is not None and record.run_dir == str(lock_dir) and sorted(w["criterion"] for w in record.waivers) == sorted(failing)

    published = runner.invoke(_cli(), ["publish", str(TEST_PARAMS), "--outputs", str(outputs)])
    assert published.exit_code == 0, published.output
    folder = Path(published.output.strip().splitlines()[-1])
    assert latest_run(outputs, "2027Q1", "publish") == folder  # what `tqp monitor` tracks from now on
    exports = {name: pd.read_csv(folder / "exports" / f"{name}.csv", dtype={"account_id": str, "owner_rep_id": str, "rep_id": str})
               for name in ("account_owners", "quotas", "quota_schedule", "account_changes")}
    plan = run.read_table("assignments")
    assert len(exports["account_owners"]) == len(plan) and exports["account_owners"]["account_id"].is_unique
    assert set(exports["account_owners"]["account_id"]) == set(plan["account_id"])
    per_rep = exports["account_owners"].groupby("owner_rep_id").size()
    assert per_rep.to_dict() == books.loc[books["accounts"] > 0, "accounts"].to_dict()
    assert exports["quotas"]["quota"].sum() == pytest.approx(quotas["quota"].sum())
    assert exports["quota_schedule"].groupby("rep_id")["quota"].sum().to_dict() == pytest.approx(exports["quotas"].set_index("rep_id")["quota"].to_dict())
    change = exports["account_changes"].set_index("account_id").loc[reviewed["account"]]
    assert change["new_owner_rep_id"] == reviewed["taker"]
    summary = json.loads((folder / "exports" / "summary.json").read_text())
    assert summary["accounts"] == len(plan) and summary["baseline"].startswith("the CRM")

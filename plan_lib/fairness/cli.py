"""``tqp lock`` and ``tqp publish`` (click commands registered on the main ``tqp`` group in ``plan_lib/cli.py``).

``tqp lock PARAMS``: run ``notebooks/05_lock_fairness.ipynb`` into a new lock run
folder (the version's overrides applied to its draft, quotas re-allocated, the
fairness criteria checked, the HTML report written), then lock the version in
the review store, only if no criterion fails or each failing one is waived
(``--waive CRITERION REASON --by NAME``). ``--check-only`` stops before the lock; ``--run FOLDER`` later locks the plan that
such a run checked (refused if the plan was edited since).

``tqp publish PARAMS``: CRM exports of the newest locked version of the period
and the change list against the previous publication, in a new publish folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from plan_lib.errors import TqpError


@click.command("lock")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version_id", type=int, help="plan version to lock (default: the newest version of --plan, else of the period)")
@click.option("--plan", "plan", type=click.Path(exists=True, file_okay=False), help="draft run folder (default: the version's draft)")
@click.option("--store", "store_url", help="review store URL (default: TQP_REVIEW_URL, else review.sqlite in the outputs folder)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders (default: `outputs` in the parameters)")
@click.option("--waive", "waive", nargs=2, multiple=True, metavar="CRITERION REASON",
              help="accept a failing criterion, saying why (repeat per criterion; needs --by)")
@click.option("--by", "by", help="who accepts the waived failures (name or e-mail), recorded with each waiver")
@click.option("--check-only", is_flag=True, help="apply the review and write the fairness report, but do not lock")
@click.option("--run", "checked_run", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="lock the plan checked by this earlier lock run (e.g. after --check-only and reading its report) without checking again")
@click.option("--quiet", is_flag=True, help="no progress bar")
def lock_command(params: Path, version_id: int | None, plan: str | None, store_url: str | None, outputs: Path | None,
                 waive: tuple[tuple[str, str], ...], by: str | None, check_only: bool, checked_run: Path | None, quiet: bool) -> None:
    """Apply the review to the draft, check fairness, write the report, and lock the plan version; print the run folder last.

    The lock is refused when a criterion fails without a waiver, or when the plan was
    edited after the check: the store keeps the version as it was.
    """
    from plan_lib.fairness.api import LOCK_STEPS
    from plan_lib.fairness.lock import lock_version, parse_waivers
    from plan_lib.fairness.target import is_locked, resolve_target
    from plan_lib.parameters import load_parameters
    from plan_lib.review.store import open_store
    from plan_lib.review.versions import check_transition
    from plan_lib.rundir import RunFolder
    from plan_lib.runs import run_steps

    if waive and not by:
        raise click.UsageError("--waive needs --by NAME: a waiver records who accepts the failure")
    if checked_run and (check_only or plan):
        raise click.UsageError("--run locks a plan already checked: it does not go with --check-only or --plan")
    waivers = parse_waivers([{"criterion": c, "by": by or "", "reason": r} for c, r in waive])
    plan_params = load_parameters(params)
    root = outputs or Path(plan_params.outputs)
    if checked_run:
        version_id = version_id or RunFolder(checked_run).read_report("refine").get("version_id")
        if not version_id:
            raise TqpError(f"{checked_run} checked a draft without a plan version: there is nothing to lock")
    target = resolve_target(plan_params, root, store_url, version_id, plan)
    locking = target.version_id if not check_only else None
    if not check_only:
        if target.version_id is None:
            raise TqpError(f"the draft {target.plan_run} has no plan version in {target.store_url}: open it for review first "
                           "(`tqp serve`), or use --check-only to check the draft as it is")
        if is_locked(target.store_url, target.version_id):
            raise TqpError(f"plan version {target.version_id} is already locked; a change after lock is a new version")
        check_transition(target.state or "", "locked")
    extra = {"plan_run": str(target.plan_run), "store_url": target.store_url if target.version_id else "",
             "version_id": target.version_id or 0, "waivers": json.dumps([w.model_dump() for w in waivers])}
    folder = checked_run.resolve() if checked_run else run_steps(
        params, LOCK_STEPS, data=str(target.plan_run), outputs=outputs, extra_parameters=extra, progress=not quiet, stage="lock")
    fairness = RunFolder(folder).read_report("fairness")
    counts = fairness["counts"]
    click.echo(f"fairness: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail; report {fairness['report']}")
    if locking is not None:
        store = open_store(target.store_url)
        try:
            record = lock_version(store, locking, folder, waivers)
        finally:
            store.dispose()
        waived = ", ".join(w["criterion"] for w in record.waivers)
        click.echo(f"locked plan version {record.version_id}" + (f" (waived: {waived})" if waived else ""))
    click.echo(str(folder))


@click.command("publish")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version_id", type=int, help="locked plan version to publish (default: the newest locked version of the period)")
@click.option("--store", "store_url", help="review store URL (default: TQP_REVIEW_URL, else review.sqlite in the outputs folder)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders (default: `outputs` in the parameters)")
@click.option("--previous", "previous", type=click.Path(exists=True, file_okay=False),
              help="publish folder to compare with (default: the newest publication recorded in the store)")
def publish_command(params: Path, version_id: int | None, store_url: str | None, outputs: Path | None, previous: str | None) -> None:
    """Write CRM-ready exports of a locked plan and the change list; print the publish folder last."""
    from plan_lib.fairness.publish import locked_versions, publish_plan
    from plan_lib.fairness.target import store_exists
    from plan_lib.parameters import load_parameters
    from plan_lib.review.params import resolve_store_url
    from plan_lib.review.store import open_store

    plan_params = load_parameters(params)
    root = outputs or Path(plan_params.outputs)
    url = store_url or resolve_store_url(plan_params.review, root)
    if not store_exists(url):
        raise TqpError(f"no review store at {url}: only a plan locked with `tqp lock` can be published")
    store = open_store(url)
    try:
        if version_id is None:
            candidates = locked_versions(store, plan_params.period)
            if not candidates:
                raise TqpError(f"no locked, unpublished plan version of {plan_params.period} in {url}: run `tqp lock` first")
            version_id = candidates[0]
        result = publish_plan(store, version_id, outputs=root, previous_run=previous)
    finally:
        store.dispose()
    checks = result.exports.checks
    click.echo(f"published plan version {result.version_id}: {checks['accounts']:,} accounts, {checks['quota_reps']} quotas "
               f"totalling {checks['quota_total']:,.0f}")
    click.echo(f"against {checks['baseline']}: {checks['account_changes']:,} owner changes, {checks['quota_changes']} quota changes")
    for name, path in result.files.items():
        click.echo(f"  {name}: {path}")
    click.echo(str(result.run_dir))

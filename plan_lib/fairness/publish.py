"""``tqp publish``: CRM-ready files of a locked plan in a new publish run folder, recorded in the store.

The publish folder ``<outputs>/<period>/publish/<run id>/`` holds the plan's
tables (``data/``: what monitoring tracks), the fairness report, and
``exports/`` with the CSV files for the CRM and the change list against the
previous publication (see ``exports.py``). Order of work, so that nothing half
done ever looks published:

1. the exports are built and reconciled in memory (a mismatch stops here);
2. the folder is written under ``.incomplete-<id>``;
3. one store transaction records the publication and moves the version
   ``locked -> published`` (refused if the version is not locked, or already published);
4. the folder is renamed into place (``<id>-FAILED`` if step 3 failed).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from plan_lib.fairness.errors import PublishError
from plan_lib.fairness.exports import CrmExports, build_exports
from plan_lib.paramtypes import period_bounds
from plan_lib.review.admin import system_actor
from plan_lib.review.errors import ReviewError
from plan_lib.review.lock_models import PlanLock, Publication
from plan_lib.review.models import AuditEntry, PlanVersion, utcnow
from plan_lib.review.store import Store
from plan_lib.review.versions import check_transition
from plan_lib.rundir import RunFolder, write_json
from plan_lib.runs import (
    FAILED_SUFFIX,
    INCOMPLETE_PREFIX,
    code_version,
    new_run_id,
    package_versions,
)

PLAN_TABLES = ("assignments", "books", "quotas", "rollup", "capacity", "quota_schedule", "accounts", "scores", "reps",
               "targets", "fairness_criteria")
ID_COLUMNS = {"account_id": "str", "owner_rep_id": "str", "rep_id": "str", "period": "str"}


@dataclass(frozen=True)
class PublishResult:
    run_dir: Path
    version_id: int
    publication_id: int
    exports: CrmExports
    files: dict[str, Path]
    previous: str | None


def read_exports(run_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The account owners and quotas of an earlier publication (ids kept as text)."""
    folder = Path(run_dir) / "exports"
    try:
        return {name: pd.read_csv(folder / f"{name}.csv", dtype=ID_COLUMNS, keep_default_na=False, na_values=[""])
                for name in ("account_owners", "quotas")}
    except FileNotFoundError as error:
        raise PublishError(f"{run_dir} is not a publish folder ({error.filename} is missing): pass the folder `tqp publish` printed") from None


def previous_publication(store: Store, exclude_version: int | None = None) -> tuple[int, str] | None:
    """The newest recorded publication whose folder still exists: the plan the CRM holds now."""
    with store.read() as session:
        rows = session.execute(select(Publication.publication_id, Publication.run_dir, Publication.version_id)
                               .order_by(Publication.published_at.desc(), Publication.publication_id.desc())).all()
    for publication_id, run_dir, version_id in rows:
        if version_id != exclude_version and (Path(run_dir) / "exports").exists():
            return int(publication_id), str(run_dir)
    return None


def locked_versions(store: Store, period: str | None = None) -> list[int]:
    """Versions locked and not yet published (newest first), optionally of one period."""
    with store.read() as session:
        query = (select(PlanLock.version_id).join(PlanVersion, PlanVersion.version_id == PlanLock.version_id)
                 .where(PlanVersion.state == "locked").order_by(PlanLock.locked_at.desc(), PlanLock.lock_id.desc()))
        if period:
            query = query.where(PlanLock.period == period)
        return [int(v) for v in session.scalars(query)]


def _plan_tables(run: RunFolder) -> dict[str, pd.DataFrame]:
    missing = [n for n in ("assignments", "books", "quotas", "quota_schedule", "reps", "accounts") if not run.has_table(n)]
    if missing:
        raise PublishError(f"{run.path} lacks {', '.join(missing)}: it is not a complete lock run (rerun `tqp lock`)")
    return {name: run.read_table(name) for name in PLAN_TABLES if run.has_table(name)}


def _write_folder(folder: Path, lock_run: RunFolder, tables: dict[str, pd.DataFrame], exports: CrmExports,
                  manifest: dict[str, Any]) -> dict[str, Path]:
    run = RunFolder(folder)
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        run.write_table(name, frame)
    report = lock_run.path / "fairness_report.html"
    if report.exists():
        shutil.copyfile(report, folder / "fairness_report.html")
    files = {}
    (folder / "exports").mkdir()
    for name, frame in exports.tables().items():
        path = folder / "exports" / f"{name}.csv"
        frame.to_csv(path, index=False, float_format="%.2f")
        files[name] = path
    write_json(folder / "exports" / "summary.json", exports.checks)
    run.write_report("publish", {**exports.checks, "lock_run": str(lock_run.path)})
    write_json(run.manifest_path, {**manifest, "reports": run.reports()})
    return files


def publish_plan(store: Store, version_id: int, *, outputs: str | Path | None = None, actor: str | None = None,
                 previous_run: str | Path | None = None) -> PublishResult:
    """Publish a locked plan version (see the module docstring); returns the folder and what changed."""
    actor = actor or system_actor()
    with store.read() as session:
        version = session.get(PlanVersion, version_id)
        if version is None:
            raise ReviewError(f"plan version {version_id} does not exist in {store!r}")
        lock = session.scalar(select(PlanLock).where(PlanLock.version_id == version_id))
        state = version.state
    if lock is None:
        raise PublishError(f"plan version {version_id} is not locked ({state}): run `tqp lock` first; only a locked plan is published")
    if state == "published":
        raise PublishError(f"plan version {version_id} is already published; a change after publishing is a new plan version")
    lock_run = RunFolder(lock.run_dir)
    manifest = lock_run.manifest()
    period = str(manifest.get("period") or lock.period or "")
    if not period:
        raise PublishError(f"{lock_run.path} does not say which period it plans (manifest.json): rerun `tqp lock`")
    start, end = period_bounds(period)
    parameters = manifest.get("parameters") or {}
    start = dt.date.fromisoformat(parameters["period_start"]) if parameters.get("period_start") else start
    end = dt.date.fromisoformat(parameters["period_end"]) if parameters.get("period_end") else end

    previous: dict[str, pd.DataFrame] | None = None
    previous_id: int | None = None
    previous_label: str | None = None
    if previous_run is not None:
        previous, previous_label = read_exports(previous_run), str(Path(previous_run).resolve())
    elif (found := previous_publication(store, exclude_version=version_id)) is not None:
        previous_id, previous_label = found
        previous = read_exports(previous_label)
    tables = _plan_tables(lock_run)
    exports = build_exports(tables, period, start, end, previous)

    root = Path(outputs).resolve() / period / "publish" if outputs else lock_run.path.parent.parent / "publish"
    run_id = new_run_id()
    staging, final = root / f"{INCOMPLETE_PREFIX}{run_id}", root / run_id
    started = dt.datetime.now(dt.UTC).isoformat()
    manifest_out = {
        "run_id": run_id, "stage": "publish", "period": period, "status": "complete", "started_utc": started,
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(), "version_id": version_id, "lock_id": lock.lock_id,
        "lock_run": str(lock_run.path), "previous_publication": previous_label, "baseline": exports.baseline,
        "parameters": parameters, "code": code_version(), "packages": package_versions(), "checks": exports.checks,
    }
    files = _write_folder(staging, lock_run, tables, exports, manifest_out)
    try:
        with store.write() as session:
            version = session.get(PlanVersion, version_id)
            assert version is not None  # checked above; versions are never deleted
            check_transition(version.state, "published")
            before = version.state
            version.state, version.updated_at = "published", utcnow()
            session.flush()
            now = utcnow()
            publication = Publication(
                version_id=version_id, lock_id=lock.lock_id, period=period, run_dir=str(final), previous_publication_id=previous_id,
                published_by=actor, published_at=now, accounts=int(exports.checks["accounts"]),
                accounts_changed=int(exports.checks["account_changes"]), quota_total=float(exports.checks["quota_total"]),
                quota_changes=int(exports.checks["quota_changes"]),
            )
            session.add(publication)
            session.flush()
            session.add(AuditEntry(
                at=now, actor_id=actor, version_id=version_id, action="state", subject=f"version:{version_id}", etag=version.row_version,
                summary=f"state {before} -> published: {exports.checks['accounts']} accounts, {exports.checks['account_changes']} owner changes "
                        f"and {exports.checks['quota_changes']} quota changes against {exports.baseline}",
                reason="publish", detail={"run_dir": str(final), "publication_id": publication.publication_id},
            ))
            publication_id = publication.publication_id
    except Exception:
        staging.rename(root / f"{run_id}{FAILED_SUFFIX}")
        raise
    staging.rename(final)
    return PublishResult(final, version_id, int(publication_id), exports,
                         {name: final / "exports" / path.name for name, path in files.items()}, previous_label)

"""Which review store, plan version and draft run ``tqp lock`` / ``tqp publish`` work on.

Defaults follow the rest of tqp: the store is ``--store``, else ``TQP_REVIEW_URL``,
else ``review.sqlite`` in the outputs folder (where ``tqp serve`` keeps it); the
version is the one named, else the newest version of the draft run given, else
the newest version of the period; the draft run is the version's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from plan_lib.errors import TqpError
from plan_lib.parameters import PlanParameters
from plan_lib.review.admin import find_version
from plan_lib.review.lock_models import PlanLock
from plan_lib.review.models import PlanVersion
from plan_lib.review.params import resolve_store_url
from plan_lib.review.store import open_store
from plan_lib.rundir import RunFolder
from plan_lib.runs import latest_run


@dataclass(frozen=True)
class LockTarget:
    """What ``tqp lock`` works on."""

    store_url: str
    version_id: int | None
    plan_run: Path
    state: str | None = None


def store_exists(url: str) -> bool:
    """A SQLite store exists when its file does (opening it would create an empty one); servers are assumed up."""
    if url.startswith("sqlite"):
        return Path(url.split("sqlite:///", 1)[-1]).exists()
    return True


def _version_of_period(session: Any, period: str) -> PlanVersion | None:
    """The newest version of a period (versions opened by ``tqp serve`` carry no period: their draft's manifest tells)."""
    for version in session.scalars(select(PlanVersion).order_by(PlanVersion.version_id.desc())):
        if version.period == period:
            return version
        manifest = Path(version.base_run_dir) / "manifest.json"
        if version.period is None and manifest.exists() and RunFolder(version.base_run_dir).manifest().get("period") == period:
            return version
    return None


def resolve_target(params: PlanParameters, outputs: str | Path, store_url: str | None = None, version_id: int | None = None,
                   plan_run: str | Path | None = None) -> LockTarget:
    """The store (``--store``, ``TQP_REVIEW_URL``, else review.sqlite in the outputs), the version and its draft run."""
    url = store_url or resolve_store_url(params.review, outputs)
    plan = Path(plan_run).resolve() if plan_run else None
    if not store_exists(url):
        if version_id:
            raise TqpError(f"no review store at {url}: pass --store, or lock a plan that was reviewed (`tqp serve`)")
        return LockTarget(url, None, plan or _latest_draft(params, outputs))
    store = open_store(url)
    try:
        with store.read() as session:
            if version_id:
                version = session.get(PlanVersion, version_id)
                if version is None:
                    raise TqpError(f"plan version {version_id} does not exist in the review store {url}")
            elif plan is not None:
                found = find_version(store, plan)
                version = session.get(PlanVersion, found) if found else None
            else:
                version = _version_of_period(session, params.period)
            if version is None:
                return LockTarget(url, None, plan or _latest_draft(params, outputs))
            base = Path(version.base_run_dir)
            if plan is not None and plan != base.resolve():
                raise TqpError(f"plan version {version.version_id} is based on {base}, not {plan}: drop --plan or pick the matching version")
            return LockTarget(url, version.version_id, base, version.state)
    finally:
        store.dispose()


def _latest_draft(params: PlanParameters, outputs: str | Path) -> Path:
    found = latest_run(outputs, params.period)
    if found is None:
        raise TqpError(f"no draft run of {params.period} under {outputs}: run `tqp run` first, or pass --plan RUN_FOLDER")
    return found


def is_locked(store_url: str, version_id: int) -> bool:
    store = open_store(store_url)
    try:
        with store.read() as session:
            return session.scalar(select(PlanLock.lock_id).where(PlanLock.version_id == version_id)) is not None
    finally:
        store.dispose()

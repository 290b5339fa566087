"""Benchmark: concurrent editors on the review store (SQLite WAL and PostgreSQL).

N editor processes (default 20) each make M edits (default 500) through
``ReviewSession``, as RevOps users on one plan version of a synthetic draft:

- a share (``--hot-share``, default 0.1) are read-modify-write increments of
  10 "hot" quotas (contention: an increment based on a value another editor
  has just changed is refused as stale); 0.5 is a stress test of that path;
- the rest move a random account to another rep of its segment (rare contention).

Each edit reads its subject first (a user opening the row) and is submitted
with the etag of that read; refused edits are counted, not retried.

An observer process polls the audit log through its own session and records
when each edit becomes visible; the editor wrote its submit time into the
edit's reason. Reported: accepted edits per second, submit-to-ack and
submit-to-visible latency (p50/p95/max; target p95 < 300 ms), stale refusals,
and lost updates, checked two ways (must be 0):

- every hot quota equals its draft value + the increments acknowledged on it;
- every subject's final etag equals the number of edits acknowledged on it
  (each accepted edit raises a subject's etag by exactly one).

Usage:
    .venv/bin/python benchmarks/review_concurrency.py [--editors 20] [--edits 500]
        [--backends sqlite,postgresql] [--pg-url postgresql://tqp:tqp@localhost:5432/tqp]
The PostgreSQL URL defaults to TQP_BENCH_PG_URL or TQP_TEST_PG_URL; the run uses
a throwaway schema. Results are printed and written to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, create_engine, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plan_lib.review.access import ReviewSession  # noqa: E402
from plan_lib.review.admin import add_user, create_plan_version, sync_users  # noqa: E402
from plan_lib.review.errors import StaleEditError  # noqa: E402
from plan_lib.review.models import AuditEntry  # noqa: E402
from plan_lib.review.store import open_store  # noqa: E402
from plan_lib.rundir import RunFolder  # noqa: E402

HOT_REPS = 10
LOOKBACK = 400  # audit ids re-read on each poll (late commits of lower ids)
SEGMENTS = ("SMB", "Mid-Market")


def make_run(folder: Path, n_reps: int = 60, n_accounts: int = 3000, seed: int = 11) -> Path:
    """A synthetic draft: 1 VP, one manager per 6 reps, two segments, accounts spread round-robin."""
    rng = np.random.default_rng(seed)
    rows = [("VP", "VP", "vp", "", "", "active", 0.0)]
    for m in range(n_reps // 6):
        segment = SEGMENTS[m % 2]
        rows.append((f"M{m:02d}", f"Manager {m}", "manager", "VP", segment, "active", 0.0))
        rows += [(f"R{m:02d}{r}", f"Rep {m}.{r}", "rep", f"M{m:02d}", segment, "active", 1.0) for r in range(6)]
    reps = pd.DataFrame(rows, columns=["rep_id", "name", "role", "manager_id", "segment", "status", "capacity_fte"])
    reps["region"] = "US"
    sellers = reps[reps["role"] == "rep"]
    ids = [f"A{i:05d}" for i in range(n_accounts)]
    segment = np.array([SEGMENTS[i % 2] for i in range(n_accounts)])
    owners = [sellers[sellers["segment"] == s]["rep_id"].iloc[i // 2 % (len(sellers) // 2)] for i, s in enumerate(segment)]
    potential = np.round(rng.lognormal(11, 0.6, n_accounts))
    run = RunFolder(folder)
    run.write_table("reps", reps)
    run.write_table("accounts", pd.DataFrame({"account_id": ids, "name": ids, "industry": "Software", "state": "CA", "is_customer": False}))
    run.write_table("scores", pd.DataFrame({"account_id": ids, "segment": segment, "potential": potential}))
    run.write_table("assignments", pd.DataFrame({"account_id": ids, "rep_id": owners, "previous_rep_id": owners, "moved": False, "reason": "kept"}))
    book = pd.DataFrame({"rep_id": owners, "potential": potential}).groupby("rep_id")["potential"].sum()
    run.write_table("quotas", pd.DataFrame({"rep_id": book.index, "quota": np.round(book.to_numpy() * 0.3, -2)}))
    return folder


def editor_process(url: str, version: int, user: str, edits: int, hot_share: float, seed: int, ready: mp.Queue,
                   start: mp.Event, out: mp.Queue) -> None:
    out.put(editor(url, version, user, edits, hot_share, seed, ready, start))


def editor(url: str, version: int, user: str, edits: int, hot_share: float, seed: int, ready: mp.Queue,
           start: mp.Event) -> dict:
    """Make ``edits`` accepted edits, each on a view read just before (as a user opening a row then saving).

    A refusal means another editor changed the subject between that read and
    the write: it is counted and the editor moves on to its next edit.
    """
    store = open_store(url, migrate_schema=False)
    session = ReviewSession(store, user, version)
    rng = random.Random(seed)
    segment = session.accounts().set_index("account_id")["segment"].to_dict()
    sellers = session.base.reps[session.base.reps["role"] == "rep"]
    by_segment = {s: sorted(sellers.index[sellers["segment"] == s]) for s in SEGMENTS}
    hot = sorted(session.base.quotas.index)[:HOT_REPS]
    ids = sorted(segment)
    acked: Counter = Counter()
    increments: Counter = Counter()
    ack_ms, stale = [], 0
    ready.put(user)
    start.wait()
    t0 = time.perf_counter()
    while sum(acked.values()) < edits:
        try:
            if rng.random() < hot_share:
                rep = rng.choice(hot)
                value, etag = session.quota_state(rep)
                submitted = time.time()
                result = session.set_quota(rep, (value or 0.0) + 1.0, f"bench t={submitted:.6f}", etag)
                increments[rep] += 1
            else:
                account = rng.choice(ids)
                owner, _, etag = session.account_state(account)
                target = rng.choice([r for r in by_segment[segment[account]] if r != owner])
                submitted = time.time()
                result = session.reassign(account, target, f"bench t={submitted:.6f}", etag)
        except StaleEditError:
            stale += 1
            continue
        acked[result.subject] += 1
        ack_ms.append((time.time() - submitted) * 1000)
    elapsed = time.perf_counter() - t0
    store.dispose()
    return {"acked": dict(acked), "increments": dict(increments), "ack_ms": ack_ms, "stale": stale, "elapsed": elapsed}


def observer(url: str, version: int, expected: mp.Value, done: mp.Event, out: mp.Queue) -> None:
    """Poll the audit log from another connection; latency = first seen - submit time written by the editor.

    A plain indexed query, not ``ReviewSession.history`` (which builds data
    frames): the observer must not steal the CPU the editors are measured on.
    Ids come from a sequence but transactions commit out of order, so an entry
    with a lower id can appear after a higher one: each poll looks back over a
    window of ids and counts every entry once.
    """
    store = open_store(url, migrate_schema=False)
    query = select(AuditEntry.audit_id, AuditEntry.reason).where(AuditEntry.version_id == version, AuditEntry.audit_id > bindparam("since"))
    last, seen, visible_ms = 0, set(), []
    deadline = None
    while True:
        with store.read() as session:
            rows = session.execute(query, {"since": max(0, last - LOOKBACK)}).all()
        now = time.time()
        for audit_id, reason in rows:
            if audit_id in seen:
                continue
            seen.add(audit_id)
            last = max(last, audit_id)
            if reason and reason.startswith("bench t="):
                visible_ms.append((now - float(reason[8:])) * 1000)
        if done.is_set():
            deadline = deadline or time.time() + 10
            if len(visible_ms) >= expected.value or time.time() > deadline:
                break
        time.sleep(0.01)
    store.dispose()
    out.put(visible_ms)


def pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"tqp_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(drivername="postgresql+psycopg")
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False), schema


def drop_schema(base: str, schema: str) -> None:
    url = make_url(base).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def run_backend(url: str, run_dir: Path, editors: int, edits: int, hot_share: float) -> dict:
    store = open_store(url)
    sync_users(store, pd.read_parquet(RunFolder(run_dir).table_path("reps")))
    users = [f"bench{i:02d}" for i in range(editors)]
    for user in [*users, "observer"]:
        add_user(store, user, user, "revops")
    version = create_plan_version(store, run_dir, state="review")
    draft_quotas = {r: session_quota for r, session_quota in ReviewSession(store, "observer", version).base.quotas.items()}
    store.dispose()

    ctx = mp.get_context("spawn")
    start, done, expected, out = ctx.Event(), ctx.Event(), ctx.Value("i", 0), ctx.Queue()
    watcher = ctx.Process(target=observer, args=(url, version, expected, done, out))
    watcher.start()
    returned, ready = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=editor_process, args=(url, version, u, edits, hot_share, 1000 + i, ready, start, returned))
               for i, u in enumerate(users)]
    for worker in workers:
        worker.start()
    for _ in workers:  # the clock starts once every editor has its session open
        ready.get(timeout=300)
    t0 = time.perf_counter()
    start.set()
    results = [returned.get() for _ in workers]
    wall = time.perf_counter() - t0
    for worker in workers:
        worker.join()
    expected.value = sum(sum(r["acked"].values()) for r in results)
    done.set()
    visible_ms = out.get(timeout=60)
    watcher.join(30)

    acked: Counter = Counter()
    increments: Counter = Counter()
    for r in results:
        acked.update(r["acked"])
        increments.update(r["increments"])
    store = open_store(url)
    check = ReviewSession(store, "observer", version)
    lost = 0
    for subject, count in acked.items():
        kind, ident = subject.split(":", 1)
        etag = check.account_state(ident)[2] if kind == "account" else check.quota_state(ident)[1]
        lost += abs(etag - count)
    for rep, count in increments.items():
        quota, _ = check.quota_state(rep)
        lost += int(round(abs((quota or 0.0) - (float(draft_quotas[rep]) + count))))
    audit = check.history(limit=10**9)
    audit_bench = int(audit["reason"].fillna("").str.startswith("bench").sum())
    store.dispose()
    total = sum(acked.values())
    ack = np.array([x for r in results for x in r["ack_ms"]])
    vis = np.array(visible_ms)
    return {
        "editors": editors,
        "hot_share": hot_share,
        "edits_per_editor": edits,
        "accepted_edits": total,
        "audit_entries": audit_bench,
        "stale_refusals": sum(r["stale"] for r in results),
        "wall_s": round(wall, 2),
        "edits_per_s": round(total / wall, 1),
        "ack_ms_p50": round(float(np.percentile(ack, 50)), 1),
        "ack_ms_p95": round(float(np.percentile(ack, 95)), 1),
        "visible_ms_p50": round(float(np.percentile(vis, 50)), 1),
        "visible_ms_p95": round(float(np.percentile(vis, 95)), 1),
        "visible_ms_max": round(float(vis.max()), 1),
        "visible_seen": int(len(vis)),
        "lost_updates": int(lost + abs(total - audit_bench)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--hot-share", type=float, default=0.1, help="share of edits on 10 hot quotas (0.5: stress)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TQP_BENCH_PG_URL") or os.environ.get("TQP_TEST_PG_URL"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tqp-review-bench-"))
    run_dir = make_run(folder / "run")
    results = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            results[backend] = run_backend(f"sqlite:///{folder / 'review.sqlite'}", run_dir, args.editors, args.edits, args.hot_share)
        elif backend == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (give --pg-url or set TQP_BENCH_PG_URL)")
                continue
            url, schema = pg_schema_url(args.pg_url)
            try:
                results[backend] = run_backend(url, run_dir, args.editors, args.edits, args.hot_share)
            finally:
                drop_schema(args.pg_url, schema)
        print(f"{backend}: " + json.dumps(results[backend]))
    frame = pd.DataFrame(results)
    print(frame.to_string())
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"review_concurrency_hot{args.hot_share:g}.json").write_text(json.dumps(results, indent=2) + "\n")
    ok = all(r["lost_updates"] == 0 for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

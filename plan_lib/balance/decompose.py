"""Run the independent balance groups, in parallel with Dask when it pays.

The groups come from :mod:`plan_lib.balance.prepare`: connected components of the
eligibility graph (segments; segment x region with the region rule on). They share
nothing, so any scheduler gives the same assignments: each group's solve is
deterministic and single-threaded (HiGHS ``threads=1``, fixed seed).

Modes (``BalanceParams.parallel``):

- ``sync``: one after the other in this process (tests, notebooks, one group);
- ``threads`` / ``processes``: Dask's local schedulers;
- ``local_cluster``: a ``distributed.LocalCluster`` with one single-threaded worker
  process per core (HiGHS and cvxpy's canonicalisation hold the GIL for long
  stretches, so processes beat threads);
- ``scheduler_address``: submit to an existing cluster, for plans that outgrow one machine.

``auto`` picks ``sync`` for one group or small plans (a cluster costs about two seconds
to start), else ``local_cluster``. The largest groups are submitted first.
"""

from __future__ import annotations

import os
import time
from typing import Any

from plan_lib.balance.model import TerritoryModel
from plan_lib.balance.params import BalanceParams
from plan_lib.balance.solve import SolveOptions, SubproblemResult, solve_model

#: Below this many families in total, ``auto`` solves in process.
AUTO_SYNC_UNITS = 5_000


def choose_mode(models: list[TerritoryModel], params: BalanceParams) -> str:
    if params.scheduler_address:
        return "address"
    if params.parallel != "auto":
        return params.parallel
    busy = [m for m in models if m.n_units and m.n_reps]
    if len(busy) <= 1 or sum(m.n_units for m in busy) < AUTO_SYNC_UNITS:
        return "sync"
    return "local_cluster"


def run_models(
    models: list[TerritoryModel], params: BalanceParams
) -> tuple[list[SubproblemResult], dict[str, Any]]:
    """Solve every model; results in the order of ``models``, plus a note on how they ran."""
    opts = SolveOptions.from_params(params)
    mode = choose_mode(models, params)
    order = sorted(range(len(models)), key=lambda i: -models[i].n_units * max(models[i].n_reps, 1))
    workers = params.n_workers or min(len(models), os.cpu_count() or 1) or 1
    t0 = time.perf_counter()
    if mode == "sync" or len(models) <= 1:
        mode = "sync"
        results = {i: solve_model(models[i], opts) for i in order}
    elif mode in ("threads", "processes"):
        import dask

        tasks = [dask.delayed(solve_model)(models[i], opts) for i in order]
        out = dask.compute(*tasks, scheduler=mode, num_workers=workers)
        results = dict(zip(order, out, strict=True))
    else:
        from distributed import Client, LocalCluster

        if mode == "address":
            with Client(params.scheduler_address) as client:
                results = _submit(client, models, order, opts)
        else:
            with (
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cluster,
                Client(cluster) as client,
            ):
                results = _submit(client, models, order, opts)
    info = {
        "mode": mode,
        "workers": 1 if mode == "sync" else workers,
        "seconds": time.perf_counter() - t0,
    }
    return [results[i] for i in range(len(models))], info


def _submit(
    client: Any, models: list[TerritoryModel], order: list[int], opts: SolveOptions
) -> dict[int, SubproblemResult]:
    # Models are large numpy payloads: scatter them once instead of embedding them in tasks.
    futures = {}
    for i in order:
        data = client.scatter(models[i])
        futures[i] = client.submit(solve_model, data, opts, pure=False, key=f"balance-{i}")
    return {i: f.result() for i, f in futures.items()}

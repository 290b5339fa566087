"""Lock and fairness: check the refined plan against predefined criteria, lock it, publish CRM exports (issue 7).

The workflow (each step a command, each writing a new run folder):

1. ``tqp run PARAMS``: the draft; ``tqp serve PARAMS``: managers review it (overrides in the store).
2. ``tqp lock PARAMS [--check-only]``: ``notebooks/05_lock_fairness.ipynb`` applies the
   plan version's overrides to the draft, re-allocates quotas, evaluates the criteria on
   the draft and on the refined plan, and writes ``fairness_report.html``; then the
   version is locked if no criterion fails, or each failing one is waived
   (``--waive CRITERION REASON --by NAME``, recorded in the store). A locked version is
   immutable; a change after lock is a new version (``lock.new_version_after_lock``).
3. ``tqp publish PARAMS``: CRM-ready CSV files and the change list against the previous
   publication, in ``<outputs>/<period>/publish/<run>/exports/``.

Modules, one job each: ``params`` (criteria as data), ``measures`` (weighted mean, cv,
Lorenz, Gini), ``metrics`` (per-rep and per-account tables), ``criteria`` (evaluation,
draft vs refined), ``refine`` (overrides applied to the draft), ``charts`` and
``report`` (the HTML report), ``lock`` (waivers, the lock transaction), ``exports``
(CRM files, change list, reconciliation), ``publish`` (the publish folder and record),
``api`` (the notebook's I/O steps), ``cli`` (``tqp lock``, ``tqp publish``).

Only the light, pure parts are imported here, so that ``plan_lib.parameters`` can
compose ``FairnessParams`` without pulling in the pipeline.
"""

from plan_lib.fairness.criteria import FairnessResult, compare, evaluate
from plan_lib.fairness.errors import (
    CriterionError,
    FairnessError,
    LockRefusedError,
    PublishError,
    VersionLockedError,
    WaiverError,
)
from plan_lib.fairness.metrics import account_metrics, rep_metrics
from plan_lib.fairness.params import Criterion, FairnessParams, default_criteria

__all__ = [
    "Criterion", "CriterionError", "FairnessError", "FairnessParams", "FairnessResult", "LockRefusedError", "PublishError",
    "VersionLockedError", "WaiverError", "account_metrics", "compare", "default_criteria", "evaluate", "rep_metrics",
]

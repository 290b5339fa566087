"""Errors of the balancing step (all :class:`plan_lib.errors.TqpError` subclasses).

Infeasible *settings* never raise: they produce a diagnostic and a soft fallback.
These errors are for inputs that cannot be read as a balancing problem at all and
for solver outcomes that leave no usable solution.
"""

from __future__ import annotations

from plan_lib.errors import InputError, SolverError


class BalanceInputError(InputError):
    """The accounts, reps, locks or cost tables cannot be used for balancing."""


class BalanceSolverError(SolverError):
    """HiGHS ended without a usable solution (time limit before any solution, numerical failure)."""

    def __init__(self, subproblem: str, stage: str, status: str, fix: str):
        self.subproblem, self.stage, self.status, self.fix = subproblem, stage, status, fix
        super().__init__(
            f"balancing '{subproblem}': the {stage} ended with status '{status}'. {fix}"
        )

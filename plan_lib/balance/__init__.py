"""Balancing: equitable, compact, continuous books of business (issue 4).

Entry point :func:`balance_books`; the model of one balance group is
:class:`TerritoryModel` (formulation in its docstring); parameters are
:class:`BalanceParams`. Module map: ``params`` (settings), ``prepare`` (frames ->
models), ``model`` (cvxpy formulation, checks), ``candidates`` (candidate sets,
pricing, bound), ``solve`` (LP, integer repair, gap), ``diagnostics`` (infeasible
settings), ``decompose`` (parallel groups with Dask), ``explain`` (reasons),
``metrics`` (books and headline measures), ``baselines`` (greedy, keep-last-year).
"""

from plan_lib.balance.api import BalanceResult, balance_books
from plan_lib.balance.errors import BalanceInputError, BalanceSolverError
from plan_lib.balance.model import TerritoryModel
from plan_lib.balance.params import BalanceParams
from plan_lib.balance.solve import SolveOptions, solve_model

__all__ = [
    "BalanceInputError",
    "BalanceParams",
    "BalanceResult",
    "BalanceSolverError",
    "SolveOptions",
    "TerritoryModel",
    "balance_books",
    "solve_model",
]

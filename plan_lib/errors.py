"""Every error tqp raises on purpose, in one place.

Each error carries what the user needs to fix the problem: the file, row and
column for bad input; the parameter key for bad configuration; the notebook and
cell for a failed run step. The CLI prints ``str(error)`` without a traceback
for these, so messages must read as instructions, not as stack noise.
"""

from __future__ import annotations


class TqpError(Exception):
    """Base class of every deliberate tqp error (the CLI prints it cleanly)."""


class ParameterError(TqpError):
    """A parameters file is unreadable, has an unknown key or a wrong value."""

    def __init__(self, path: str, key: str, problem: str):
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: parameter '{key}': {problem}")


class InputError(TqpError):
    """An input table cannot be used at all (missing table, column or unreadable file).

    Row-level problems do not raise: those rows are quarantined instead.
    """

    def __init__(self, source: str, problem: str, *, column: str | None = None, fix: str = ""):
        self.source, self.column, self.problem, self.fix = source, column, problem, fix
        where = f"{source}, column '{column}'" if column else source
        message = f"{where}: {problem}"
        if fix:
            message += f". {fix}"
        super().__init__(message)


class QuarantineLimitError(TqpError):
    """Too large a share of a table was quarantined to trust the rest of it."""


class RunStepError(TqpError):
    """A notebook of the pipeline failed; names the notebook and the cell."""

    def __init__(self, notebook: str, cell: int | None, error: str, run_dir: str):
        self.notebook, self.cell, self.error, self.run_dir = notebook, cell, error, run_dir
        where = f"{notebook}, cell {cell}" if cell is not None else notebook
        super().__init__(f"step failed in {where}: {error}\n  failed run kept at {run_dir}")


class SolverError(TqpError):
    """An optimisation problem ended in a status whose solution cannot be used."""

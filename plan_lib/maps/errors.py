"""Errors of the maps package (all :class:`plan_lib.errors.TqpError`, so the CLI prints
them cleanly). Messages say what to do, not only what went wrong."""

from __future__ import annotations

from plan_lib.errors import TqpError


class MapInputError(TqpError):
    """An input frame lacks a column the maps need, or holds values they cannot use."""

    def __init__(self, frame: str, problem: str, fix: str = ""):
        self.frame, self.problem, self.fix = frame, problem, fix
        super().__init__(f"maps: {frame}: {problem}" + (f". {fix}" if fix else ""))


class MapCrsError(TqpError):
    """A geographic layer is in an unexpected coordinate reference system.

    Raised instead of reprojecting silently: a layer in the wrong CRS usually means
    someone computed distances or areas in degrees upstream.
    """


class MapTooLargeError(TqpError):
    """An interactive map was asked to carry more features than a browser handles."""

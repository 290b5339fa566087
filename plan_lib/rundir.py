"""The run folder: where each step reads its inputs and writes its outputs.

Notebooks never pass data to each other through cell outputs; each one reads
what the previous steps wrote here and writes its own results, through this one
class, so file names and formats are decided in one place.

Layout (see README "Run folders")::

    <run>/manifest.json      parameters, inputs with sha256 and counts, versions, timings, statuses
    <run>/parameters.yaml    the parameters file as given
    <run>/notebooks/         executed notebooks (diffable with nbdime)
    <run>/data/              Parquet tables written by the steps
    <run>/quarantine/        rejected input rows, one CSV per table, with reasons
    <run>/reports/           JSON reports of each step (merged into the manifest)
    <run>/figures/, maps/    PNG charts and maps
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n", encoding="utf-8")


class RunFolder:
    """Typed access to one run folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # tables -------------------------------------------------------------
    def table_path(self, name: str) -> Path:
        return self.path / "data" / f"{name}.parquet"

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.table_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path

    def read_table(self, name: str) -> pd.DataFrame:
        path = self.table_path(name)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: run the step that writes '{name}' first")
        return pd.read_parquet(path)

    def has_table(self, name: str) -> bool:
        return self.table_path(name).exists()

    def tables(self) -> list[str]:
        return sorted(p.stem for p in (self.path / "data").glob("*.parquet"))

    # reports, figures ---------------------------------------------------
    def write_report(self, step: str, payload: dict[str, Any]) -> Path:
        path = self.path / "reports" / f"{step}.json"
        write_json(path, payload)
        return path

    def read_report(self, step: str) -> dict[str, Any]:
        return json.loads((self.path / "reports" / f"{step}.json").read_text(encoding="utf-8"))

    def reports(self) -> dict[str, Any]:
        folder = self.path / "reports"
        return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}

    def figure_path(self, name: str, kind: str = "figures") -> Path:
        path = self.path / kind / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def quarantine_path(self, table: str) -> Path:
        return self.path / "quarantine" / f"{table}.csv"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

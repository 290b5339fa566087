"""The I/O side of each pipeline step: read from the run folder, call the pure
logic, write results back. Notebooks call these (one line each) and then show
tables and charts; the logic modules stay free of file handling.
"""

from __future__ import annotations

from plan_lib.ingest import IngestResult, enforce_quarantine_limit, ingest
from plan_lib.parameters import PlanParameters
from plan_lib.rundir import RunFolder
from plan_lib.sources import read_inputs


def ingest_step(data_source: str, params: PlanParameters, run: RunFolder) -> IngestResult:
    """Read, validate and store the inputs; write the quarantine before any stop."""
    result = ingest(read_inputs(data_source, params.ingest.tables))
    for name, frame in result.tables.items():
        run.write_table(name, frame)
    for name, rejected in result.quarantine.items():
        if len(rejected):
            path = run.quarantine_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            rejected.to_csv(path, index=False)
    run.write_report(
        "ingest",
        {
            "source": data_source,
            "tables": {name: vars(report) for name, report in result.reports.items()},
            "warnings": result.warnings,
        },
    )
    enforce_quarantine_limit(result, params.ingest)
    return result

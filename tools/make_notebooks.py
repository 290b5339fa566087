"""Write the pipeline notebooks from their cell sources (outputs-free, with kernelspec).

Editing a notebook in JupyterLab is fine too; this script is how they were
first laid out and keeps their metadata uniform. Run: python tools/make_notebooks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

PARAMETERS_HEADER = '''params_path: str = "../parameters/2027Q1.yaml"  # the plan's parameters file
run_dir: str = "."  # run folder this notebook reads from and writes into
data_source: str = ""  # input folder or SQL URL; empty means the `data` key of the parameters'''


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for index, (kind, source) in enumerate(cells):
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source.strip())
        else:
            cell = nbformat.v4.new_code_cell(source.strip())
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"cell-{index:02d}"  # stable ids keep nbdime diffs quiet
        nb.cells.append(cell)
    return nb


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_ingest.ipynb": [
        ("md", "# 01 Ingest\nLoad the input tables, validate them against the data contract, quarantine bad rows, and summarise what came in."),
        ("parameters", PARAMETERS_HEADER),
        ("code", """
from plan_lib.charts import plot_inputs
from plan_lib.parameters import load_parameters
from plan_lib.rundir import RunFolder
from plan_lib.steps import ingest_step

params = load_parameters(params_path)
run = RunFolder(run_dir)
result = ingest_step(data_source or params.data, params, run)
"""),
        ("md", "## Reconciliation\nEvery input row is either kept or quarantined: `rows_in = rows_kept + rows_quarantined`."),
        ("code", "result.summary()"),
        ("md", "## Warnings\nUnknown files and columns, absent optional columns, references to people no longer on the roster."),
        ("code", "print('\\n'.join(result.warnings) or 'no warnings')"),
        ("md", "## Quarantined rows by reason\nEach table's rejected rows are in `quarantine/<table>.csv` with row, column and reason."),
        ("code", "result.quarantine_reasons()"),
        ("md", "## The inputs at a glance"),
        ("code", "plot_inputs(result.tables, path=run.figure_path('inputs'));"),
    ],
}


def main() -> int:
    out = ROOT / "notebooks"
    names = sys.argv[1:] or list(NOTEBOOKS)
    for name in names:
        nbformat.write(notebook(NOTEBOOKS[name]), out / name)
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

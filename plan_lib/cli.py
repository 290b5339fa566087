"""The ``tqp`` command line: one command per stage of the planning loop."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plan_lib.errors import TqpError


class TqpGroup(click.Group):
    """Print tqp's own errors as one clean message (no traceback), exit code 2."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TqpError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)


@click.group(cls=TqpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tqp")
def main() -> None:
    """tqp: territory and quota planning, reproducible from data to locked plan."""


@main.command("demo-data")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="folder to write the tables into")
@click.option("--accounts", default=20_000, show_default=True, type=click.IntRange(min=1000), help="number of accounts")
@click.option("--reps", default=80, show_default=True, type=click.IntRange(min=6), help="number of quota-carrying reps")
@click.option("--seed", default=0, show_default=True, type=int, help="random seed (same seed, same data)")
@click.option("--period", default="2027Q1", show_default=True, help="plan period the data leads up to")
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(["csv", "parquet"]), help="file format")
@click.option("--sqlite", type=click.Path(dir_okay=False, path_type=Path), help="also load the tables into this SQLite file")
def demo_data(out: Path, accounts: int, reps: int, seed: int, period: str, fmt: str, sqlite: Path | None) -> None:
    """Generate realistic, deterministic demo data (US geography, CRM history, roster)."""
    from plan_lib.demo import generate_demo_data, write_demo_data

    data = generate_demo_data(n_accounts=accounts, n_reps=reps, seed=seed, period=period)
    written = write_demo_data(data, out, fmt=fmt)
    for path in written.values():
        click.echo(f"wrote {path}")
    if sqlite is not None:
        from plan_lib.sources import write_folder_to_sql

        write_folder_to_sql(out, f"sqlite:///{sqlite.resolve()}")
        click.echo(f"wrote {sqlite}")


@main.command("contract")
def contract() -> None:
    """Print the data contract (tables, columns, rules, an example row each) as Markdown."""
    from plan_lib.contract import contract_markdown

    click.echo(contract_markdown())


@main.command("run")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", help="input folder or SQL URL (overrides `data` in the parameters)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders (default: `outputs` in the parameters)")
@click.option("--quiet", is_flag=True, help="no progress bar")
def run(params: Path, data: str | None, outputs: Path | None, quiet: bool) -> None:
    """Run the draft chain (ingest, score, balance, quotas) into a new run folder; print its path last."""
    from plan_lib.runs import DRAFT_STEPS, run_steps

    folder = run_steps(params, DRAFT_STEPS, data=data, outputs=outputs, progress=not quiet)
    click.echo(str(folder))


@main.command("monitor")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", help="monitoring date YYYY-MM-DD (default: monitor.as_of, else the latest data)")
@click.option("--plan", "plan", type=click.Path(exists=True, file_okay=False), help="plan run folder to track (default: newest published, locked, else draft plan of the period)")
@click.option("--data", help="input folder or SQL URL with fresh actuals (overrides `data`)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders")
@click.option("--quiet", is_flag=True, help="no progress bar")
def monitor(params: Path, as_of: str | None, plan: str | None, data: str | None, outputs: Path | None, quiet: bool) -> None:
    """Track the plan: attainment, pacing, forecasts and recommendations into a new monitor run folder."""
    from plan_lib.parameters import parse_iso_date
    from plan_lib.runs import MONITOR_STEPS, run_steps

    if as_of:
        try:
            parse_iso_date(as_of)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--as-of") from None
    extra = {"plan_run": str(Path(plan).resolve()) if plan else "", "as_of": as_of or ""}
    folder = run_steps(params, MONITOR_STEPS, data=data, outputs=outputs, extra_parameters=extra, progress=not quiet, stage="monitor")
    click.echo(str(folder))


@main.command("dashboard")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--run", "run", type=click.Path(exists=True, file_okay=False, path_type=Path), help="monitor run folder to show (default: the newest of the period)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders")
@click.option("--port", type=int, default=8867, show_default=True, help="port on localhost (another free one if taken)")
def dashboard(params: Path, run: Path | None, outputs: Path | None, port: int) -> None:
    """Serve the monitoring dashboard (Voila, localhost) of the newest monitor run: map, reps at risk, actions."""
    from plan_lib.monitor.dashboard import serve_dashboard
    from plan_lib.parameters import load_parameters
    from plan_lib.runs import latest_run

    plan = load_parameters(params)
    root = Path(outputs or plan.outputs)
    folder = run or latest_run(root, plan.period, "monitor")
    if folder is None:
        raise TqpError(f"no monitor run of {plan.period} under {root}: run `tqp monitor {params}` first, or pass --run")
    serve_dashboard(folder, port=port, echo=click.echo)


def _plan_run(params_path: Path, run: Path | None, outputs: Path | None) -> tuple[object, Path, Path]:
    """Parameters, outputs root and the plan run folder (default: the newest draft run of the period)."""
    from plan_lib.parameters import load_parameters
    from plan_lib.runs import latest_run

    params = load_parameters(params_path)
    root = Path(outputs or params.outputs)
    folder = run or latest_run(root, params.period)
    if folder is None:
        raise TqpError(f"no complete run of {params.period} under {root}: run `tqp run {params_path}` first, or pass --run")
    return params, root, Path(folder)


@main.command("serve")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--run", "run", type=click.Path(exists=True, file_okay=False, path_type=Path), help="draft run folder to review (default: the newest of the period)")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders")
@click.option("--state", type=click.Choice(["review", "pilot"]), default="review", show_default=True, help="open the version to every manager, or to a pilot group first")
@click.option("--pilot", multiple=True, help="user id of a pilot manager (repeat); with --state pilot")
def serve(params: Path, run: Path | None, outputs: Path | None, state: str, pilot: tuple[str, ...]) -> None:
    """Serve the review dashboard with Voila on localhost and print one personal link per manager."""
    from plan_lib.review.params import resolve_store_url
    from plan_lib.review.serve import serve as serve_review

    plan, root, folder = _plan_run(params, run, outputs)
    serve_review(resolve_store_url(plan.review, root), folder, params=plan.review, state=state, pilot=pilot, echo=click.echo)


@main.command("invite")
@click.argument("params", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("user")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), help="root of run folders (where the default store lives)")
@click.option("--base-url", default=None, help="dashboard address (default: http://localhost:<review.port>)")
@click.option("--days", type=float, default=None, help="days the link stays valid (default: review.invite_days)")
def invite(params: Path, user: str, outputs: Path | None, base_url: str | None, days: float | None) -> None:
    """Print a personal, signed dashboard link for USER (the signing secret comes from TQP_SECRET or a file outside git)."""
    from plan_lib.parameters import load_parameters
    from plan_lib.review.params import resolve_store_url
    from plan_lib.review.serve import invite as make_invite

    plan = load_parameters(params)
    url = resolve_store_url(plan.review, outputs or plan.outputs)
    click.echo(make_invite(url, user, base_url=base_url or f"http://localhost:{plan.review.port}", days=days or plan.review.invite_days))


@main.command("diff")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--notebooks/--no-notebooks", default=True, show_default=True, help="include the nbdime diff of the notebooks")
@click.option("--rows", default=10, show_default=True, help="changed rows to show per table")
def diff(run_a: Path, run_b: Path, notebooks: bool, rows: int) -> None:
    """What changed between two runs: parameters, inputs, output tables by key, notebooks."""
    from plan_lib.diff import diff_runs, format_diff

    click.echo(format_diff(diff_runs(run_a, run_b, notebooks=notebooks), max_rows=rows))


def _register_stage_commands() -> None:
    """Lock and publish live with the fairness step; registered here so `tqp --help` lists them."""
    from plan_lib.fairness.cli import lock_command, publish_command

    main.add_command(lock_command)
    main.add_command(publish_command)


_register_stage_commands()

if __name__ == "__main__":
    main()

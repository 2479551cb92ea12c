"""CLI: ``optimizer sweep SCENARIO --budgets START:STOP:N`` — what each budget buys.

Writes into a new folder (``--out``, default ``runs/sweeps/<scenario-name>-<timestamp>``;
an existing ``--out`` is replaced only with ``--force``): ``frontier.csv`` (one row per budget), ``entering.csv`` (units
entering / leaving between consecutive budgets), ``targets.csv`` (with ``--targets``),
``frontier.png`` and ``report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from optimizer.output import atomic_directory, emit_json
from optimizer.paths import scenario_argument
from optimizer.pipeline import default_out_dir
from optimizer.report.page import fmt
from optimizer.scenario import load_scenario
from optimizer.sweep import SweepResult, parse_budgets, parse_targets, sweep, write_sweep

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_result(result: SweepResult, folder: Path) -> None:
    table = Table(title=f"Budget sweep of {result.name} ({result.objective})")
    for col in ("budget", "status", "cost", "coverage", "units", "+in", "-out", "gain / budget"):
        table.add_column(col, justify="left" if col == "status" else "right")
    for _, row in result.frontier.iterrows():
        table.add_row(
            fmt(row["budget"], "money"),
            str(row["status"]),
            fmt(row["total_cost"], "money"),
            fmt(row["coverage_share"], "share"),
            fmt(row["units"], "int"),
            fmt(row["entering"], "int"),
            fmt(row["leaving"], "int"),
            fmt(row["marginal_per_budget"], "float"),
        )
    _out.print(table)
    for _, row in result.frontier[result.frontier["note"] != ""].iterrows():
        _out.print(f"budget {fmt(row['budget'], 'money')}: {row['status']}: {row['note']}")
    if len(result.targets):
        t = Table(title="Smallest budget reaching each coverage target")
        for col in ("target", "budget", "status", "coverage", "units"):
            t.add_column(col, justify="right")
        for tau, row in result.targets.iterrows():
            t.add_row(fmt(tau, "share"), fmt(row["budget"], "money"), str(row["status"]), fmt(row["coverage_share"], "share"), fmt(row["units"], "int"))
        _out.print(t)
        for tau, row in result.targets[result.targets["note"] != ""].iterrows():
            _out.print(f"target {fmt(tau, 'share')}: {row['status']}: {row['note']}")
    _err.print(f"wrote {folder}")


def sweep_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file, a folder holding scenario.toml, or a shipped scenario's name (demo, iran).")],
    budgets: str = typer.Option(..., "--budgets", help="START:STOP:N (N budgets, ends included) or a comma list; amounts may end in k, M or G."),
    targets: str = typer.Option("", "--targets", help="Coverage targets, e.g. 0.8,0.9 or 80%,90% (default: none)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Local worker processes (default 1: solve in this process)."),
    dask: str = typer.Option("", "--dask", help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: none)."),
    out: Annotated[Path | None, typer.Option("--out", help="Output folder to create (default: runs/sweeps/<scenario-name>-<YYYYmmdd-HHMMSS>).")] = None,
    force: bool = typer.Option(False, "--force", help="Replace the output folder if it exists (default: refuse)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: tables)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar (default: show it on standard error)."),
) -> None:
    """The coverage-vs-budget frontier, the units entering at each step and the cheapest budget per target."""
    budget_values = parse_budgets(budgets)
    target_values = parse_targets(targets)
    resolved = load_scenario(scenario_argument(scenario))
    folder = Path(out) if out is not None else default_out_dir(resolved, root=Path("runs") / "sweeps")
    show = not quiet and not as_json
    with atomic_directory(folder, force=force) as tmp:
        if show:
            bar = Progress(TextColumn("solving budgets"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=_err, transient=True)
            with bar:
                task = bar.add_task("sweep", total=len(budget_values) + len(target_values))
                result = sweep(
                    resolved, budget_values, targets=target_values, workers=workers, dask_address=dask or None,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            result = sweep(resolved, budget_values, targets=target_values, workers=workers, dask_address=dask or None)
        write_sweep(tmp, result)
    if as_json:
        emit_json({"folder": str(folder), **result.to_dict()})
    else:
        _print_result(result, folder)


def register(app: typer.Typer) -> None:
    """Register the ``sweep`` command on the app."""
    app.command("sweep")(sweep_command)

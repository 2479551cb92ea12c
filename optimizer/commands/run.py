"""CLI: ``optimizer run [SCENARIO] [--out DIR] [--force] [--quiet] [--json]``.

Runs a scenario end to end (load -> score -> geography -> select) and writes a new run
folder: ``selection.csv``, ``regions.csv``, ``summary.json``, ``selection.gpkg`` and
``report.html``. With no SCENARIO it runs the shipped demo.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from optimizer.errors import InfeasibleError, InputError
from optimizer.output import emit_json
from optimizer.paths import scenario_argument

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

SCENARIO_HELP = "Scenario TOML file, a folder holding scenario.toml, or a shipped scenario's name (demo, iran). Default: the shipped demo."


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def print_figures(figures: dict, folder: Path) -> None:
    """Readable key figures of a run."""
    table = Table(title=f"Run written to {folder}", show_header=True)
    table.add_column("figure")
    table.add_column("before (current contracts)", justify="right")
    table.add_column("after (selection)", justify="right")
    f = figures
    table.add_row("status", "", f"{f['status']} (gap {_share(f['gap']) if f['gap'] is not None else '-'})")
    table.add_row("cost / budget", _money(f["cost_before"]), f"{_money(f['total_cost'])} / {_money(f['budget'])}")
    table.add_row("units contracted", str(f["units_contracted_before"]), str(f["units_contracted"]))
    table.add_row("population covered", _money(f["covered_population_before"]), _money(f["covered_population_after"]))
    table.add_row("coverage share", _share(f["coverage_share_before"]), _share(f["coverage_share_after"]))
    table.add_row("people newly covered", "", _money(f["people_newly_covered"]))
    table.add_row("units kept / dropped / added", "", f"{f['units_kept']} / {f['units_dropped']} / {f['units_added']}")
    out_console.print(table)


def register(app: typer.Typer) -> None:
    """Register the ``run`` command on the app."""

    @app.command("run")
    def run_command(
        scenario: Annotated[Path | None, typer.Argument(help=SCENARIO_HELP)] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Run folder to create. Default: runs/<scenario-name>-<YYYYmmdd-HHMMSS>.")
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder (default: refuse).")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress messages (default: show them).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print summary.json's content on standard output.")] = False,
    ) -> None:
        """Run a scenario end to end and write a run folder (never overwriting one)."""
        from optimizer.pipeline import default_out_dir, run_scenario, summary, write_run
        from optimizer.scenario import load_scenario

        path = scenario_argument(scenario)
        loaded = load_scenario(path)
        folder = out if out is not None else default_out_dir(loaded)
        if folder.exists() and not force:
            # refuse before the work, not only at the end (atomic_directory checks again)
            raise InputError("output folder already exists; choose another --out or pass --force to replace it", file=folder)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if quiet or as_json:
                try:
                    result = run_scenario(loaded)
                except InfeasibleError as exc:
                    if as_json:  # one JSON document on standard output, then exit 2 (the CLI's rule)
                        emit_json({"status": "infeasible", "scenario": loaded.name, "message": str(exc), "explanation": exc.explanation})
                    raise
                written = write_run(result, folder, force=force)
            else:
                with err_console.status(f"running scenario {loaded.name!r}") as status:

                    def progress(step: str) -> None:
                        status.update(f"{loaded.name}: {step}")
                        err_console.print(f"[dim]- {step}[/]", markup=True)

                    result = run_scenario(loaded, progress=progress)
                    progress(f"writing {folder}")
                    written = write_run(result, folder, force=force)
        messages = [*result.warnings, *(str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning))]
        for message in messages:
            err_console.print(f"[bold yellow]warning:[/] {message}", markup=True)
        if as_json:
            emit_json({**summary(result), "run_folder": str(written)})
        elif not quiet:
            print_figures(result.figures, written)
        else:
            err_console.print(str(written))

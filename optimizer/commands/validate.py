"""CLI: ``optimizer validate SCENARIO [--json]``: check a scenario and list every problem.

Checks the scenario file (unknown keys, wrong types, ``extends`` chain) and its inputs
(files exist, columns present, CRS declared, ids unique, value ranges, weights resolve,
the budget covers the must-keep units, ...). Every problem found is listed, not only the
first; any problem ends with exit status 2. Nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimizer.commands.run import SCENARIO_HELP
from optimizer.errors import InputErrors
from optimizer.output import emit_json
from optimizer.paths import scenario_argument

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Register the ``validate`` command on the app."""

    @app.command("validate")
    def validate_command(
        scenario: Annotated[Path | None, typer.Argument(help=SCENARIO_HELP)] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print {valid, problems, warnings, ...} as JSON.")] = False,
    ) -> None:
        """Check a scenario and its input files; list every problem found."""
        from optimizer.validate_scenario import validate_path

        path = scenario_argument(scenario)
        loaded, inputs, errors, warns = validate_path(path)
        if as_json:
            doc = {
                "scenario": str(path),
                "valid": not errors,
                "problems": [str(e) for e in errors],
                "warnings": list(warns),
            }
            if inputs is not None:
                doc.update(
                    units=len(inputs.units),
                    demand_points=len(inputs.demand),
                    population=float(inputs.demand["population"].sum()),
                    criteria=list(inputs.criteria),
                    regions=None if inputs.regions is None else len(inputs.regions),
                )
            emit_json(doc)
        for w in warns:
            err_console.print(f"[bold yellow]warning:[/] {w}", markup=True)
        if errors:
            raise InputErrors(errors)
        if not as_json:
            err_console.print(
                f"[green]ok:[/] scenario {loaded.name!r} is valid: {len(inputs.units):,} units, "
                f"{len(inputs.demand):,} demand points, {len(inputs.criteria)} criteria",
                markup=True,
            )

"""The ``optimizer`` command line.

Each command lives in its own module under :mod:`optimizer.commands` and registers itself
on the app here. User errors (:class:`~optimizer.errors.InputError`) and infeasible
scenarios (:class:`~optimizer.errors.InfeasibleError`) are printed on standard error and
end the process with status 2; nothing else is caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from optimizer.errors import InfeasibleError, InputError

app = typer.Typer(
    name="optimizer",
    help="Choose which health units to contract: score, measure access, select within a budget.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _show_version(value: bool) -> None:
    if value:
        from optimizer import __version__

        typer.echo(f"optimizer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Choose which health units to contract: score, measure access, select within a budget."""


def _register_commands() -> None:
    from optimizer.commands import (
        access,
        compare,
        diff,
        panel,
        population,
        run,
        score,
        select,
        sweep,
        travel,
        validate,
        weights,
    )

    for module in (run, validate, sweep, diff, score, compare, weights, access, select, panel, travel, population):
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="optimizer")
    except InputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
        sys.exit(2)
    except InfeasibleError as exc:
        err_console.print(f"[bold red]infeasible:[/] {escape(str(exc))}", markup=True, highlight=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()

"""CLI: ``optimizer diff RUN_A RUN_B [--json]`` — what changed between two run folders.

Units that entered or left the selection or whose score or rank moved, regions whose
coverage or number of units changed, and the key figures side by side (delta = B - A).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from optimizer.diff import FLAG_METRICS, RunDiff, diff_runs
from optimizer.output import emit_json

_out = Console(highlight=False, soft_wrap=True)

MAX_ROWS = 50

REGION_LABELS = {
    "covered_share_after_delta": "Δ covered",
    "units_after_delta": "Δ units",
    "units_per_100k_after_delta": "Δ per 100k",
    "access_2sfca_after_delta": "Δ 2SFCA",
    "population_delta": "Δ pop.",
}
"""Short headings of the region deltas (the terminal is narrow; ``--json`` has the full names)."""


def _cell(value: object, digits: int = 4) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        if abs(value) >= 1000 or (value.is_integer() and abs(value) < 1e15):
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _frame_table(title: str, frame: pd.DataFrame, index_label: str) -> Table:
    table = Table(title=title)
    table.add_column(index_label, no_wrap=True)
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for key, row in frame.head(MAX_ROWS).iterrows():
        table.add_row(str(key), *(_cell(v) for v in row.tolist()))
    if len(frame) > MAX_ROWS:
        table.caption = f"first {MAX_ROWS} of {len(frame)} rows (--json lists all)"
    return table


def print_diff(d: RunDiff) -> None:
    """Readable tables of a run diff."""
    _out.print(f"A = {d.run_a}\nB = {d.run_b}")
    if d.identical:
        _out.print("No unit, region or key figure changed.")
        return
    if len(d.summary):
        _out.print(_frame_table("Key figures (delta = B - A)", d.summary, "figure"))
    _out.print(f"Units entering the selection in B: {len(d.entered)}; leaving it: {len(d.left)}")
    if len(d.units):
        cols = [c for c in ("change", "score_a", "score_b", "rank_a", "rank_b") if c in d.units.columns]
        _out.print(_frame_table("Units that changed", d.units[cols], "unit"))
    if len(d.regions):
        shown = d.regions[[c for c in d.regions.columns if c.endswith("_delta")]].rename(columns=REGION_LABELS)
        for flag in FLAG_METRICS:
            if f"{flag}_a" in d.regions.columns:
                a, b = d.regions[f"{flag}_a"].fillna("–"), d.regions[f"{flag}_b"].fillna("–")
                shown[flag] = (a + " → " + b).where(a != b, "")
        _out.print(_frame_table("Regions that changed (deltas)", shown if len(shown.columns) else d.regions, "region"))


def diff_command(
    run_a: Annotated[Path, typer.Argument(help="First run folder (A).")],
    run_b: Annotated[Path, typer.Argument(help="Second run folder (B); deltas are B - A.")],
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: tables)."),
) -> None:
    """Which units and regions changed between two runs, and by how much."""
    d = diff_runs(run_a, run_b)
    if as_json:
        emit_json(d.to_dict())
    else:
        print_diff(d)


def register(app: typer.Typer) -> None:
    """Register the ``diff`` command on the app."""
    app.command("diff")(diff_command)

"""CLI: ``optimizer score`` — score and rank units with one MCDM method.

``optimizer score UNITS.csv --id COL --method NAME --weights SPEC [--cost A,B]
[--criteria A,B,...] [--indicators COL=NODE,...] [--normalization NAME] [--option KEY=VALUE ...] [--drop-constant]
[--explain UNIT_ID] [--json]``
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from optimizer.errors import InputError
from optimizer.mcdm.explain import explain_unit
from optimizer.mcdm.scoring import METHODS, ScoreResult, parse_indicators, read_units_table, score
from optimizer.mcdm.weights import resolve_weights
from optimizer.output import emit_json
from optimizer.validation import parse_columns_option

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

ID_HELP = "Unit id column (default: unit_id)."
WEIGHTS_HELP = (
    "Weight spec (default: equal): equal, entropy, critic, std, merec, preset:path-coefficients, "
    "preset:friedman, ahp:FILE.csv[,FILE2.csv...] (group AHP), survey:FILE (an expert panel's "
    "exported weights), blend:EXPERT+OBJECTIVE@SHARE, a CSV/JSON file of criterion,weight, "
    "or inline a=0.3,b=0.7."
)
COST_HELP = "Comma-separated cost criteria (lower is better); default: none."
CRITERIA_HELP = "Comma-separated criteria (default: every numeric column but the id and lon, lat, x, y, cost, capacity, contracted, score; --cost columns are added)."
DROP_HELP = "Drop a constant criterion that the method cannot handle (default: it is an error)."
INDICATORS_HELP = (
    "Aggregate theme / sub-theme indicator columns into their dimension, COL=NODE,... with NODE as in "
    "`optimizer weights catalog` (e.g. clinic_appearance=theme:13,academic_literacy=theme:17); the "
    "dimension's value is the mean of its indicators weighted by the catalog's repetition counts "
    "(default: none)."
)


@dataclass(frozen=True)
class Problem:
    """A units table read from a file, with its resolved weights."""

    path: Path
    table: pd.DataFrame
    weights: pd.Series
    weights_source: str
    weights_details: dict
    cost: tuple[str, ...]


def show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print caught warnings on standard error, each distinct message once."""
    for text in dict.fromkeys(str(w.message) for w in caught):
        err_console.print(Text.assemble(("warning: ", "bold yellow"), text))


def load_problem(
    units: Path, *, id_col: str, criteria: str | None, cost: str | None, weights: str, indicators: str | None = None
) -> Problem:
    """Read the units file (aggregating ``--indicators``) and resolve the weight spec against its criteria."""
    cost_list = parse_columns_option(cost) or []
    table = read_units_table(
        units, id_col=id_col, criteria=parse_columns_option(criteria), cost=cost_list, indicators=parse_indicators(indicators)
    )
    spec = resolve_weights(weights, criteria=list(table.columns), table=table, cost=cost_list, table_file=units)
    return Problem(units, table, spec.weights, str(spec.source), dict(spec.details), tuple(cost_list))


@contextmanager
def about_file(problem: Problem) -> Iterator[None]:
    """Name the units file in an InputError about one of its units or criteria."""
    try:
        yield
    except InputError as exc:
        about_table = exc.row is not None or (exc.column is not None and exc.column in problem.table.columns)
        if exc.file is None and about_table and not hasattr(exc, "errors"):
            raise InputError(exc.message, file=problem.path, row=exc.row, column=exc.column, found=exc.found, option=exc.option) from None
        raise


def parse_options(items: list[str] | None) -> dict[str, object]:
    """``KEY=VALUE`` items into a dict; values are numbers when they parse as numbers."""
    out: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError("expected --option KEY=VALUE", option="option", found=item)
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out


def result_json(result: ScoreResult) -> dict[str, object]:
    """The JSON document of one scoring run (``method``, ``scores``, ``ranks`` first)."""
    return {
        "method": result.method,
        "scores": result.scores,
        "ranks": result.ranks,
        "higher_is_better": result.higher_is_better,
        "quality": result.quality,
        "normalization": result.normalization,
        "weights": result.weights,
        "cost": list(result.cost),
        "options": result.options,
    }


def ranking_table(result: ScoreResult, title: str) -> Table:
    """Rich table of units by rank."""
    table = Table(title=title)
    for col, justify in (("rank", "right"), ("unit", "left"), ("score", "right"), ("quality", "right")):
        table.add_column(col, justify=justify)
    order = result.ranks.sort_values(kind="stable").index
    for uid in order:
        table.add_row(str(result.ranks[uid]), str(uid), f"{result.scores[uid]:.4f}", f"{result.quality[uid]:.4f}")
    return table


def score_command(
    units: Annotated[Path, typer.Argument(help="Units CSV/Parquet: one row per unit, one column per criterion.")],
    id_col: Annotated[str, typer.Option("--id", help=ID_HELP)] = "unit_id",
    method: Annotated[str, typer.Option("--method", help=f"Scoring method (default: topsis); one of {', '.join(METHODS)}.")] = "topsis",
    weights: Annotated[str, typer.Option("--weights", help=WEIGHTS_HELP)] = "equal",
    cost: Annotated[str | None, typer.Option("--cost", help=COST_HELP)] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help=CRITERIA_HELP)] = None,
    indicators: Annotated[str | None, typer.Option("--indicators", help=INDICATORS_HELP)] = None,
    normalization: Annotated[str | None, typer.Option("--normalization", help="Normalization (default: the method's own; TOPSIS: vector): vector, minmax, max, sum.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="Method option KEY=VALUE, repeatable: vikor v=0.5, waspas lam=0.5, promethee preference=usual|vshape|... q= p= s=.")] = None,
    drop_constant: Annotated[bool, typer.Option("--drop-constant", help=DROP_HELP)] = False,
    explain: Annotated[str | None, typer.Option("--explain", help="Explain this unit's rank against the best unit (default: none).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (default: tables).")] = False,
) -> None:
    """Score and rank units over criteria with an MCDM method (rank 1 = best)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = load_problem(units, id_col=id_col, criteria=criteria, cost=cost, weights=weights, indicators=indicators)
        with about_file(problem):
            result = score(
                problem.table, problem.weights, cost=problem.cost, method=method, normalization=normalization,
                drop_constant=drop_constant, **parse_options(option),
            )
        explanation = None if explain is None else explain_unit(result, problem.table, explain)
    show_warnings(caught)
    if as_json:
        doc = result_json(result)
        doc["weights_source"] = problem.weights_source
        doc["weights_details"] = problem.weights_details
        if explanation is not None:
            doc["explanation"] = {
                "unit": explanation.unit_id,
                "rank": explanation.rank,
                "reference": explanation.reference_id,
                "strengths": list(explanation.strengths),
                "weaknesses": list(explanation.weaknesses),
                "criteria": explanation.table.to_dict(orient="index"),
                "text": explanation.text(),
            }
        emit_json(doc)
        return
    direction = "higher is better" if result.higher_is_better else "lower is better"
    out_console.print(ranking_table(result, f"{result.method} ({result.normalization}; score: {direction}) — {units}"))
    wt = Table(title=f"weights ({problem.weights_source})")
    wt.add_column("criterion")
    wt.add_column("weight", justify="right")
    wt.add_column("type")
    for c, w in result.weights.items():
        wt.add_row(str(c), f"{w:.4f}", "cost" if c in result.cost else "benefit")
    out_console.print(wt)
    if explanation is not None:
        et = Table(title=f"unit {explanation.unit_id} vs {explanation.reference_id}")
        for col in ("criterion", "weight", "value", "ref. value", "contrib.", "ref. contrib.", "advantage"):
            et.add_column(col, justify="left" if col == "criterion" else "right")
        for c, row in explanation.table.iterrows():
            et.add_row(str(c), *(f"{v:.4g}" for v in row.to_numpy()))
        out_console.print(et)
        out_console.print(explanation.text())


def register(app: typer.Typer) -> None:
    """Register the `score` command on the app."""
    app.command("score")(score_command)

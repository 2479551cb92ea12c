"""CLI: ``optimizer compare`` — several methods side by side, rank correlations, robustness.

``optimizer compare UNITS.csv --methods topsis,vikor,... --weights SPEC [--cost A,B]
[--criteria A,B,...] [--indicators COL=NODE,...] [--id COL] [--samples N --seed S --top-k K --concentration C]
[--thresholds] [--drop-constant] [--json]``
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from optimizer.commands.score import (
    COST_HELP,
    CRITERIA_HELP,
    DROP_HELP,
    ID_HELP,
    INDICATORS_HELP,
    WEIGHTS_HELP,
    about_file,
    err_console,
    load_problem,
    out_console,
    show_warnings,
)
from optimizer.errors import InputError
from optimizer.mcdm.compare import compare_methods
from optimizer.mcdm.scoring import METHODS
from optimizer.mcdm.sensitivity import Acceptability, rank_acceptability, weight_thresholds
from optimizer.output import emit_json
from optimizer.validation import parse_columns_option

DEFAULT_METHODS = "topsis,ahp,vikor,promethee"


def _matrix(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {str(r): {str(c): float(v) for c, v in row.items()} for r, row in df.iterrows()}


def acceptability_json(acc: Acceptability) -> dict[str, object]:
    """Per unit: top-k share, expected rank and the non-zero rank shares."""
    units = {}
    for uid in acc.rank_shares.index:
        shares = acc.rank_shares.loc[uid]
        units[str(uid)] = {
            "base_rank": int(acc.base_ranks[uid]),
            "top_k_share": float(acc.top_k_share[uid]),
            "expected_rank": float(acc.expected_rank[uid]),
            "rank_shares": {str(int(r)): float(s) for r, s in shares[shares > 0].items()},
        }
    return {"samples": acc.samples, "seed": acc.seed, "concentration": acc.concentration, "top_k": acc.top_k, "units": units}


def _cell(v: object) -> str:
    """A threshold table cell: '-' for no change, 4 decimals for weights."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "-"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _print_matrix(title: str, df: pd.DataFrame) -> None:
    table = Table(title=title)
    table.add_column("")
    for c in df.columns:
        table.add_column(str(c), justify="right")
    for r, row in df.iterrows():
        table.add_row(str(r), *(f"{v:.3f}" for v in row.to_numpy()))
    out_console.print(table)


def compare_command(
    units: Annotated[Path, typer.Argument(help="Units CSV/Parquet: one row per unit, one column per criterion.")],
    methods: Annotated[str, typer.Option("--methods", help=f"Comma-separated methods (default: {DEFAULT_METHODS}); any of {', '.join(METHODS)}.")] = DEFAULT_METHODS,
    weights: Annotated[str, typer.Option("--weights", help=WEIGHTS_HELP)] = "equal",
    id_col: Annotated[str, typer.Option("--id", help=ID_HELP)] = "unit_id",
    cost: Annotated[str | None, typer.Option("--cost", help=COST_HELP)] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help=CRITERIA_HELP)] = None,
    indicators: Annotated[str | None, typer.Option("--indicators", help=INDICATORS_HELP)] = None,
    samples: Annotated[int | None, typer.Option("--samples", help="Monte Carlo weight draws for rank acceptability (default: none, skip).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the weight draws (default: 0).")] = 0,
    top_k: Annotated[int, typer.Option("--top-k", help="Size of the top set for acceptability and thresholds (default: 5).")] = 5,
    concentration: Annotated[float, typer.Option("--concentration", help="Dirichlet concentration c: draws ~ Dir(c * weights) (default: 100).")] = 100.0,
    thresholds: Annotated[bool, typer.Option("--thresholds", help="Also report per criterion the weight change that alters the top-k set (default: off).")] = False,
    drop_constant: Annotated[bool, typer.Option("--drop-constant", help=DROP_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (default: tables).")] = False,
) -> None:
    """Rank units with several methods; rank correlations; weight robustness (--samples, --thresholds)."""
    names = parse_columns_option(methods) or []
    if samples is not None and samples < 1:
        raise InputError("expected --samples >= 1", option="samples", found=samples)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = load_problem(units, id_col=id_col, criteria=criteria, cost=cost, weights=weights, indicators=indicators)
        with about_file(problem):
            comp = compare_methods(problem.table, problem.weights, cost=problem.cost, methods=names, drop_constant=drop_constant)
            common = {"cost": problem.cost, "top_k": top_k, "drop_constant": drop_constant}
            acc = {}
            if samples is not None:
                acc = {
                    m: rank_acceptability(problem.table, problem.weights, method=m, samples=samples, seed=seed,
                                          concentration=concentration, **common)
                    for m in comp.ranks.columns
                }
            thr = {m: weight_thresholds(problem.table, problem.weights, method=m, **common) for m in comp.ranks.columns} if thresholds else {}
    show_warnings(caught)
    if as_json:
        doc: dict[str, object] = {
            "methods": list(comp.ranks.columns),
            "weights": problem.weights,
            "weights_source": problem.weights_source,
            "cost": list(problem.cost),
            "ranks": {m: comp.ranks[m] for m in comp.ranks.columns},
            "scores": {m: comp.scores[m] for m in comp.scores.columns},
            "correlations": {k: _matrix(v) for k, v in comp.correlations.items()},
        }
        if acc:
            doc["acceptability"] = {m: acceptability_json(a) for m, a in acc.items()}
        if thr:
            doc["thresholds"] = {m: t.astype(object).where(t.notna(), None).to_dict(orient="index") for m, t in thr.items()}
        emit_json(doc)
        return
    ranks = comp.ranks.sort_values(list(comp.ranks.columns), kind="stable")
    table = Table(title=f"ranks by method (1 = best) — {units}; weights {problem.weights_source}")
    table.add_column("unit")
    for m in ranks.columns:
        table.add_column(m, justify="right")
    for uid, row in ranks.iterrows():
        table.add_row(str(uid), *(str(int(v)) for v in row.to_numpy()))
    out_console.print(table)
    for key, label in (("spearman", "Spearman rs"), ("weighted_spearman", "weighted Spearman rw"),
                       ("ws", "WS similarity (row = reference)"), ("kendall", "Kendall tau-b")):
        _print_matrix(label, comp.correlations[key])
    for m, a in acc.items():
        at = Table(title=f"{m}: rank acceptability over {a.samples} weight draws (Dirichlet c={a.concentration:g}, seed {a.seed})")
        for col in ("unit", "base rank", f"top-{a.top_k} share", "expected rank", "most frequent ranks"):
            at.add_column(col, justify="left" if col in ("unit", "most frequent ranks") else "right")
        for uid in a.expected_rank.sort_values(kind="stable").index:
            shares = a.rank_shares.loc[uid]
            top = shares[shares > 0].sort_values(ascending=False, kind="stable").head(3)
            at.add_row(str(uid), str(int(a.base_ranks[uid])), f"{a.top_k_share[uid]:.3f}", f"{a.expected_rank[uid]:.2f}",
                       ", ".join(f"{int(r)}: {s:.0%}" for r, s in top.items()))
        out_console.print(at)
    for m, t in thr.items():
        tt = Table(title=f"{m}: weight change that alters the top-{top_k} set (others rescaled)")
        for col in ("criterion", "weight", "up to", "enters", "down to", "enters "):
            tt.add_column(col, justify="left" if col.strip() in ("criterion", "enters") else "right")
        for c, row in t.iterrows():
            tt.add_row(str(c), f"{row['weight']:.4f}", _cell(row["up_weight"]), _cell(row["up_enters"]),
                       _cell(row["down_weight"]), _cell(row["down_enters"]))
        out_console.print(tt)
    if not acc:
        err_console.print("hint: add --samples 2000 for rank acceptability under weight uncertainty")


def register(app: typer.Typer) -> None:
    """Register the `compare` command on the app."""
    app.command("compare")(compare_command)

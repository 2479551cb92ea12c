"""CLI: ``optimizer weights`` — AHP matrices, presets, objective weights, weight specs, catalog.

* ``optimizer weights ahp M1.csv [M2.csv ...] [--json]``: AHP weights and consistency of
  one pairwise comparison matrix, or group AHP (geometric mean) of several experts.
* ``optimizer weights preset NAME [--json]``: a published preset (path-coefficients,
  friedman, equal).
* ``optimizer weights objective UNITS.csv --method entropy [--id COL] [--cost A,B]
  [--criteria A,B,...] [--json]``: objective weights from a units table.
* ``optimizer weights show SPEC --criteria A,B,... [--units UNITS.csv ...] [--json]``:
  resolve any weight spec (the ``--weights`` option of ``score`` / ``compare``).
* ``optimizer weights catalog [--json]``: the ten dimensions with themes and sub-themes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from optimizer.commands.score import show_warnings
from optimizer.output import emit_json

weights_app = typer.Typer(
    help="Criteria weights: AHP pairwise matrices, published presets, objective weights, the catalog.",
    no_args_is_help=True,
)

_out = Console(highlight=False, soft_wrap=True)


def _weights_table(title: str, series, extra: dict[str, dict] | None = None) -> Table:
    table = Table(title=title)
    table.add_column("criterion")
    table.add_column("weight", justify="right")
    for name in extra or {}:
        table.add_column(name, justify="right")
    for k, v in series.items():
        cells = [str(k), f"{float(v):.4f}"]
        for col in (extra or {}).values():
            value = col.get(k)
            cells.append("" if value is None else f"{float(value):.4f}")
        table.add_row(*cells)
    return table


def _print_consistency(label: str, r) -> None:
    from optimizer.mcdm.ahp import format_judgement

    status = "consistent" if r.consistent else "INCONSISTENT (CR > 0.10)"
    _out.print(
        f"{label}lambda_max = {r.lambda_max:.4f}, CI = {r.ci:.4f}, RI = {r.random_index:.2f}, "
        f"CR = {r.cr:.4f}: {status}"
    )
    if not r.consistent:
        table = Table(title="comparisons to re-ask (largest deviation first)")
        for c in ("row", "column", "judgement", "implied w_i/w_j", "|ln(a_ij w_j / w_i)|"):
            table.add_column(c)
        for rec in r.reask():
            table.add_row(
                rec["row"], rec["column"], format_judgement(rec["judgement"]), f"{rec['implied']:.3g}", f"{rec['deviation']:.3f}"
            )
        _out.print(table)


@weights_app.command("ahp")
def ahp_command(
    files: Annotated[
        list[Path],
        typer.Argument(help="Pairwise comparison matrix CSV(s); several files = group AHP (one per expert)."),
    ],
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: tables)."),
) -> None:
    """AHP weights, lambda_max, CI and CR of pairwise comparison matrices.

    A matrix CSV has a header row of criterion names and the same names, in the same
    order, in its first column; entries are positive numbers or fractions like 1/3.
    With several files the experts' matrices are combined by element-wise geometric mean.
    """
    from optimizer.mcdm.ahp import GroupAHPResult, ahp_from_files

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ahp_from_files(files)
    show_warnings(caught)
    if isinstance(result, GroupAHPResult):
        group = result.group
        doc = group.to_dict()
        doc["experts"] = {name: r.to_dict() for name, r in result.experts.items()}
        doc["matrix"] = {str(i): {str(j): float(v) for j, v in row.items()} for i, row in result.matrix.iterrows()}
    else:
        group = result
        doc = result.to_dict()
    if as_json:
        emit_json(doc)
        return
    if isinstance(result, GroupAHPResult):
        extra = {name: r.weights.to_dict() for name, r in result.experts.items()}
        _out.print(_weights_table("group AHP weights (geometric mean of the experts' matrices)", group.weights, extra))
        for name, r in result.experts.items():
            _print_consistency(f"{name}: ", r)
        _print_consistency("group: ", group)
    else:
        _out.print(_weights_table(f"AHP weights ({files[0]})", group.weights))
        _print_consistency("", group)


@weights_app.command("preset")
def preset_command(
    name: str = typer.Argument(..., help="Preset name: path-coefficients, friedman or equal."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: a table)."),
) -> None:
    """Published dimension weights (seed 002, Tables 4 and 5), normalized to sum 1."""
    from optimizer.mcdm.catalog import load_catalog, preset_weights

    w = preset_weights(name)
    if as_json:
        emit_json({"preset": w.name, "weights": w})
        return
    dims = load_catalog().dimension_table()
    table = Table(title=f"preset {w.name}")
    for c in ("dimension", "label", "published", "weight"):
        table.add_column(c, justify="right" if c in ("published", "weight") else "left")
    published = {"path-coefficients": dims["path_coefficient"], "friedman": dims["friedman_mean_rank"]}.get(str(w.name))
    for key, v in w.items():
        pub = "" if published is None else f"{published[key]:.2f}"
        table.add_row(key, dims.loc[key, "label"], pub, f"{v:.4f}")
    _out.print(table)


@weights_app.command("objective")
def objective_command(
    units: Annotated[Path, typer.Argument(help="Units table (CSV or Parquet): one row per unit, one column per criterion.")],
    method: str = typer.Option("entropy", "--method", help="entropy, critic, std or merec (default: entropy)."),
    id_col: str = typer.Option("unit_id", "--id", help="Id column (default: unit_id)."),
    cost: str = typer.Option(None, "--cost", help="Comma-separated cost criteria (default: none)."),
    criteria: str = typer.Option(None, "--criteria", help="Comma-separated criteria (default: every numeric column but the id)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: a table)."),
) -> None:
    """Objective weights (entropy, CRITIC, standard deviation, MEREC) from a units table."""
    from optimizer.mcdm.scoring import read_units_table
    from optimizer.mcdm.weights import objective_weights
    from optimizer.validation import parse_columns_option

    cost_list = parse_columns_option(cost) or []
    table = read_units_table(units, id_col=id_col, criteria=parse_columns_option(criteria), cost=cost_list)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = objective_weights(table, cost=cost_list, method=method, file=units)
    show_warnings(caught)
    if as_json:
        emit_json({"method": w.name, "cost": cost_list, "weights": w})
        return
    _out.print(_weights_table(f"{w.name} weights ({units})", w))


@weights_app.command("show")
def show_command(
    spec: str = typer.Argument(..., help="Weight spec: equal, entropy, preset:friedman, ahp:m.csv, a=0.3,b=0.7, blend:...@0.6, ..."),
    criteria: str = typer.Option(None, "--criteria", help="Comma-separated criteria (default: the units' numeric columns, or the ten dimensions)."),
    units: Annotated[
        Path | None, typer.Option("--units", help="Units table, needed by entropy/critic/std/merec (default: none).")
    ] = None,
    id_col: str = typer.Option("unit_id", "--id", help="Id column of the units table (default: unit_id)."),
    cost: str = typer.Option(None, "--cost", help="Comma-separated cost criteria (default: none)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: a table)."),
) -> None:
    """Resolve a weight spec (as given to `score --weights`) and print the weights."""
    from optimizer.mcdm.catalog import DIMENSIONS
    from optimizer.mcdm.weights import resolve_weights
    from optimizer.validation import parse_columns_option

    cost_list = parse_columns_option(cost) or []
    names = parse_columns_option(criteria)
    table = None
    if units is not None:
        from optimizer.mcdm.scoring import read_units_table

        table = read_units_table(units, id_col=id_col, criteria=names, cost=cost_list)
        names = list(table.columns)
    if names is None:
        names = list(DIMENSIONS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = resolve_weights(spec, criteria=names, table=table, cost=cost_list, table_file=units)
    show_warnings(caught)
    if as_json:
        emit_json(result.to_dict())
        return
    _out.print(_weights_table(f"weights from {spec!r}", result.weights))


@weights_app.command("catalog")
def catalog_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (default: a tree of tables)."),
) -> None:
    """The ten dimensions of the contracting model with their themes and sub-themes (seed 002, Table 2)."""
    from optimizer.mcdm.catalog import load_catalog

    cat = load_catalog()
    if as_json:
        emit_json(
            {
                "source": cat.source,
                "dimensions": [
                    {
                        "key": d.key,
                        "label": d.label,
                        "path_coefficient": d.path_coefficient,
                        "t_value": d.t_value,
                        "impact_rank": d.impact_rank,
                        "friedman_mean_rank": d.friedman_mean_rank,
                        "friedman_rank": d.friedman_rank,
                        "repetitions": d.count,
                        "themes": [
                            {
                                "row": t.row,
                                "name": t.name,
                                "repetitions": t.count,
                                "subthemes": [{"id": s.id, "name": s.name, "count": s.count} for s in t.subthemes],
                            }
                            for t in d.themes
                        ],
                    }
                    for d in cat.dimensions
                ],
            }
        )
        return
    table = Table(title="criteria catalog (seed 002, Table 2; beta from Table 4, Friedman mean rank from Table 5)")
    for c in ("dimension", "beta", "Friedman", "row", "theme", "sub-themes (repetitions)"):
        table.add_column(c, overflow="fold")
    for d in cat.dimensions:
        for k, t in enumerate(d.themes):
            head = (f"{d.key}\n{d.label}", f"{d.path_coefficient:.2f}", f"{d.friedman_mean_rank:.2f}") if k == 0 else ("", "", "")
            subs = "; ".join(f"{s.name} ({s.count})" for s in t.subthemes)
            table.add_row(*head, str(t.row), t.name, subs)
        table.add_section()
    _out.print(table)
    n_sub = len(cat.subthemes)
    total = sum(s.count for s in cat.subthemes)
    _out.print(f"{len(cat.dimensions)} dimensions, {len(cat.themes)} themes, {n_sub} sub-themes, {total} repetitions")


def register(app: typer.Typer) -> None:
    """Register the ``weights`` command group on the app."""
    app.add_typer(weights_app, name="weights")


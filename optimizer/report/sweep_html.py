"""The sweep report: the coverage-vs-budget frontier, the targets and the units entering.

One self-contained HTML page (no map, so no Leaflet) plus ``frontier.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimizer.report import charts as ch
from optimizer.report.page import Column, cards, esc, figure, fmt, page, table

FRONTIER_COLUMNS = (
    Column(None, "step", "int"),
    Column("budget", "budget", "money"),
    Column("status", "status"),
    Column("gap", "gap", "share"),
    Column("total_cost", "total cost", "money"),
    Column("covered_population", "covered (served) population", "int"),
    Column("coverage_share", "coverage", "share"),
    Column("reached_population", "in reach", "int"),
    Column("unspent", "budget unspent", "money"),
    Column("utilisation", "utilisation", "share"),
    Column("units", "units", "int"),
    Column("entering", "entering", "int"),
    Column("leaving", "leaving", "int"),
    Column("coverage_gain", "need-weighted gain", "int"),
    Column("marginal_per_budget", "gain per unit of budget", "float"),
    Column("marginal_per_cost", "gain per unit of cost", "float"),
    Column("note", "note"),
)

TARGET_COLUMNS = (
    Column(None, "target", "share"),
    Column("budget", "smallest budget", "money"),
    Column("status", "status"),
    Column("gap", "gap", "share"),
    Column("coverage_share", "coverage reached", "share"),
    Column("units", "units", "int"),
    Column("frontier_budget", "first swept budget reaching it", "money"),
    Column("note", "note"),
)

CHANGE_COLUMNS = (
    Column("step", "step", "int"),
    Column("budget_from", "from budget", "money"),
    Column("budget", "to budget", "money"),
    Column("unit_id", "unit"),
    Column("change", "change"),
)


def _status_class(value: Any) -> str:
    return "" if value in ("optimal", None) else "bad"


def render_sweep_report(result: Any, frontier_png: bytes) -> str:
    """HTML of a :class:`optimizer.sweep.SweepResult`'s report."""
    f = result.frontier
    ok = f[f["coverage_share"].notna()]
    not_optimal = int((f["status"] != "optimal").sum())
    items = [
        ("Budgets swept", f"{len(f)}", f"{fmt(f['budget'].min(), 'money')} to {fmt(f['budget'].max(), 'money')}", False),
        (
            "Coverage range",
            f"{fmt(ok['coverage_share'].min(), 'share')} – {fmt(ok['coverage_share'].max(), 'share')}" if len(ok) else "–",
            f"of {fmt(result.population, 'int')} people",
            False,
        ),
        ("Not proven optimal", str(not_optimal), "solves with a limit or no solution", not_optimal > 0),
    ]
    if result.current_share is not None:
        items.append(("Current contracts", fmt(result.current_share, "share"), "coverage before any change", False))
    for tau, row in result.targets.iterrows():
        items.append((f"Cheapest {fmt(tau, 'share')}", fmt(row["budget"], "money"), f"{fmt(row['units'], 'int')} units, {row['status']}", row["status"] != "optimal"))
    intro = (
        f"<p>The best {esc(result.objective)} selection at each budget (every budget solved exactly with the scenario's "
        "constraints). <em>Gain per unit of budget</em> is the extra need-weighted covered population (the objective) divided by the extra budget "
        "since the previous step. The smallest budget for a target is the total cost of the cheapest selection "
        "reaching it (an exact min-cost solve): any lower budget misses the target.</p>"
    )
    changes = result.changes
    sections = [
        ("figures", "Key figures", cards(items)),
        ("frontier", "Frontier", intro + figure("frontier", frontier_png, ch.CHART_CAPTIONS["frontier"])
         + f'<div class="scroll">{table(f, FRONTIER_COLUMNS, table_id="frontier-table", classes={"status": _status_class})}</div>'),
    ]
    if len(result.targets):
        sections.append(("targets", "Coverage targets", table(result.targets, TARGET_COLUMNS, table_id="targets-table", classes={"status": _status_class})))
    sections.append(
        (
            "changes",
            "Units entering and leaving",
            '<input class="filter" data-table="changes-table" placeholder="filter (unit, enters, leaves)…">'
            + f'<div class="scroll">{table(changes, CHANGE_COLUMNS, table_id="changes-table")}</div>',
        )
    )
    footer = f"Solved ({esc(result.executor)}) in {fmt(result.seconds, 'float')} s. Also written: frontier.csv, entering.csv, frontier.png."
    subtitle = f"Coverage against budget for scenario “{result.name}”."
    return page(f"Budget sweep — {result.name}", subtitle, sections, footer=footer)


def write_sweep_report(folder: str | Path, result: Any) -> Path:
    """Write ``frontier.png`` and ``report.html`` of a sweep into ``folder``; return the report path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = ch.figure_png(ch.frontier(result.frontier, result.targets, result.current_share))
    (folder / "frontier.png").write_bytes(png)
    path = folder / "report.html"
    path.write_text(render_sweep_report(result, png), encoding="utf-8")
    return path

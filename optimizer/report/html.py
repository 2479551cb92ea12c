"""The run report: one self-contained ``report.html`` a budget officer can e-mail.

Sections: key figures; an interactive map (regions shaded by the share of their
population within reach of a contracted unit, before and after, with a layer switch;
units as circle markers: new contracts, kept, dropped, candidates; tooltips with id,
score, cost and the reason); charts (also written as PNG beside the report); the
per-region table; the unit table; the method and weights; inputs and versions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.geography import reach_unit
from optimizer.output import to_jsonable
from optimizer.report import charts as ch
from optimizer.report.mapdata import (
    MAX_DEMAND_POINTS,
    demand_payload,
    regions_geojson,
    script_json,
    units_payload,
)
from optimizer.report.page import LEAFLET_VERSION, Column, cards, esc, figure, fmt, kv, page, table
from optimizer.report.status import DRAW_ORDER, STATUS_COLORS, STATUS_LABELS, STATUSES, unit_status

MAX_UNIT_ROWS = 5_000
"""Unit rows shown in the page; the rest are in ``selection.csv`` (stated under the table)."""

REGION_COLUMNS = (
    Column(None, "region"),
    Column("name", "name"),
    Column("population", "population", "int"),
    Column("need_population", "need-weighted population", "int"),
    Column("units_before", "units before", "int"),
    Column("units_after", "units after", "int"),
    Column("units_per_100k_before", "per 100k before", "float"),
    Column("units_per_100k_after", "per 100k after", "float"),
    Column("covered_share_before", "covered before", "share"),
    Column("covered_share_after", "covered after", "share"),
    Column("covered_change", "change", "delta_share"),
    Column("access_2sfca_before", "2SFCA before", "float"),
    Column("access_2sfca_after", "2SFCA after", "float"),
    Column("reached_share", "in reach after", "share"),
    Column("floor", "floor", "share"),
    Column("floor_met", "floor met", "bool"),
    Column("units_required", "units required (ratio)", "int"),
    Column("ratio_met", "ratio met", "bool"),
)

EQUITY_COLUMNS = (
    Column(None, "network", "text"),
    Column("gini", "Gini of access", "score"),
    Column("worst_covered", "worst-off 10 %: covered", "share"),
    Column("worst_median", "worst-off 10 %: median to nearest unit", "text"),
)

EQUITY_REGION_COLUMNS = (
    Column(None, "region"),
    Column("name", "name"),
    Column("population", "population", "int"),
    Column("nearest_median_before_text", "median to nearest, before", "text"),
    Column("nearest_median_after_text", "median to nearest, after", "text"),
    Column("nearest_p90_after_text", "90th percentile, after", "text"),
    Column("nearest_share_beyond_after", "beyond reach, after", "share"),
)

CAPACITY_COLUMNS = (
    Column(None, "region"),
    Column("name", "name"),
    Column("population", "population", "int"),
    Column("volume_needed", "volume needed", "int"),
    Column("capacity_in_reach", "capacity in reach", "int"),
    Column("capacity_gap", "capacity minus volume", "int"),
    Column("reached_share", "in reach", "share"),
    Column("served_share", "served", "share"),
    Column("shortfall_share", "in reach, not served", "share"),
)
"""The per-region capacity-gap table (with capacities): volume needed (every service)
against the capacity of the contracted units reaching the region."""

UNIT_COLUMNS = (
    Column(None, "unit"),
    Column("name", "name"),
    Column("status", "status"),
    Column("service", "service"),
    Column("region", "region"),
    Column("score", "score", "score"),
    Column("rank", "rank", "int"),
    Column("cost", "cost", "money"),
    Column("marginal_coverage", "marginal coverage", "int"),
    Column("capacity", "capacity", "int"),
    Column("load", "load", "int"),
    Column("utilisation", "utilisation", "share"),
    Column("served", "people served", "int"),
    Column("eligible", "eligible", "bool"),
    Column("reason", "reason"),
)

CORE_FORMULATION = (
    "max Σ_i w_i·y_i  subject to  y_i ≤ Σ_{j reaching i} x_j,  Σ_j c_j·x_j ≤ B,  "
    "x_j = 1 for must-keep units, x_j = 0 for excluded or ineligible units, "
    "regional coverage floors and ratio standards; x binary, 0 ≤ y ≤ 1. "
    "Ties in coverage are broken by the quality of coverage (each person counts with the score of the unit "
    "that serves them), then by lower cost (lexicographic). With unit capacities, people count only when "
    "the contracted capacity serves them: each demand point's volume is assigned to contracted units in "
    "reach, none above its capacity."
)


def _figure(run: Any, key: str, default: Any = None) -> Any:
    figures = getattr(run, "figures", None) or {}
    value = figures.get(key, default)
    return default if value is None else value


def _scenario_name(run: Any) -> str:
    """The scenario's name, else its file's (or folder's) name."""
    value = getattr(getattr(run, "scenario", None), "name", None)
    if isinstance(value, str) and value:
        return value
    path = Path(getattr(run, "scenario_path", "") or "scenario")
    return path.parent.name if path.name == "scenario.toml" and path.parent.name else path.stem


def key_figures(run: Any) -> list[tuple[str, str, str, bool]]:
    """The cards at the top of the report, from ``run.figures`` (frames as fallback)."""
    units, regions = run.units, run.regions
    status = unit_status(units)
    before = _figure(run, "coverage_share_before")
    after = _figure(run, "coverage_share_after")
    delta = (after - before) if before is not None and after is not None else None
    budget = _figure(run, "budget")
    cost = _figure(run, "total_cost", getattr(run.selection, "total_cost", None))
    sel_status = str(_figure(run, "status", getattr(run.selection, "status", "")))
    gap = _figure(run, "gap", getattr(run.selection, "gap", None))
    kept = int((status == "kept").sum())
    added = int((status == "new").sum())
    dropped = int((status == "dropped").sum())
    n_floor = int(regions["floor"].notna().sum()) if "floor" in regions.columns else 0
    n_met = int(regions["floor_met"].fillna(False).astype(bool).sum()) if "floor_met" in regions.columns else 0
    budget_sub = f"of budget {fmt(budget, 'money')} ({fmt(cost / budget, 'share')} used)" if budget and cost is not None else ""
    out = [
        ("Coverage after", fmt(after, "share"), f"before {fmt(before, 'share')} ({fmt(delta, 'delta_share')})", False),
        ("People newly covered", fmt(_figure(run, "people_newly_covered"), "int"), f"of {fmt(_figure(run, 'population'), 'int')} people", False),
        ("Total cost", fmt(cost, "money"), budget_sub, False),
        ("Units contracted", fmt(kept + added, "int"), f"{kept} kept, {added} new, {dropped} dropped", False),
        ("Candidates", fmt(len(units), "int"), f"in {fmt(len(regions), 'int')} regions", False),
        ("Solver status", sel_status or "–", f"gap {fmt(gap, 'share')}" if gap is not None else "", sel_status not in ("optimal", "")),
    ]
    if n_floor:
        out.append(("Regional floors met", f"{n_met} / {n_floor}", "regions with a coverage floor", n_met < n_floor))
    if _figure(run, "capacity", False):
        shortfall = _figure(run, "capacity_shortfall", 0.0)
        reached = _figure(run, "reached_population_after")
        out.append(("In reach but not served", fmt(shortfall, "int"), f"capacity shortfall; {fmt(reached, 'int')} people in reach", bool(shortfall)))
        served, needed = _figure(run, "volume_served"), _figure(run, "volume_needed")
        out.append(("Volume served", fmt(served, "int"), f"of {fmt(needed, 'int')} needed (tests, exams per period)", False))
    note = _figure(run, "spending_note")
    if note:
        out.append(("Budget", fmt(_figure(run, "budget_unspent"), "money") + " unspent", str(note), False))
    return out


def map_json(run: Any) -> str:
    """Script-safe JSON for the page's map."""
    geometry = getattr(run, "region_geometry", None)
    data = {
        "regions": regions_geojson(geometry, run.regions),
        "units": units_payload(run.units),
        "demand": demand_payload(getattr(run, "demand", None)),
        "statuses": list(STATUSES),
        "draw_order": list(DRAW_ORDER),
        "labels": STATUS_LABELS,
        "colors": STATUS_COLORS,
    }
    return script_json(data)


def regions_frame(regions: pd.DataFrame) -> pd.DataFrame:
    """The per-region table's frame: the run's regions plus the change in covered share."""
    out = regions.copy()
    if {"covered_share_before", "covered_share_after"} <= set(out.columns):
        out["covered_change"] = out["covered_share_after"] - out["covered_share_before"]
    return out


def capacity_frame(regions: pd.DataFrame) -> pd.DataFrame:
    """The capacity-gap table's frame: capacity in reach minus volume needed, and the
    share of the population in reach but not served."""
    out = regions.copy()
    out["capacity_gap"] = out["capacity_in_reach"] - out["volume_needed"]
    out["shortfall_share"] = (out["reached_share"] - out["served_share"]).clip(lower=0.0)
    return out.sort_values("capacity_gap", kind="stable")


def _distance_text(value: Any, unit: str) -> str:
    """A distance or travel time, or "beyond reach" when no contracted unit is within it."""
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "beyond reach"
    return f"{fmt(value, 'float')} {unit}"


def equity_section(run: Any) -> str:
    """Equity of access before and after: Gini of 2SFCA, the worst-off 10 %, and per region
    the median / 90th percentile distance to the nearest contracted unit."""
    figures = getattr(run, "equity", None) or {}
    if not figures:
        return ""
    scenario = getattr(run, "scenario", None)
    unit = reach_unit(scenario) if scenario is not None else "km"
    rows = pd.DataFrame(
        {
            "gini": [figures[k].get("gini") for k in ("before", "after")],
            "worst_covered": [figures[k].get("worst_off_covered_share") for k in ("before", "after")],
            "worst_median": [_distance_text(figures[k].get("worst_off_median_distance"), unit) for k in ("before", "after")],
        },
        index=pd.Index(["before (current contracts)", "after (selection)"], name="network"),
    )
    overall = table(rows, EQUITY_COLUMNS, table_id="equity-table")
    regions = run.regions.copy()
    spread = ""
    if {"nearest_median_before", "nearest_median_after"} <= set(regions.columns) and len(regions):
        for col in ("nearest_median_before", "nearest_median_after", "nearest_p90_after"):
            regions[col + "_text"] = [_distance_text(v, unit) for v in regions[col]]
        spread = f'<div class="scroll">{table(regions, EQUITY_REGION_COLUMNS, table_id="equity-regions-table")}</div>'
    note = (
        "<p class='map-note'>Gini of 2SFCA access across demand points, weighted by population (0 = everyone has the same access). "
        f"The worst-off 10 % are the people with the least access; their distance is to the nearest contracted unit ({esc(unit)}).</p>"
    )
    return note + overall + spread


def units_frame(units: pd.DataFrame) -> pd.DataFrame:
    """The unit table's frame: status first (new, kept, dropped, candidates), then rank."""
    out = units.copy()
    out["status"] = unit_status(units)
    order = {s: k for k, s in enumerate(STATUSES)}
    keys = [out["status"].map(order)]
    if "rank" in out.columns:
        keys.append(pd.to_numeric(out["rank"], errors="coerce"))
    sort = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)}, index=out.index)
    out = out.loc[sort.sort_values(list(sort.columns), kind="stable").index]
    out["status"] = out["status"].map(STATUS_LABELS)
    return out


def _floor_class(value: Any) -> str:
    """CSS class flagging an unmet floor (``False``; NA means no floor)."""
    return "bad" if isinstance(value, bool | np.bool_) and not value else ""


def _objective_text(objective: Any) -> str:
    """Stage values of the lexicographic objective ("coverage 1,234; cost 56"), or one number."""
    if isinstance(objective, dict):
        return "; ".join(f"{k} {fmt(v, 'float')}" for k, v in objective.items()) or "–"
    return fmt(objective, "float")


def _experts_table(experts: Any) -> str:
    """Each expert's AHP consistency (group AHP weights), an inconsistent one flagged."""
    if not isinstance(experts, dict) or not experts:
        return ""
    rows = []
    for name, info in experts.items():
        info = info if isinstance(info, dict) else {}
        ok = info.get("consistent")
        verdict = "yes" if ok else ("no: CR above 0.10, re-ask the judgements" if ok is False else "–")
        css = "text bad" if ok is False else "text"
        rows.append(
            f'<tr><td class="text">{esc(name)}</td><td>{fmt(info.get("cr"), "float")}</td>'
            f'<td class="{css}">{esc(verdict)}</td></tr>'
        )
    return (
        '<h3>Experts (AHP)</h3><table class="data" id="experts-table" style="width:auto">'
        '<thead><tr><th class="text">expert</th><th>consistency ratio</th><th class="text">consistent</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _method_section(run: Any) -> str:
    parts = []
    score_result = getattr(run, "score_result", None)
    details = getattr(run, "weight_details", None) or {}
    method = getattr(score_result, "method", None) or details.get("method")
    facts = {
        "scoring method": method or "precomputed scores",
        "objective": _figure(run, "objective_mode", "coverage"),
        "solver": _figure(run, "solver", "–"),
        "solver status": _figure(run, "status", getattr(run.selection, "status", "–")),
        "proven gap": fmt(_figure(run, "gap", getattr(run.selection, "gap", None)), "share"),
        "objective values": _objective_text(_figure(run, "objective", getattr(run.selection, "objective", None))),
        "budget": fmt(_figure(run, "budget"), "money"),
    }
    for k, v in details.items():  # how the weights were obtained (spec, preset, AHP CR, ...)
        if isinstance(v, str | int | float | bool) and k != "method":
            facts[f"weights: {k.replace('_', ' ')}"] = fmt(v, "float") if isinstance(v, float) else str(v)
    parts.append(kv(facts))
    parts.append(_experts_table(details.get("experts")))
    parts.append(f"<h3>Selection model</h3><p>{esc(CORE_FORMULATION)}</p>")
    weights = getattr(run, "weights", None)
    if weights is not None and len(weights):
        w = pd.Series(weights, dtype=float)
        top = float(w.max()) if len(w) else 1.0
        rows = "".join(
            f'<tr><td class="text">{esc(name)}</td><td class="text" data-v="{float(v)!r}">{fmt(v, "score")}'
            f'<span class="wbar" style="width:{120 * float(v) / top if top > 0 else 0:.1f}px"></span></td></tr>'
            for name, v in w.items()
        )
        parts.append(
            '<h3>Criteria weights</h3><table class="data" id="weights-table" style="width:auto">'
            '<thead><tr><th class="text">criterion</th><th>weight</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    scenario = getattr(run, "scenario", None)
    if hasattr(scenario, "model_dump"):
        text = json.dumps(to_jsonable(scenario.model_dump(mode="json")), indent=2, ensure_ascii=False, default=str)
        parts.append(f'<details><summary>Scenario as resolved</summary><pre class="json">{esc(text)}</pre></details>')
    return "\n".join(parts)


def _footer(run: Any) -> str:
    inputs = getattr(run, "inputs", None) or {}
    versions = getattr(run, "versions", None) or {}
    timings = getattr(run, "timings", None) or {}
    rows = []
    credits = getattr(getattr(run, "scenario", None), "credits", None)
    if isinstance(credits, str) and credits.strip():
        rows.append(f'<span class="credits">Data: {esc(credits.strip())}</span>')
    if inputs:
        rows.append("Inputs: " + "; ".join(f"{esc(k)} (sha256 {esc(str(v)[:12])}…)" for k, v in inputs.items()))
    if versions:
        rows.append("Versions: " + ", ".join(f"{esc(k)} {esc(v)}" for k, v in versions.items()))
    if timings:
        rows.append("Timings: " + ", ".join(f"{esc(k)} {fmt(v, 'float')} s" for k, v in timings.items()))
    rows.append(f"Map drawn with Leaflet {LEAFLET_VERSION} (BSD-2-Clause, © Vladimir Agafonkin), inlined; no network access is needed.")
    return "<br>".join(rows)


def render_run_report(run: Any, pngs: dict[str, bytes]) -> str:
    """The run report's HTML; ``pngs`` are the charts by file stem (see :func:`write_report`)."""
    regions = regions_frame(run.regions)
    units = units_frame(run.units)
    shown = units.iloc[:MAX_UNIT_ROWS]
    more = (
        f"<p class='map-note'>Showing the first {len(shown):,} of {len(units):,} units; every unit is in <code>selection.csv</code>.</p>"
        if len(units) > len(shown)
        else ""
    )
    demand = getattr(run, "demand", None)
    n_demand = 0 if demand is None else len(demand)
    has_geometry = getattr(run, "region_geometry", None) is not None
    map_note = (
        "Regions are shaded by the share of their population within reach of a contracted unit; "
        "switch between before (current contracts) and after (selected) in the layer box. "
        if has_geometry
        else "No region polygons in this scenario: settlements are shaded by their covered share (the share of the services they have in reach); switch before / after in the layer box. "
    )
    map_note += "Hover a unit for its id, score, cost and why it was or was not selected."
    if _figure(run, "capacity", False):
        map_note += " A contracted unit's ring grows with its utilisation (load over capacity); a dark red ring marks a full unit."
    if n_demand > MAX_DEMAND_POINTS:
        map_note += f" The map shows the {MAX_DEMAND_POINTS:,} most populous of {n_demand:,} demand points."
    charts_html = "".join(figure(name, png, ch.CHART_CAPTIONS.get(name, name)) for name, png in pngs.items())
    sections = [
        ("figures", "Key figures", cards(key_figures(run))),
        ("map", "Map", f'<div id="map"></div><p class="map-note">{esc(map_note)}</p>'),
        ("charts", "Charts", f'<div class="charts">{charts_html}</div>'),
        (
            "regions",
            "Regions",
            '<input class="filter" data-table="regions-table" placeholder="filter regions…">'
            f'<div class="scroll">{table(regions, REGION_COLUMNS, table_id="regions-table", classes={"floor_met": _floor_class, "ratio_met": _floor_class})}</div>',
        ),
        (
            "units",
            "Units",
            '<input class="filter" data-table="units-table" placeholder="filter units (id, region, status, reason)…">'
            f'<div class="scroll">{table(shown, UNIT_COLUMNS, table_id="units-table")}</div>{more}',
        ),
        ("method", "Method and weights", _method_section(run)),
    ]
    equity_html = equity_section(run)
    if equity_html:
        sections.insert(len(sections) - 1, ("equity", "Equity of access", equity_html))
    if _figure(run, "capacity", False) and {"volume_needed", "capacity_in_reach", "reached_share", "served_share"} <= set(regions.columns):
        sections.insert(
            4,
            (
                "capacity",
                "Capacity by region",
                "<p class='map-note'>Volume needed by the region's people (every service, per period) against the capacity of the "
                "contracted units that reach it (a unit reaching several regions counts in each); regions with the largest gap first.</p>"
                f'<div class="scroll">{table(capacity_frame(regions), CAPACITY_COLUMNS, table_id="capacity-table")}</div>',
            ),
        )
    warns = [str(w) for w in (getattr(run, "warnings", None) or ())]
    if warns:
        items = "".join(f"<li>{esc(w)}</li>" for w in warns)
        sections.insert(1, ("warnings", "Warnings", f'<ul class="warnings">{items}</ul>'))
    name = _scenario_name(run)
    subtitle = (
        f"Contract selection for scenario “{name}”: {len(run.units):,} candidate units, "
        f"{len(run.regions):,} regions, {n_demand:,} demand points."
    )
    description = getattr(getattr(run, "scenario", None), "description", None)
    if isinstance(description, str) and description.strip():
        subtitle += " " + description.strip()
    return page(f"Contract selection — {name}", subtitle, sections, map_json=map_json(run), footer=_footer(run))


def write_report(folder: str | Path, run: Any) -> Path:
    """Write ``report.html`` and its charts (``<chart>.png``) into ``folder``; return the report's path.

    ``run`` is an :class:`optimizer.pipeline.RunResult`. The charts are
    ``coverage_by_region.png``, ``cost_vs_coverage.png`` and ``score_distribution.png``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pngs = {name: ch.figure_png(fig) for name, fig in ch.chart_set(run.units, run.regions).items()}
    for name, png in pngs.items():
        (folder / f"{name}.png").write_bytes(png)
    path = folder / "report.html"
    path.write_text(render_run_report(run, pngs), encoding="utf-8")
    return path

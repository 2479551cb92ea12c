"""The shipped demo as it runs by default: capacities on (yearly volumes from use rates).

Every served figure of the run folder is recomputed here from ``assignment.csv`` and the
input files alone, and the assignment itself is checked: pairs in reach of a selected
unit of their service, people served at most the point's population, loads at most the
capacities, volumes equal to people times the point's use rate.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optimizer.geo.distance import haversine_km

from .conftest import DEMO, DEMO_DATA, run_cli

RATES, OVER_60_RATES, OVER_60 = {"lab": 2.0, "imaging": 0.3}, {"lab": 5.0, "imaging": 0.8}, "pop_over_60"
"""The demo's use rates per person, and for people over 60."""


@pytest.fixture(scope="module")
def capacity_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("capacity") / "run"
    assert run_cli("run", DEMO, "--out", folder, "--quiet") == 0
    return (
        folder,
        json.loads((folder / "summary.json").read_text()),
        pd.read_csv(folder / "selection.csv", dtype={"unit_id": str}).set_index("unit_id"),
        pd.read_csv(folder / "regions.csv", dtype={"region": str}).set_index("region"),
        pd.read_csv(folder / "assignment.csv", dtype={"demand_id": str, "unit_id": str}),
    )


def test_capacity_is_on_by_default_in_the_demo(capacity_run):
    _, summary, sel, _, _ = capacity_run
    assert summary["capacity"] is True
    assert summary["status"] in ("optimal", "time_limit")
    assert summary["gap"] is not None and summary["gap"] <= 1e-9  # stage 1 proven within the limit
    assert summary["covered_population"] < summary["reached_population"]
    assert summary["capacity_shortfall"] == pytest.approx(summary["reached_population"] - summary["covered_population"])
    assert {"load", "utilisation", "served"} <= set(sel.columns)


def test_assignment_is_feasible(capacity_run):
    _, _, sel, _, pairs = capacity_run
    units = pd.read_csv(DEMO_DATA / "units.csv", dtype={"unit_id": str}).set_index("unit_id")
    demand = pd.read_csv(DEMO_DATA / "demand.csv", dtype={"demand_id": str}).set_index("demand_id")
    assert sel.loc[pairs["unit_id"].unique(), "selected"].all()
    u, d = units.loc[pairs["unit_id"]], demand.loc[pairs["demand_id"]]
    assert (u["service"].to_numpy() == pairs["service"].to_numpy()).all()
    km = haversine_km(d["lon"].to_numpy(), d["lat"].to_numpy(), u["lon"].to_numpy(), u["lat"].to_numpy())
    reach = np.where(pairs["service"] == "lab", np.where(d["kind"] == "urban", 10.0, 25.0), np.where(d["kind"] == "urban", 20.0, 50.0))
    assert (km <= reach + 1e-9).all()
    per_point = pairs.groupby(["demand_id", "service"])["people"].sum()
    pop = demand.loc[per_point.index.get_level_values(0), "population"].to_numpy()
    assert (per_point.to_numpy() <= pop * (1 + 1e-9)).all()
    rate = pairs["service"].map(RATES).to_numpy()
    group_rate = pairs["service"].map(OVER_60_RATES).to_numpy()
    per_person = (rate * d["population"].to_numpy() + (group_rate - rate) * d[OVER_60].to_numpy()) / d["population"].to_numpy()
    np.testing.assert_allclose(pairs["volume"], pairs["people"] * per_person, rtol=1e-9)
    load = pairs.groupby("unit_id")["volume"].sum()
    assert (load <= units.loc[load.index, "capacity"] * (1 + 1e-9)).all()


def test_reported_figures_recompute_from_the_assignment(capacity_run):
    _, summary, sel, regions, pairs = capacity_run
    demand = pd.read_csv(DEMO_DATA / "demand.csv", dtype={"demand_id": str, "region": str}).set_index("demand_id")
    weight = 0.5  # two services of equal weight
    served = pairs.assign(weighted=pairs["people"] * weight)
    np.testing.assert_allclose(served["weighted"].sum(), summary["covered_population"], rtol=1e-9)
    per_region = served.groupby(demand.loc[served["demand_id"], "region"].to_numpy())["weighted"].sum()
    share = (per_region / regions.loc[per_region.index, "population"]).reindex(regions.index, fill_value=0.0)
    np.testing.assert_allclose(regions["served_share"], share, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(regions["covered_share_after"], share, rtol=1e-9, atol=1e-12)
    load = pairs.groupby("unit_id")["volume"].sum().reindex(sel.index, fill_value=0.0)
    np.testing.assert_allclose(sel["load"], load, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sel["utilisation"], load / sel["capacity"], rtol=1e-9)
    np.testing.assert_allclose(summary["figures"]["volume_served"], pairs["volume"].sum(), rtol=1e-9)
    by_service = pairs.groupby("service")["people"].sum()
    for service, row in summary["by_service"].items():
        assert row["covered"] == pytest.approx(by_service.get(service, 0.0), rel=1e-9)
    rates = demand["population"] * (RATES["lab"] + RATES["imaging"]) + demand[OVER_60] * (OVER_60_RATES["lab"] - RATES["lab"] + OVER_60_RATES["imaging"] - RATES["imaging"])
    np.testing.assert_allclose(regions["volume_needed"].sum(), rates.sum(), rtol=1e-9)
    spending = summary["spending"]
    assert spending["unspent"] == pytest.approx(summary["budget"] - summary["total_cost"], abs=1e-6)


def test_report_shows_utilisation_and_the_capacity_gap(capacity_run):
    """The report's capacity-gap table lists every region with the volume it needs and the
    capacity in its reach as regions.csv has them; units carry their utilisation to the map."""
    folder, summary, sel, regions, _ = capacity_run
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Capacity by region" in html and 'id="capacity-table"' in html
    table = html[html.index('id="capacity-table"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") == len(regions) + 1
    worst = (regions["capacity_in_reach"] - regions["volume_needed"]).idxmin()
    first_row = table[table.index("<tbody>") :]
    assert f">{worst}<" in first_row[: first_row.index("</tr>")]
    assert '"utilisation"' in html  # the map payload
    assert "In reach but not served" in html
    full = sel[sel["selected"] & (sel["utilisation"] >= 0.999)]
    assert len(full) > 0 and "full" in full["reason"].iloc[0]


def test_diff_shows_served_against_reached_and_unspent(capacity_run, demo_run):
    """Reach alone (the demo with capacities off) against the capacitated demo: the diff
    carries the capacity figures and each region's served share."""
    from optimizer.diff import diff_runs

    folder, summary, _, regions, _ = capacity_run
    d = diff_runs(demo_run.folder, folder)
    assert d.summary.loc["capacity_shortfall", "b"] == pytest.approx(summary["capacity_shortfall"])
    assert d.summary.loc["capacity_shortfall", "a"] == pytest.approx(0.0)
    assert d.summary.loc["budget_unspent", "b"] == pytest.approx(summary["spending"]["unspent"])
    assert d.summary.loc["volume_served", "delta"] < 0  # capacities serve less than reach claims
    assert "served_share_delta" in d.regions.columns
    assert (d.regions["served_share_b"].dropna() <= d.regions["served_share_a"].dropna().reindex(d.regions["served_share_b"].dropna().index) + 1e-9).all()


def test_sweep_points_carry_served_reached_unspent_and_utilisation():
    """A budget point of a capacitated problem keeps what the sweep's frontier shows."""
    import scipy.sparse as sp

    from optimizer.geo.relation import Coverage
    from optimizer.select import build_problem, solve
    from optimizer.sweep import BudgetPoint

    units = pd.DataFrame({"cost": [1.0, 1.0], "capacity": [30.0, 100.0]}, index=["a", "b"])
    demand = pd.DataFrame({"population": [50.0, 20.0]}, index=["x", "y"])
    coverage = Coverage(pd.Index(["x", "y"]), pd.Index(["a", "b"]), sp.csr_array(np.array([[1, 0], [1, 1]], dtype=bool)))
    res = solve(build_problem(units, demand, coverage), budget=1.5)
    point = BudgetPoint.from_selection(1.5, res, "coverage")
    # a alone serves 30 of the 70 it reaches; b alone 20 of 20: a is chosen
    assert list(res.selected) == ["a"]
    assert point.covered_population == pytest.approx(30.0)
    assert point.reached_population == pytest.approx(70.0)
    assert point.unspent == pytest.approx(0.5)
    assert point.utilisation == pytest.approx(1.0)

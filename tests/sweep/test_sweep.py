"""Budget sweeps on the shipped demo scenario.

Checked properties (DESIGN.md, "directional properties"; the exactness argument of the
min-cost target in ``optimizer/sweep.py``):

* the need-weighted coverage of the optimum never falls when the budget grows;
* the units entering and leaving between steps turn one selection into the next, and the
  marginal coverage per unit of money is the coverage gain over the budget step;
* the smallest budget for a target is exact: its selection reaches the target, and the
  best selection at a budget just below it does not;
* a sweep point at the scenario's own budget is the selection ``optimizer run`` makes;
* 2 local processes and a Dask ``LocalCluster`` give the same results as 1 process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.sweep import parse_budgets, parse_targets, sweep

REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"  # the demo, capacities off

BUDGETS = [10_000, 25_000, 40_000, 55_000, 70_000]
TARGETS = (0.8,)


@pytest.fixture(scope="module")
def result(demo_inputs):
    return sweep(demo_inputs, BUDGETS, targets=TARGETS)


def test_frontier_is_monotone_and_optimal(result):
    f = result.frontier
    assert f["budget"].tolist() == BUDGETS
    assert (f["status"] == "optimal").all()
    assert (np.diff(f["covered_need"].to_numpy()) >= -1e-6).all()
    assert (f["total_cost"] <= f["budget"] + 1e-6).all()
    assert f["coverage_share"].between(0, 1).all()
    np.testing.assert_allclose(f["coverage_share"], f["covered_population"] / result.population)


def test_entering_and_leaving_are_consistent(result):
    f, sel, ch = result.frontier, result.selected, result.changes
    assert f["units"].tolist() == sel.sum(axis=0).tolist()
    for k in range(1, len(f)):
        before = set(sel.index[sel[k - 1]])
        after = set(sel.index[sel[k]])
        step = ch[ch["step"] == k]
        enters = set(step.loc[step["change"] == "enters", "unit_id"])
        leaves = set(step.loc[step["change"] == "leaves", "unit_id"])
        assert (before - leaves) | enters == after
        assert not (enters & before) and leaves <= before
        assert f.loc[k, "entering"] == len(enters) and f.loc[k, "leaving"] == len(leaves)
        gain = f.loc[k, "covered_need"] - f.loc[k - 1, "covered_need"]
        np.testing.assert_allclose(f.loc[k, "coverage_gain"], gain)
        np.testing.assert_allclose(f.loc[k, "marginal_per_budget"], gain / (BUDGETS[k] - BUDGETS[k - 1]))
    assert np.isnan(f.loc[0, "marginal_per_budget"])


def test_target_budget_is_the_smallest(result, demo_inputs):
    t = result.targets.loc[0.8]
    assert t["status"] == "optimal"
    assert t["coverage_share"] >= 0.8
    chosen = result.target_selected[0.8]
    cost = demo_inputs.problem.cost[demo_inputs.problem.unit_ids.get_indexer(list(chosen))].sum()
    np.testing.assert_allclose(t["budget"], cost)
    just_below = demo_inputs.solve_budget(t["budget"] * (1 - 1e-6))
    assert just_below.status == "optimal" and just_below.coverage_share < 0.8
    # the swept budgets bracket it: the first swept budget reaching 80 % is not cheaper
    assert t["frontier_budget"] >= t["budget"]
    reached = result.frontier.loc[result.frontier["coverage_share"] >= 0.8, "budget"]
    assert t["frontier_budget"] == reached.min()


def test_point_at_scenario_budget_is_the_run_selection(demo_inputs):
    from optimizer.pipeline import run_scenario
    from optimizer.scenario import load_scenario

    scenario = load_scenario(REACH_DEMO)
    run = run_scenario(scenario)
    point = demo_inputs.solve_budget(scenario.selection.budget)
    assert point.selected == tuple(sorted(run.selection.selected))
    np.testing.assert_allclose(point.covered_population, run.selection.covered_population)
    np.testing.assert_allclose(demo_inputs.current_share, run.figures["coverage_share_before"])


def test_infeasible_budgets_are_reported_not_fatal(demo_inputs):
    """Must-keep units costing more than a budget make that budget infeasible; the
    entering units are counted from the previous feasible budget."""
    keep = tuple(demo_inputs.problem.unit_ids[:3])
    keep_cost = float(demo_inputs.problem.cost[:3].sum())
    inputs = replace(demo_inputs, options=replace(demo_inputs.options, must_keep=keep))
    res = sweep(inputs, [keep_cost / 2, 10_000, 20_000])
    f = res.frontier
    assert f["status"].tolist() == ["infeasible", "optimal", "optimal"]
    assert pd.isna(f.loc[0, "units"]) and pd.isna(f.loc[1, "entering"])
    assert set(keep) <= set(res.selected.index[res.selected[1]])
    # the infeasible budget says by how much the must-keep units exceed it
    assert f"add at least {keep_cost - keep_cost / 2:,.2f} to the budget" in f.loc[0, "note"]
    assert f.loc[1, "note"] == "" and f.loc[2, "note"] == ""


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
    yield cluster
    cluster.close()


def _assert_same(a, b):
    pd.testing.assert_frame_equal(a.frontier, b.frontier)
    pd.testing.assert_frame_equal(a.selected, b.selected)
    pd.testing.assert_frame_equal(a.changes, b.changes)
    pd.testing.assert_frame_equal(a.targets, b.targets)
    assert a.target_selected == b.target_selected


def test_local_processes_give_identical_results(result, demo_inputs):
    seen = []
    two = sweep(demo_inputs, BUDGETS, targets=TARGETS, workers=2, progress=lambda done, total: seen.append((done, total)))
    _assert_same(result, two)
    assert two.executor == "2 local processes"
    assert seen[-1] == (len(BUDGETS) + 1, len(BUDGETS) + 1)


def test_dask_cluster_gives_identical_results(result, demo_inputs, dask_cluster):
    on_dask = sweep(demo_inputs, BUDGETS, targets=TARGETS, dask_address=dask_cluster.scheduler_address)
    _assert_same(result, on_dask)
    assert on_dask.executor.startswith("dask at tcp://")


def test_parse_budgets_and_targets():
    np.testing.assert_allclose(parse_budgets("10k:30k:3"), [10_000, 20_000, 30_000])
    np.testing.assert_allclose(parse_budgets("2.5M,1e6, 1_000_000"), [1e6, 2.5e6])
    assert parse_targets("0.9,80%") == (0.8, 0.9)
    for bad in ("", "abc", "1:2", "5:1:3", "1:2:1", "1:2:x", "1,,2", "-5,10", "1:2:3:4"):
        with pytest.raises(InputError, match="--budgets"):
            parse_budgets(bad)
    for bad in ("0", "1.5", "abc", "120%"):
        with pytest.raises(InputError, match="--targets"):
            parse_targets(bad)


def test_bad_requests(demo_inputs):
    with pytest.raises(InputError, match="not both"):
        sweep(demo_inputs, BUDGETS, workers=2, dask_address="tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="workers"):
        sweep(demo_inputs, BUDGETS, workers=0)
    with pytest.raises(InputError, match="non-negative budget"):
        sweep(demo_inputs, [-1.0, 5.0])


def test_unreachable_target_says_what_to_relax(demo_inputs):
    """With only five eligible units 99 % coverage is out of reach: no budget, and the
    note carries the solver's proof and the largest reachable share."""
    ids = demo_inputs.problem.unit_ids
    inputs = replace(demo_inputs, options=replace(demo_inputs.options, exclude=tuple(ids[5:])))
    res = sweep(inputs, [50_000], targets=(0.99,))
    t = res.targets.loc[0.99]
    assert t["status"] == "infeasible" and np.isnan(t["budget"]) and np.isnan(t["frontier_budget"])
    assert "target" in t["note"]
    assert set(res.selected.index) <= set(ids[:5])

"""``optimizer sweep`` from the command line, on the demo scenario: the files it writes
and their contents, and the user errors that exit with status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"  # the demo, capacities off


def test_sweep_writes_frontier_entering_targets_and_report(cli, tmp_path):
    out = tmp_path / "sweep"
    res = cli("sweep", REACH_DEMO, "--budgets", "20k:60k:3", "--targets", "0.8", "--out", out, "--json", "--quiet")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["folder"] == str(out)
    assert [p["budget"] for p in doc["frontier"]] == [20_000, 40_000, 60_000]
    frontier = pd.read_csv(out / "frontier.csv", index_col="step")
    assert frontier["budget"].tolist() == [20_000, 40_000, 60_000]
    np.testing.assert_allclose(frontier["covered_population"], [p["covered_population"] for p in doc["frontier"]])
    assert (np.diff(frontier["covered_need"]) >= 0).all()
    entering = pd.read_csv(out / "entering.csv", dtype={"unit_id": str})
    assert set(entering["change"]) <= {"enters", "leaves"}
    counts = entering[entering["change"] == "enters"].groupby("step").size()
    assert counts.to_dict() == frontier["entering"].dropna().astype(int).to_dict()
    targets = pd.read_csv(out / "targets.csv", index_col="target")
    assert targets.loc[0.8, "coverage_share"] >= 0.8
    assert doc["targets"][0]["budget"] == targets.loc[0.8, "budget"]
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="frontier-table"' in html and 'id="targets-table"' in html and 'id="changes-table"' in html
    assert html.count("<tr>", html.index('id="frontier-table"'), html.index("</table>", html.index('id="frontier-table"'))) == 4
    assert "https://" not in html and "http://" not in html


def test_sweep_readable_output_and_no_overwrite(cli, tmp_path):
    out = tmp_path / "sweep"
    res = cli("sweep", REACH_DEMO, "--budgets", "30000,60000", "--out", out, "--quiet")
    assert res.code == 0, res.stderr
    assert "Budget sweep of demo" in res.stdout
    again = cli("sweep", REACH_DEMO, "--budgets", "30000,60000", "--out", out, "--quiet")
    assert again.code == 2 and "already exists" in again.stderr
    forced = cli("sweep", REACH_DEMO, "--budgets", "30000", "--out", out, "--quiet", "--force", "--json")
    assert forced.code == 0 and len(forced.json()["frontier"]) == 1


def test_sweep_user_errors_exit_2_and_leave_nothing(cli, tmp_path):
    out = tmp_path / "bad"
    for spec in ("abc", "5:1:3", "1:2", "1:2:1", "-3,4"):
        res = cli("sweep", REACH_DEMO, "--budgets", spec, "--out", out, "--quiet")
        assert res.code == 2 and "--budgets" in res.stderr, (spec, res.stderr)
    res = cli("sweep", REACH_DEMO, "--budgets", "1k:2k:2", "--targets", "1.5", "--out", out)
    assert res.code == 2 and "--targets" in res.stderr
    res = cli("sweep", REACH_DEMO, "--budgets", "1k:2k:2", "--workers", "2", "--dask", "tcp://127.0.0.1:1", "--out", out)
    assert res.code == 2 and "not both" in res.stderr
    res = cli("sweep", tmp_path / "missing.toml", "--budgets", "1k:2k:2", "--out", out)
    assert res.code == 2 and "does not exist" in res.stderr
    assert not out.exists()
    assert not any(p.name.startswith(".bad") for p in tmp_path.iterdir())

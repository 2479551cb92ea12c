"""Content checks of ``report.html`` on a small synthetic run (see ``conftest.py``).

The report must be one self-contained file: Leaflet inlined, the regions as GeoJSON with
their before/after indicators, every table and key figure present, and no script,
stylesheet or image fetched from the network.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from optimizer.report import write_report
from optimizer.report.charts import frontier
from optimizer.report.mapdata import demand_payload, regions_geojson, script_json, units_payload
from optimizer.report.page import fmt
from optimizer.report.status import unit_status


def _map_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert m, "the map data element is missing"
    return json.loads(m.group(1))


@pytest.fixture
def report(tmp_path, run):
    path = write_report(tmp_path / "out", run)
    return path, path.read_text(encoding="utf-8")


def test_report_is_self_contained(report):
    """Leaflet is inlined; nothing is loaded over http(s) or from a relative file."""
    path, html = report
    assert path.name == "report.html"
    assert "Leaflet 1.9.4" in html  # leaflet.js header comment, inlined
    assert ".leaflet-container" in html  # leaflet.css, inlined
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for value in re.findall(rf"<{tag}\b[^>]*\b{attr}=\"([^\"]*)\"", html, flags=re.I):
            assert not value.startswith(("http://", "https://", "//")), (tag, value)
            assert value.startswith("data:") or tag not in ("img", "script"), (tag, value)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"url\((?!data:|#)", html), "a CSS url() would need a file beside the report"
    assert "@import" not in html


def test_regions_geojson_carries_before_and_after(report, run):
    _, html = report
    data = _map_data(html)
    fc = data["regions"]
    assert fc["type"] == "FeatureCollection"
    by_id = {f["properties"]["region"]: f for f in fc["features"]}
    assert set(by_id) == set(run.regions.index)
    for rid, f in by_id.items():
        assert f["geometry"]["type"] == "Polygon"
        np.testing.assert_allclose(f["properties"]["covered_share_before"], run.regions.at[rid, "covered_share_before"])
        np.testing.assert_allclose(f["properties"]["covered_share_after"], run.regions.at[rid, "covered_share_after"])
    # a 1-degree box keeps its corners after simplification
    ring = np.array(by_id["R2"]["geometry"]["coordinates"][0])
    np.testing.assert_allclose([ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max()], [51, 52, 30, 31])


def test_units_on_the_map_with_status(report, run):
    """Status: kept = contracted and selected, new = selected only, dropped = contracted only."""
    _, html = report
    units = {u["id"]: u for u in _map_data(html)["units"]}
    assert set(units) == set(run.units.index)
    expected = {"U00": "kept", "U01": "dropped", "U02": "new", "U03": "candidate"}
    for uid, status in expected.items():
        assert units[uid]["status"] == status
        assert units[uid]["cost"] == pytest.approx(run.units.at[uid, "cost"])
        assert units[uid]["score"] == pytest.approx(run.units.at[uid, "score"])
        assert units[uid]["reason"] == run.units.at[uid, "reason"]


def test_tables_and_key_figures(report, run):
    _, html = report
    assert 'id="key-figures"' in html
    assert fmt(run.figures["coverage_share_after"], "share") in html
    assert fmt(run.figures["total_cost"], "money") in html
    regions_table = re.search(r'<table class="data" id="regions-table">(.*?)</table>', html, re.S).group(1)
    assert regions_table.count("<tr>") == len(run.regions) + 1
    # region names are escaped, not injected as markup (the map's JSON keeps the raw text,
    # which the page's script escapes before display)
    markup = re.sub(r'<script type="application/json" id="map-data">.*?</script>', "", html, flags=re.S)
    assert "North &lt;A&gt;" in regions_table and "North <A>" not in markup
    # the unmet floor (R3: 0.99) is flagged, the met one (R1) is not
    rows = {re.search(r"<td class=\"text\">(R\d)</td>", r).group(1): r for r in regions_table.split("<tr>")[2:]}
    assert 'class="text bad"' in rows["R3"] and 'class="text bad"' not in rows["R1"]
    units_table = re.search(r'<table class="data" id="units-table">(.*?)</table>', html, re.S).group(1)
    assert units_table.count("<tr>") == len(run.units) + 1
    assert "selected: covers &lt;people&gt; &amp; more" in units_table
    weights = re.search(r'<table class="data" id="weights-table"[^>]*>(.*?)</table>', html, re.S).group(1)
    for criterion, w in run.weights.items():
        assert criterion in weights and f"{w:.3f}" in weights
    assert "topsis" in html and "preset:path-coefficients" in html


def test_charts_written_and_embedded(report):
    path, html = report
    for name in ("coverage_by_region", "cost_vs_coverage", "score_distribution"):
        png = (path.parent / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'id="fig-{name}"' in html
    assert html.count('src="data:image/png;base64,') == 3


def test_report_without_region_polygons(tmp_path, run_without_geometry):
    """Without polygons the map shows settlements before/after instead of region shading."""
    html = write_report(tmp_path, run_without_geometry).read_text(encoding="utf-8")
    data = _map_data(html)
    assert data["regions"] is None
    assert data["demand"]["shown"] == len(run_without_geometry.demand)
    first = data["demand"]["points"][0]
    d0 = run_without_geometry.demand.iloc[0]
    assert first[3] == float(d0["covered_before"]) and first[4] == float(d0["covered_after"])


def test_report_is_deterministic(tmp_path, run):
    a = write_report(tmp_path / "a", run).read_bytes()
    b = write_report(tmp_path / "b", run).read_bytes()
    assert a == b
    assert (tmp_path / "a" / "coverage_by_region.png").read_bytes() == (tmp_path / "b" / "coverage_by_region.png").read_bytes()


def test_unit_status_table():
    units = pd.DataFrame({"contracted": [True, True, False, False, None], "selected": [True, False, True, False, True]})
    assert unit_status(units).tolist() == ["kept", "dropped", "new", "candidate", "new"]
    assert unit_status(units.drop(columns="contracted")).tolist() == ["new", "candidate", "new", "candidate", "new"]


def test_demand_payload_keeps_most_populous():
    """Covered shares (service-weighted, e.g. 0.5 = one of two services) pass through."""
    demand = pd.DataFrame({"lon": [1.0, 2.0, 3.0], "lat": [0.0, 0.0, 0.0], "population": [10.0, 30.0, 20.0],
                           "covered_before": [1.0, 0.0, 0.5], "covered_after": [True, True, True]})
    out = demand_payload(demand, limit=2)
    assert out["total"] == 3 and out["shown"] == 2
    assert out["points"] == [[2.0, 0.0, 30.0, 0.0, 1.0], [3.0, 0.0, 20.0, 0.5, 1.0]]


def test_regions_geojson_reprojects_and_handles_missing(run):
    geo = run.region_geometry.to_crs(3857)
    fc = regions_geojson(geo, run.regions.drop(index="R3"))
    xs = np.array(fc["features"][0]["geometry"]["coordinates"][0])[:, 0]
    assert 49.9 < xs.min() < 50.1  # back in degrees
    r3 = next(f for f in fc["features"] if f["properties"]["region"] == "R3")
    assert "covered_share_after" not in r3["properties"] and r3["properties"]["name"] == "South"
    assert regions_geojson(None, run.regions) is None


def test_script_json_cannot_close_the_script():
    text = script_json({"reason": "</script><script>alert(1)</script>"})
    assert "</script" not in text and json.loads(text)["reason"].startswith("</script>")


def test_units_payload_skips_missing_coordinates(run):
    units = run.units.copy()
    units.loc["U00", "lon"] = np.nan
    assert "U00" not in {u["id"] for u in units_payload(units)}


def test_frontier_chart_draws_targets():
    f = pd.DataFrame({"budget": [1.0, 2.0, 3.0], "coverage_share": [0.5, 0.8, 0.9]})
    t = pd.DataFrame({"budget": [1.7, np.nan]}, index=pd.Index([0.8, 0.95], name="target"))
    fig = frontier(f, t, current=0.6)
    ax = fig.axes[0]
    assert len(ax.lines) >= 4  # frontier, current, two target lines, the reachable target's marker
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.5, 0.8, 0.9])


def test_scenario_credits_in_the_footer(tmp_path, run):
    """The scenario's ``credits`` (data sources and licences) appear in the footer, escaped;
    a scenario without credits has no credits line."""
    from dataclasses import replace
    from types import SimpleNamespace

    credited = replace(run, scenario=SimpleNamespace(name="x", credits="GeoNames, CC BY 4.0; © OpenStreetMap contributors <ODbL>"))
    html = write_report(tmp_path / "a", credited).read_text(encoding="utf-8")
    assert '<span class="credits">Data: GeoNames, CC BY 4.0; © OpenStreetMap contributors &lt;ODbL&gt;</span>' in html
    assert 'class="credits"' not in write_report(tmp_path / "b", run).read_text(encoding="utf-8")


def test_warnings_and_each_experts_consistency_are_shown(tmp_path, run):
    """Group AHP weights list every expert's consistency ratio (CR > 0.10 flagged, Saaty's
    rule); the run's warnings get their own section near the top."""
    from dataclasses import replace

    details = {
        "kind": "group-ahp",
        "experts": {"expert_a": {"cr": 0.0078, "consistent": True}, "expert_c": {"cr": 0.121, "consistent": False}},
    }
    warned = replace(run, weight_details=details, warnings=("expert_c.csv: consistency ratio 0.121 > 0.10",))
    html = write_report(tmp_path / "a", warned).read_text(encoding="utf-8")
    rows = re.findall(r'<table class="data" id="experts-table".*?<tbody>(.*?)</tbody>', html, re.S)[0]
    assert '<td class="text">expert_a</td><td>0.0078</td><td class="text">yes</td>' in rows
    assert '<td class="text bad">no: CR above 0.10, re-ask the judgements</td>' in rows
    assert '<section id="sec-warnings">' in html and "<li>expert_c.csv: consistency ratio 0.121 &gt; 0.10</li>" in html
    assert html.index("sec-warnings") < html.index('<section id="sec-map">')
    plain = write_report(tmp_path / "b", run).read_text(encoding="utf-8")
    assert "sec-warnings" not in plain and "experts-table" not in plain

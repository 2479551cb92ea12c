"""Open ``report.html`` in headless Chromium (Playwright with the system Chromium).

Checks that the Leaflet map is built (region paths and unit markers drawn as SVG), that the
layer switch changes the regions' shading from "after" to "before", that the tables render,
that no request leaves the file (the report works offline) and that the console stays
free of errors. Skipped, with the reason, when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.report import write_report

REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"  # the demo, capacities off

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless browser test needs /usr/bin/chromium (Debian packages chromium, chromium-driver)"
)


def open_report(path: Path):
    """Load a report; return (console errors and page errors, non-file requests, checks dict)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file://", "data:")) else None)
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("#map[data-ready='1']", timeout=15_000)
            fills = lambda: page.eval_on_selector_all(  # noqa: E731
                "#map path.leaflet-interactive:not(.unit-marker)", "els => els.map(e => e.getAttribute('fill'))"
            )
            checks = {
                "leaflet": page.locator("#map.leaflet-container").count(),
                "region_paths": page.locator("#map path.leaflet-interactive:not(.unit-marker)").count(),
                "unit_markers": page.locator("#map path.unit-marker").count(),
                "layer_control": page.locator(".leaflet-control-layers-base input").count(),
                "legend": page.locator(".legend").count(),
                "regions_rows": page.locator("#regions-table tbody tr").count(),
                "units_rows": page.locator("#units-table tbody tr").count(),
                "cards": page.locator("#key-figures .card").count(),
                "images_loaded": page.eval_on_selector_all("figure img", "els => els.every(e => e.complete && e.naturalWidth > 0)"),
                "fills_after": fills(),
            }
            page.locator(".leaflet-control-layers-base label", has_text="before").click()
            checks["fills_before"] = fills()
            page.fill("input.filter[data-table='units-table']", "U03")
            checks["filtered_rows"] = page.locator("#units-table tbody tr:visible").count()
        finally:
            browser.close()
    return errors, requests, checks


def test_report_renders_in_chromium(tmp_path, run):
    path = write_report(tmp_path, run)
    errors, requests, checks = open_report(path)
    assert errors == []
    assert requests == [], "the report must not touch the network"
    assert checks["leaflet"] == 1
    assert checks["region_paths"] == len(run.regions)
    assert checks["unit_markers"] == len(run.units)
    assert checks["layer_control"] == 2  # before / after
    assert checks["legend"] == 1
    assert checks["regions_rows"] == len(run.regions)
    assert checks["units_rows"] == len(run.units)
    assert checks["cards"] >= 6
    assert checks["images_loaded"] is True
    # the synthetic run raises coverage in every region: the shading must change with the switch
    assert checks["fills_after"] != checks["fills_before"]
    assert checks["filtered_rows"] == 1


def test_demo_report_renders_in_chromium(tmp_path):
    """The shipped demo's real report: every county polygon and every unit drawn."""
    from optimizer.pipeline import run_scenario
    from optimizer.scenario import load_scenario

    run = run_scenario(load_scenario(REACH_DEMO))
    errors, requests, checks = open_report(write_report(tmp_path, run))
    assert errors == [] and requests == []
    assert checks["region_paths"] == len(run.region_geometry)
    assert checks["unit_markers"] == len(run.units)
    assert checks["regions_rows"] == len(run.regions)
    assert checks["units_rows"] == len(run.units)
    assert checks["fills_after"] != checks["fills_before"]

"""Fixtures for the end-to-end scenario tests: one demo run shared by the module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from optimizer.paths import demo_scenario

DEMO = demo_scenario()
DEMO_DATA = DEMO.parent / "data"
#: The shipped demo and its equity variant with capacities off (``tests/data``): what the
#: run-folder tests run (the capacitated demo has tests of its own).
REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"
REACH_EQUITY = Path(__file__).resolve().parents[1] / "data" / "equity_reach.toml"
#: The checkout's demo that those extend (the installed copy may live elsewhere).
REACH_BASE = Path(__file__).resolve().parents[2] / "scenarios" / "demo" / "scenario.toml"
REACH_DATA = REACH_BASE.parent / "data"


@dataclass(frozen=True)
class DemoRun:
    folder: Path
    summary: dict
    selection: pd.DataFrame
    regions: pd.DataFrame


def run_cli(*args: object) -> int:
    """Run ``optimizer ARGS`` in process; return the exit status."""
    from optimizer.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """``optimizer run scenarios/demo --out DIR --quiet`` once for every test that reads it."""
    folder = tmp_path_factory.mktemp("demo") / "run"
    code = run_cli("run", REACH_DEMO, "--out", folder, "--quiet")
    assert code == 0
    return DemoRun(
        folder=folder,
        summary=json.loads((folder / "summary.json").read_text()),
        selection=pd.read_csv(folder / "selection.csv", dtype={"unit_id": str, "region": str}).set_index("unit_id"),
        regions=pd.read_csv(folder / "regions.csv", dtype={"region": str}).set_index("region"),
    )


def write_scenario(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    """Write a scenario file into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def fast_demo(tmp_path) -> Path:
    """The demo without report and GeoPackage (for tests of the run folder mechanics)."""
    return write_scenario(
        tmp_path / "fast",
        f'extends = "{REACH_DEMO.as_posix()}"\nname = "fast"\n[outputs]\nreport = false\ngpkg = false\n',
    )

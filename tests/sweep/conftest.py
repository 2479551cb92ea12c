"""The demo scenario's sweep inputs, built once for the sweep tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.sweep import prepare

REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"  # the demo, capacities off


@pytest.fixture(scope="session")
def demo_inputs():
    return prepare(REACH_DEMO)

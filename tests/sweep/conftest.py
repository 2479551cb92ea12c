"""The demo scenario's sweep inputs, built once for the sweep tests."""

from __future__ import annotations

import pytest

from optimizer.paths import demo_scenario
from optimizer.sweep import prepare


@pytest.fixture(scope="session")
def demo_inputs():
    return prepare(demo_scenario())

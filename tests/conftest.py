"""Shared test helpers: seeded randomness and an in-process CLI runner.

Area-specific data factories live in the ``conftest.py`` of each test folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture
def cli(capsys):
    """Run ``optimizer ARGS...`` in process; returns a CliResult (exit code, stdout, stderr)."""
    from optimizer.cli import main

    def run(*args: object) -> CliResult:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(code=code, stdout=out.out, stderr=out.err)

    return run

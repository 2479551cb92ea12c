"""Where the shipped scenarios live once the package is installed.

A command's SCENARIO argument may also be a shipped scenario's name (``demo``, ``iran``):
see :func:`scenario_argument`.

The repository's top-level ``scenarios/`` folder is installed as the package
``optimizer.scenarios`` (see ``setup.py``), so ``optimizer run`` finds the demo both from
a checkout and from an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from optimizer.errors import InputError


def shipped_scenarios_dir() -> Path:
    """Folder holding the shipped scenarios (``demo``, ``iran``, ...).

    From an installed package this is ``optimizer/scenarios``; when the package is
    imported straight from a source checkout (``python -m pytest`` in the repository),
    it is the checkout's top-level ``scenarios/`` folder.
    """
    try:
        return Path(str(files("optimizer.scenarios")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "scenarios"


def shipped_scenario(name: str = "demo") -> Path:
    """Path of the scenario file of a shipped scenario, e.g. ``shipped_scenario("demo")``."""
    folder = shipped_scenarios_dir() / name
    path = folder / "scenario.toml"
    if not path.is_file():
        available = sorted(p.name for p in shipped_scenarios_dir().iterdir() if (p / "scenario.toml").is_file())
        raise InputError(f"no shipped scenario named {name!r}; expected one of {available}", file=path)
    return path


def demo_scenario() -> Path:
    """The scenario that ``optimizer run`` runs when no scenario is given."""
    return shipped_scenario("demo")


def scenario_argument(path: str | Path | None) -> Path:
    """The scenario a command-line argument names.

    None means the demo; an existing path is used as is; a bare name that is not a path
    (``iran``) names a shipped scenario, so ``optimizer run iran`` works from an
    installed package too. Anything else is returned unchanged (loading reports it).

    >>> scenario_argument(None) == demo_scenario()
    True
    >>> scenario_argument("iran") == shipped_scenario("iran")
    True
    """
    if path is None:
        return demo_scenario()
    p = Path(path)
    if p.exists() or len(p.parts) != 1 or p.suffix:
        return p
    candidate = shipped_scenarios_dir() / p.name / "scenario.toml"
    return candidate if candidate.is_file() else p

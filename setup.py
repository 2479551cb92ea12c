"""Install the top-level ``scenarios/`` folder as the package ``optimizer.scenarios``.

Everything else is declared in pyproject.toml; this file exists only because the
mapping of one package to a folder outside ``optimizer/`` cannot be combined with
automatic package discovery in pyproject.toml alone. Every folder below ``scenarios/``
(a scenario and its data) is installed as a data package of its own.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
SCENARIO_PACKAGES = [
    "optimizer." + ".".join(p.relative_to(HERE).parts)
    for p in sorted((HERE / "scenarios").rglob("*"))
    if p.is_dir() and p.name != "__pycache__"
]

setup(
    packages=[*find_packages(include=["optimizer*"]), "optimizer.scenarios", *SCENARIO_PACKAGES],
    package_dir={"optimizer.scenarios": "scenarios"},
    package_data={pkg: ["*"] for pkg in ["optimizer.scenarios", *SCENARIO_PACKAGES]},
)

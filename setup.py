"""Install the top-level ``scenarios/`` folder as the package ``optimizer.scenarios``.

Everything else is declared in pyproject.toml; this file exists only because the
mapping of one package to a folder outside ``optimizer/`` cannot be combined with
automatic package discovery in pyproject.toml alone.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["optimizer*"]), "optimizer.scenarios"],
    package_dir={"optimizer.scenarios": "scenarios"},
)

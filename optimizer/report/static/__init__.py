"""Vendored, inlined assets of the HTML reports.

``leaflet.js`` and ``leaflet.css`` are Leaflet 1.9.4 (BSD-2-Clause, see
``LEAFLET_LICENSE.md``) from the npm registry, unmodified; ``report.css`` and
``report.js`` are the reports' own styles and script. This folder is a package only so
that its files are installed with the wheel.
"""

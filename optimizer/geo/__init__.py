"""Geography: the one place where geometry becomes arrays.

- :mod:`optimizer.geo.io` — read units, demand (points or polygons, need weighting) and
  regions (polygons or a code column) into WGS84 arrays; assign points to regions.
- :mod:`optimizer.geo.distance` — great-circle (haversine) distances, unit-sphere chords.
- :mod:`optimizer.geo.coverage` — the sparse coverage relation within reach (per service
  and region kind) or from a travel table; merged while built for large instances.
- :mod:`optimizer.geo.relation` — the :class:`~optimizer.geo.relation.Coverage` contract
  with the selection model and exact merging of identical rows.
- :mod:`optimizer.geo.indicators` — ratios, coverage, 2SFCA / E2SFCA, adequacy, unit reach.
- :mod:`optimizer.geo.analysis` — the whole ``optimizer access`` analysis as one call.
"""

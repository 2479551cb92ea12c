"""Travel time on roads, from an OpenStreetMap extract.

The road network is read with pyrosm (``.osm.pbf`` as Geofabrik serves it), each way
segment becomes a directed edge weighted by its travel time in minutes, and one-to-many
shortest paths run in :func:`scipy.sparse.csgraph.dijkstra` with a cut-off. The output is
the long travel table the selection already reads (``demand_id, unit_id, minutes``).

How a time is made up
---------------------
``minutes(d, u) = walk(d) + network(node(d) -> node(u)) + walk(u)``: the person walks from
the demand point to its nearest network node (great-circle metres at ``offroad_kmh``),
travels on the network to the unit's nearest node, and walks to the unit. People travel
*to* the unit, so one-way streets are followed from the demand point towards the unit
(the search runs from each unit on the reversed graph). A pair is within reach when its
time is ``<= cut-off`` (a pair at exactly the cut-off is in reach).

Edges
-----
* Length: great-circle length of the way's geometry (sum over its vertices), metres.
* Speed: :data:`ROAD_SPEEDS` per ``highway`` class (km/h), overridable per class; a posted
  ``maxspeed`` (``50``, ``50 km/h``, ``30 mph``) replaces the class speed when
  ``use_maxspeed`` (default); classes not in the table travel at ``ROAD_SPEEDS["other"]``.
  The walking network moves at ``walking_kmh`` everywhere and ignores one-way tags.
* One-way: ``oneway`` = yes/true/1 (or ``junction = roundabout``) allows travel along the
  way's direction only, ``-1``/reverse against it; anything else both ways. Parallel edges
  keep the fastest.

Snapping
--------
Each point goes to the nearest network node by great-circle distance (a k-d tree on unit
vectors, whose chord order is the great-circle order). A unit farther than ``snap_max_m``
from every node is an input error; a demand point that far is reported and left out of
reach of every unit.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from optimizer.errors import InputError
from optimizer.geo.distance import haversine_km, unit_sphere

#: Default speeds (km/h) per OSM ``highway`` class for the driving network. Round figures
#: in the range national road agencies and routing engines (OSRM's car profile) use for
#: free-flow travel; ``other`` applies to classes not listed.
ROAD_SPEEDS: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
    "track": 15.0,
    "other": 20.0,
}

NETWORKS = ("driving", "walking")
_MPH = 1.609344
_MIN_EDGE_MINUTES = 1e-12  # csgraph drops zero-weight edges: floor them (far below any tolerance)


@dataclass(frozen=True)
class RoadOptions:
    """How roads become travel times (every default is stated here and in the README).

    Attributes
    ----------
    network : "driving" or "walking"
        Which OSM ways pyrosm reads (its ``network_type``).
    speeds : mapping of highway class -> km/h
        Overrides of :data:`ROAD_SPEEDS` (driving only). Unknown classes are an error.
    use_maxspeed : bool
        A posted ``maxspeed`` tag replaces the class speed.
    walking_kmh : float
        Speed on every way of the walking network.
    offroad_kmh : float
        Speed between a point and its nearest node (walking, 5 km/h).
    snap_max_m : float
        Farthest a point may lie from the network (metres).
    """

    network: str = "driving"
    speeds: Mapping[str, float] = field(default_factory=dict)
    use_maxspeed: bool = True
    walking_kmh: float = 5.0
    offroad_kmh: float = 5.0
    snap_max_m: float = 2000.0

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise InputError(f"expected a road network in {list(NETWORKS)}", option="roads.network", found=self.network)
        unknown = sorted(set(self.speeds) - set(ROAD_SPEEDS))
        if unknown:
            raise InputError(
                f"expected road classes among {sorted(ROAD_SPEEDS)}; unknown class {unknown[0]!r}",
                option="roads.speeds",
                found=unknown,
            )
        for name, value in [*self.speeds.items(), ("walking_kmh", self.walking_kmh), ("offroad_kmh", self.offroad_kmh)]:
            if not (np.isfinite(value) and value > 0):
                raise InputError("expected a speed > 0 km/h", option=f"roads.{name}" if name in ROAD_SPEEDS else f"roads.{name}", found=value)
        if not (np.isfinite(self.snap_max_m) and self.snap_max_m >= 0):
            raise InputError("expected a distance >= 0 metres", option="roads.snap_max_m", found=self.snap_max_m)

    def class_speed(self) -> dict[str, float]:
        """Speed per highway class with the overrides applied."""
        return {**ROAD_SPEEDS, **{k: float(v) for k, v in self.speeds.items()}}

    def key(self) -> dict:
        """Everything that changes the times (for the travel-table cache)."""
        return {
            "network": self.network,
            "speeds": dict(sorted((k, float(v)) for k, v in self.speeds.items())),
            "use_maxspeed": self.use_maxspeed,
            "walking_kmh": self.walking_kmh,
            "offroad_kmh": self.offroad_kmh,
            "snap_max_m": self.snap_max_m,
        }


@dataclass(frozen=True)
class RoadNetwork:
    """A directed road graph weighted in minutes.

    Attributes
    ----------
    node_ids : np.ndarray (n,) int64
        OSM node ids.
    lon, lat : np.ndarray (n,)
        Node coordinates (WGS84).
    graph : csr_array (n, n)
        ``graph[a, b]`` = minutes from node a to node b along one edge (fastest parallel edge).
    edges : pd.DataFrame
        One row per directed edge: ``u``, ``v`` (node positions), ``highway``, ``metres``,
        ``kmh``, ``minutes``.
    source : Path
    """

    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    graph: sp.csr_array
    edges: pd.DataFrame
    source: Path

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)


def parse_maxspeed(values: pd.Series) -> np.ndarray:
    """A ``maxspeed`` tag in km/h (NaN where absent or not a number).

    >>> parse_maxspeed(pd.Series(["50", "30 mph", "60;80", "FI:urban", None, "20 km/h"])).round(2).tolist()
    [50.0, 48.28, 60.0, nan, nan, 20.0]
    """
    out = np.full(len(values), np.nan)
    pattern = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?")
    for i, raw in enumerate(values.to_numpy(dtype=object)):
        if raw is None or (isinstance(raw, float) and np.isnan(raw)):
            continue
        match = pattern.match(str(raw))
        if match:
            speed = float(match.group(1)) * (_MPH if match.group(2) == "mph" else 1.0)
            out[i] = speed if speed > 0 else np.nan
    return out


def _geometry_metres(geometry) -> np.ndarray:
    """Great-circle length (metres) of each line, summed over its vertices."""
    import shapely

    coords, index = shapely.get_coordinates(np.asarray(geometry), return_index=True)
    same = index[1:] == index[:-1]
    step = np.zeros(len(coords) - 1) if len(coords) > 1 else np.zeros(0)
    if len(coords) > 1:
        step = haversine_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1]) * 1000.0
    out = np.zeros(len(geometry))
    np.add.at(out, index[1:][same], step[same])
    return out


def _direction(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(forward allowed, backward allowed) per way from ``oneway`` and ``junction``."""
    oneway = edges["oneway"].astype(str).str.strip().str.lower() if "oneway" in edges else pd.Series("", index=edges.index)
    roundabout = edges["junction"].astype(str).str.lower().eq("roundabout") if "junction" in edges else pd.Series(False, index=edges.index)
    reverse = oneway.isin(["-1", "reverse"]).to_numpy()
    forward_only = (oneway.isin(["yes", "true", "1"]) | roundabout).to_numpy() & ~reverse
    return ~reverse, ~forward_only


def edge_speeds(edges: pd.DataFrame, options: RoadOptions) -> np.ndarray:
    """Speed (km/h) of each way: the class table, a posted ``maxspeed`` when used, or the
    walking speed on the walking network."""
    if options.network == "walking":
        return np.full(len(edges), float(options.walking_kmh))
    table = options.class_speed()
    highway = edges["highway"].astype(str).to_numpy(dtype=object)
    kmh = np.array([table.get(h, table["other"]) for h in highway], dtype=float)
    if options.use_maxspeed and "maxspeed" in edges:
        posted = parse_maxspeed(edges["maxspeed"])
        kmh = np.where(np.isfinite(posted), posted, kmh)
    return kmh


def network_from_edges(
    node_ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    edges: pd.DataFrame,
    options: RoadOptions,
    *,
    source: Path | str = "edges",
) -> RoadNetwork:
    """Build the minute-weighted directed graph from OSM nodes and ways.

    ``edges`` has ``u``, ``v`` (OSM node ids), ``highway``, ``geometry`` (lines in WGS84),
    and optionally ``maxspeed``, ``oneway``, ``junction``.
    """
    node_ids = np.asarray(node_ids, dtype=np.int64)
    position = pd.Index(node_ids)
    u = position.get_indexer(edges["u"].to_numpy(dtype=np.int64))
    v = position.get_indexer(edges["v"].to_numpy(dtype=np.int64))
    known = (u >= 0) & (v >= 0)
    edges = edges[known]
    u, v = u[known], v[known]
    metres = _geometry_metres(edges.geometry.to_numpy())
    highway = edges["highway"].astype(str).to_numpy(dtype=object)
    kmh = edge_speeds(edges, options)
    if options.network == "walking":
        forward = backward = np.ones(len(edges), dtype=bool)
    else:
        forward, backward = _direction(edges)
    minutes = metres / 1000.0 / kmh * 60.0
    frame = pd.DataFrame(
        {
            "u": np.concatenate([u[forward], v[backward]]),
            "v": np.concatenate([v[forward], u[backward]]),
            "highway": np.concatenate([highway[forward], highway[backward]]),
            "metres": np.concatenate([metres[forward], metres[backward]]),
            "kmh": np.concatenate([kmh[forward], kmh[backward]]),
            "minutes": np.concatenate([minutes[forward], minutes[backward]]),
        }
    )
    frame = frame[frame["u"] != frame["v"]].sort_values(["u", "v", "minutes"], kind="stable")
    frame = frame.drop_duplicates(["u", "v"], keep="first").reset_index(drop=True)
    n = len(node_ids)
    graph = sp.csr_array(
        (np.maximum(frame["minutes"].to_numpy(), _MIN_EDGE_MINUTES), (frame["u"].to_numpy(), frame["v"].to_numpy())),
        shape=(n, n),
    )
    return RoadNetwork(node_ids=node_ids, lon=np.asarray(lon, float), lat=np.asarray(lat, float), graph=graph, edges=frame, source=Path(source))


def _read_osm(path: str | Path, options: RoadOptions, bbox: tuple[float, float, float, float] | None):
    """(nodes, edges) GeoDataFrames of the extract's roads (within ``bbox``, lon/lat bounds)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("expected an OpenStreetMap extract (.osm.pbf); the file does not exist", file=p)
    if not p.name.lower().endswith(".pbf"):
        raise InputError("expected an OpenStreetMap extract in PBF format (.osm.pbf)", file=p, found=p.suffix or "no suffix")
    import pyrosm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(p), bounding_box=list(bbox) if bbox is not None else None)
            got = osm.get_network(network_type=options.network, nodes=True)
    except Exception as exc:  # pyrosm raises bare errors for a corrupt or non-PBF file
        raise InputError(f"expected a readable OpenStreetMap PBF extract; pyrosm could not read it ({exc})", file=p) from exc
    if got is None or got[1] is None or len(got[1]) == 0:
        where = "" if bbox is None else f" within lon {bbox[0]:.4f}..{bbox[2]:.4f}, lat {bbox[1]:.4f}..{bbox[3]:.4f}"
        raise InputError(f"expected {options.network} roads in the extract{where}; it has none", file=p)
    return got


def read_network(path: str | Path, options: RoadOptions, *, bbox: tuple[float, float, float, float] | None = None) -> RoadNetwork:
    """Read the roads of an ``.osm.pbf`` extract (within ``bbox`` = lon/lat bounds, when given)."""
    nodes, edges = _read_osm(path, options, bbox)
    return network_from_edges(nodes["id"].to_numpy(), nodes["lon"].to_numpy(), nodes["lat"].to_numpy(), edges, options, source=Path(path))


def road_lines(path: str | Path, options: RoadOptions, *, bbox: tuple[float, float, float, float] | None = None):
    """The extract's roads as lines with their speed: GeoDataFrame ``highway``, ``kmh``, geometry."""
    import geopandas as gpd

    _, edges = _read_osm(path, options, bbox)
    return gpd.GeoDataFrame(
        {"highway": edges["highway"].astype(str).to_numpy(), "kmh": edge_speeds(edges, options)},
        geometry=edges.geometry.to_numpy(),
        crs="EPSG:4326",
    )


@dataclass(frozen=True)
class Snap:
    """Nearest network node of each point and the off-road distance to it."""

    node: np.ndarray  # (k,) node position, -1 when farther than the limit
    metres: np.ndarray  # (k,) great-circle metres to that node
    minutes: np.ndarray  # (k,) off-road minutes to that node

    @property
    def too_far(self) -> np.ndarray:
        return self.node < 0


def snap(network: RoadNetwork, lon: np.ndarray, lat: np.ndarray, options: RoadOptions) -> Snap:
    """Nearest node by great-circle distance (k-d tree on unit vectors, chord order)."""
    used = np.unique(np.concatenate([network.edges["u"].to_numpy(), network.edges["v"].to_numpy()]))
    tree = cKDTree(unit_sphere(network.lon[used], network.lat[used]))
    chord, pos = tree.query(unit_sphere(np.asarray(lon, float), np.asarray(lat, float)))
    node = used[pos]
    metres = haversine_km(np.asarray(lon, float), np.asarray(lat, float), network.lon[node], network.lat[node]) * 1000.0
    too_far = metres > options.snap_max_m
    return Snap(
        node=np.where(too_far, -1, node).astype(np.int64),
        metres=metres,
        minutes=metres / 1000.0 / options.offroad_kmh * 60.0,
    )


def _search(graph_t: sp.csr_array, sources: np.ndarray, limit: float) -> np.ndarray:
    return dijkstra(graph_t, directed=True, indices=sources, limit=limit)


_WORKER_GRAPH: sp.csr_array | None = None


def _init_worker(graph_t: sp.csr_array) -> None:
    global _WORKER_GRAPH
    _WORKER_GRAPH = graph_t


def _worker_search(args: tuple[np.ndarray, float]) -> np.ndarray:
    assert _WORKER_GRAPH is not None
    return _search(_WORKER_GRAPH, *args)


def _members(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, members): positions with group g are ``members[offsets[g]:offsets[g+1]]``."""
    members = np.argsort(groups, kind="stable")
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=offsets[1:])
    return offsets, members


def _expand(keys: np.ndarray, offsets: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry k of ``keys``, one row per member of group ``keys[k]``: (k, member)."""
    counts = offsets[keys + 1] - offsets[keys]
    which = np.repeat(np.arange(len(keys)), counts)
    start = np.repeat(offsets[keys] - np.cumsum(np.concatenate([[0], counts[:-1]])), counts)
    return which, members[start + np.arange(len(which))]


def network_times(
    graph: sp.csr_array,
    unit_node: np.ndarray,
    unit_minutes: np.ndarray,
    demand_node: np.ndarray,
    demand_minutes: np.ndarray,
    cutoff: float,
    *,
    workers: int = 1,
    progress=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pure kernel: every (demand, unit) pair with total time ``<= cutoff``.

    ``unit_node``/``demand_node`` are node positions (-1 = not on the network);
    ``*_minutes`` the off-road minutes. Returns (demand positions, unit positions, minutes)
    sorted by demand then unit. The search runs from each distinct unit node on the
    reversed graph (times *to* the unit), in batches of similar off-road times, each
    limited to the cut-off minus the batch's smallest off-road time; pairs are then
    filtered exactly on the total. ``progress(k)`` is called after each batch of k nodes.
    """
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    unit_node = np.asarray(unit_node, dtype=np.int64)
    demand_node = np.asarray(demand_node, dtype=np.int64)
    on = np.flatnonzero(unit_node >= 0)
    demand_on = np.flatnonzero(demand_node >= 0)
    if len(on) == 0 or len(demand_on) == 0:
        return empty
    graph_t = sp.csr_array(graph.T)
    d_nodes, d_inverse = np.unique(demand_node[demand_on], return_inverse=True)
    u_nodes, u_inverse = np.unique(unit_node[on], return_inverse=True)
    d_offsets, d_members = _members(d_inverse.ravel(), len(d_nodes))
    u_offsets, u_members = _members(u_inverse.ravel(), len(u_nodes))
    best_walk = np.full(len(u_nodes), np.inf)
    np.minimum.at(best_walk, u_inverse.ravel(), unit_minutes[on])
    batch = int(max(1, min(64, 20_000_000 // max(graph.shape[0], 1))))  # <= ~160 MB of distances
    order = np.argsort(best_walk, kind="stable")
    chunks = [order[i : i + batch] for i in range(0, len(order), batch)]
    jobs = [(u_nodes[c], max(0.0, cutoff - float(best_walk[c].min()))) for c in chunks]
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    time_out: list[np.ndarray] = []

    def collect(chunk: np.ndarray, dist: np.ndarray) -> None:
        sub = dist[:, d_nodes]
        r, c = np.nonzero(np.isfinite(sub))
        node_time = sub[r, c]
        k, d_local = _expand(c, d_offsets, d_members)  # one row per demand point at the node
        k2, u_local = _expand(chunk[r[k]], u_offsets, u_members)  # then per unit at the unit node
        d_pos = demand_on[d_local[k2]]
        u_pos = on[u_local]
        total = node_time[k[k2]] + demand_minutes[d_pos] + unit_minutes[u_pos]
        ok = total <= cutoff
        rows_out.append(d_pos[ok])
        cols_out.append(u_pos[ok])
        time_out.append(total[ok])

    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(graph_t,)) as pool:
            for chunk, dist in zip(chunks, pool.map(_worker_search, jobs), strict=True):
                collect(chunk, dist)
                if progress is not None:
                    progress(len(chunk))
    else:
        for chunk, job in zip(chunks, jobs, strict=True):
            collect(chunk, _search(graph_t, *job))
            if progress is not None:
                progress(len(chunk))
    rows = np.concatenate(rows_out).astype(np.int64)
    cols = np.concatenate(cols_out).astype(np.int64)
    times = np.concatenate(time_out)
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], times[order]


__all__ = [
    "NETWORKS",
    "ROAD_SPEEDS",
    "RoadNetwork",
    "RoadOptions",
    "Snap",
    "network_from_edges",
    "network_times",
    "parse_maxspeed",
    "read_network",
    "snap",
]

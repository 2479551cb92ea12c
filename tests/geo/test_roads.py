"""Road travel times: the Helsinki extract shipped with pyrosm against networkx on the same graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely

from optimizer.errors import InputError
from optimizer.geo.distance import haversine_km
from optimizer.geo.roads import (
    ROAD_SPEEDS,
    RoadOptions,
    network_from_edges,
    network_times,
    parse_maxspeed,
    read_network,
    snap,
)

HELSINKI = pyrosm.get_data("helsinki_pbf")


@pytest.fixture(scope="module")
def helsinki():
    return read_network(HELSINKI, RoadOptions())


def _reference(network, unit_node, unit_minutes, demand_node, demand_minutes, cutoff):
    """Independent times: networkx Dijkstra from each unit on the reversed edge list."""
    g = nx.DiGraph()
    for a, b, w in zip(network.edges["u"], network.edges["v"], network.edges["minutes"], strict=True):
        g.add_edge(int(b), int(a), weight=float(w))
    out = {}
    for j, node in enumerate(unit_node):
        if node < 0 or node not in g:
            continue
        dist = nx.single_source_dijkstra_path_length(g, int(node), weight="weight")
        for i, dn in enumerate(demand_node):
            if dn >= 0 and int(dn) in dist:
                total = dist[int(dn)] + unit_minutes[j] + demand_minutes[i]
                if total <= cutoff:
                    out[(i, j)] = total
    return out


def test_times_equal_networkx_on_the_helsinki_extract(helsinki):
    """Every node of the extract a demand point, 25 units: same pairs, times to 1e-9 minutes."""
    rng = np.random.default_rng(3)
    units = rng.choice(helsinki.n_nodes, 25, replace=False)
    walk_u = rng.uniform(0, 2, 25)
    demand_node = np.arange(helsinki.n_nodes)
    walk_d = rng.uniform(0, 1, helsinki.n_nodes)
    rows, cols, minutes = network_times(helsinki.graph, units, walk_u, demand_node, walk_d, 6.0)
    ref = _reference(helsinki, units, walk_u, demand_node, walk_d, 6.0)
    got = {(int(r), int(c)): float(m) for r, c, m in zip(rows, cols, minutes, strict=True)}
    assert len(ref) > 1000
    assert set(got) == set(ref)
    assert max(abs(got[k] - ref[k]) for k in ref) < 1e-9
    # sorted by demand then unit
    assert np.all(np.diff(rows * 1000 + cols) > 0)


def test_parallel_workers_give_identical_pairs(helsinki):
    rng = np.random.default_rng(4)
    units = rng.choice(helsinki.n_nodes, 150, replace=False)
    demand_node = np.arange(helsinki.n_nodes)
    zeros_u, zeros_d = np.zeros(150), np.zeros(helsinki.n_nodes)
    one = network_times(helsinki.graph, units, zeros_u, demand_node, zeros_d, 4.0, workers=1)
    two = network_times(helsinki.graph, units, zeros_u, demand_node, zeros_d, 4.0, workers=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def _line_network(oneway: str | None, options: RoadOptions | None = None, maxspeed=None):
    """Three nodes on the equator 0.01 deg apart: a -> b -> c, one way or both."""
    lon = np.array([0.0, 0.01, 0.02])
    lat = np.zeros(3)
    edges = pd.DataFrame(
        {
            "u": [1, 2],
            "v": [2, 3],
            "highway": ["residential", "residential"],
            "oneway": [oneway, oneway],
            "maxspeed": [maxspeed, maxspeed],
            "geometry": [shapely.LineString([(0, 0), (0.01, 0)]), shapely.LineString([(0.01, 0), (0.02, 0)])],
        }
    )
    return network_from_edges(np.array([1, 2, 3]), lon, lat, edges, options or RoadOptions())


def test_one_way_streets_are_honoured():
    """People travel to the unit: a one-way a -> c lets a reach a unit at c, not the reverse."""
    net = _line_network("yes")
    rows, cols, _ = network_times(net.graph, np.array([2]), np.zeros(1), np.array([0]), np.zeros(1), 60.0)
    assert list(zip(rows, cols, strict=True)) == [(0, 0)]  # demand at a, unit at c: along the way
    rows, _, _ = network_times(net.graph, np.array([0]), np.zeros(1), np.array([2]), np.zeros(1), 60.0)
    assert len(rows) == 0  # demand at c cannot drive against the one-way to a
    both = _line_network(None)
    rows, _, _ = network_times(both.graph, np.array([0]), np.zeros(1), np.array([2]), np.zeros(1), 60.0)
    assert len(rows) == 1
    reverse = _line_network("-1")
    rows, _, _ = network_times(reverse.graph, np.array([0]), np.zeros(1), np.array([2]), np.zeros(1), 60.0)
    assert len(rows) == 1


def test_speed_from_class_and_maxspeed():
    """Edge minutes = great-circle metres / speed; a posted maxspeed replaces the class speed."""
    metres = haversine_km(0.0, 0.0, 0.01, 0.0) * 1000
    net = _line_network(None)
    np.testing.assert_allclose(net.edges["minutes"], metres / 1000 / ROAD_SPEEDS["residential"] * 60)
    posted = _line_network(None, maxspeed="50")
    np.testing.assert_allclose(posted.edges["minutes"], metres / 1000 / 50 * 60)
    ignored = _line_network(None, RoadOptions(use_maxspeed=False, speeds={"residential": 15}), maxspeed="50")
    np.testing.assert_allclose(ignored.edges["minutes"], metres / 1000 / 15 * 60)
    walking = _line_network("yes", RoadOptions(network="walking"))
    np.testing.assert_allclose(walking.edges["minutes"], metres / 1000 / 5 * 60)
    assert len(walking.edges) == 4  # pedestrians ignore one-way tags


def test_snapping_distance_is_walked_at_the_off_road_speed_and_cut_off_is_inclusive():
    net = _line_network(None)
    opts = RoadOptions(offroad_kmh=6.0)
    # a point 0.001 deg north of node a: about 111 m from the road
    s = snap(net, np.array([0.0]), np.array([0.001]), opts)
    assert s.node.tolist() == [0]
    np.testing.assert_allclose(s.metres, haversine_km(0, 0.001, 0, 0) * 1000)
    np.testing.assert_allclose(s.minutes, s.metres / 1000 / 6 * 60)
    edge = float(net.edges["minutes"].iloc[0])
    # unit at node b with a 1-minute walk, demand at a with a 0.5-minute walk: total exactly known
    total = 0.5 + edge + 1.0
    rows, _, minutes = network_times(net.graph, np.array([1]), np.array([1.0]), np.array([0]), np.array([0.5]), total)
    assert rows.tolist() == [0] and minutes[0] == total  # a pair at exactly the cut-off is in reach
    rows, _, _ = network_times(net.graph, np.array([1]), np.array([1.0]), np.array([0]), np.array([0.5]), np.nextafter(total, 0))
    assert len(rows) == 0


def test_points_too_far_from_the_network_are_flagged():
    net = _line_network(None)
    s = snap(net, np.array([0.0, 0.0]), np.array([0.001, 0.5]), RoadOptions(snap_max_m=500))
    assert s.too_far.tolist() == [False, True]


def test_parse_maxspeed_units():
    got = parse_maxspeed(pd.Series(["80", "20 mph", "none", None]))
    np.testing.assert_allclose(got[:2], [80.0, 20 * 1.609344])
    assert np.isnan(got[2:]).all()


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"speeds": {"highwayz": 50}}, "roads.speeds"),
        ({"network": "boat"}, "roads.network"),
        ({"offroad_kmh": 0}, "roads.offroad_kmh"),
        ({"snap_max_m": -1}, "roads.snap_max_m"),
    ],
)
def test_bad_road_options_name_the_key(kwargs, key):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        RoadOptions(**kwargs)


def test_extract_without_roads_in_the_area_is_an_error():
    with pytest.raises(InputError, match="expected driving roads in the extract within lon"):
        read_network(HELSINKI, RoadOptions(), bbox=(10.0, 10.0, 10.1, 10.1))


def test_not_an_extract_is_an_error(tmp_path):
    bad = tmp_path / "x.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(InputError, match="x.osm.pbf"):
        read_network(bad, RoadOptions())
    with pytest.raises(InputError, match="does not exist"):
        read_network(tmp_path / "none.osm.pbf", RoadOptions())

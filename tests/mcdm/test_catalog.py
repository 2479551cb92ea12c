"""Criteria catalog, presets, dimension matching and hierarchical aggregation.

Reference: seed paper 002 (contracting with indirect-treatment paraclinical units of the
SSO, Iran), Table 2 (dimensions, main themes, sub-themes, repetition counts), Table 4
(path coefficients beta and t-values) and Table 5 (Friedman mean ranks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.mcdm.catalog import (
    DIMENSIONS,
    PRESETS,
    aggregate_indicators,
    load_catalog,
    match_dimensions,
    preset_weights,
)


def test_dimensions_in_paper_order():
    """Table 2 / Table 4 order of the ten dimensions."""
    paper_order = "demographic economic culturalization specialization physical personnel performance marketing satisfaction external"
    assert paper_order.split() == list(DIMENSIONS)
    cat = load_catalog()
    assert cat.keys == DIMENSIONS
    assert [d.label for d in cat.dimensions] == [
        "Demographic factors",
        "Economic factors",
        "Culturalization",
        "Specialization",
        "Physical factors",
        "Personnel literacy and experience",
        "Performance management",
        "Marketing",
        "Customer satisfaction",
        "External factors",
    ]


def test_counts_of_table_2():
    """Table 2: 10 dimensions, 26 main themes (rows 1..26), 78 sub-themes ("78 primary codes
    (sub-themes) ... grouped into 26 main themes and 10 dimensions"); the repetition counts
    summed by hand from Table 2 total 462."""
    cat = load_catalog()
    assert len(cat.dimensions) == 10
    assert [t.row for t in cat.themes] == list(range(1, 27))
    assert len(cat.subthemes) == 78
    assert sum(s.count for s in cat.subthemes) == 462
    themes_per_dim = [len(d.themes) for d in cat.dimensions]
    assert themes_per_dim == [4, 3, 3, 2, 4, 2, 1, 1, 2, 4]
    reps = {d.key: d.count for d in cat.dimensions}
    assert reps == {
        "demographic": 78,
        "economic": 39,
        "culturalization": 70,
        "specialization": 50,
        "physical": 67,
        "personnel": 33,
        "performance": 16,
        "marketing": 8,
        "satisfaction": 31,
        "external": 70,
    }


def test_individual_rows_of_table_2():
    """Spot checks of Table 2 rows: row 1 (Spatial range 13, Population density 11, Age
    structure 8), row 9 (five sub-themes 11, 7, 5, 6, 6), row 20 (5, 3), row 23 (7, 4)."""
    cat = load_catalog()
    row1 = cat.theme(1)
    assert row1.name == "Center-to-population ratio"
    assert [(s.name, s.count) for s in row1.subthemes] == [
        ("Spatial range", 13),
        ("Population density", 11),
        ("Age structure", 8),
    ]
    assert row1.count == 32
    assert [s.count for s in cat.theme(9).subthemes] == [11, 7, 5, 6, 6]
    assert cat.theme(9).name == "The right legislation"
    assert [s.count for s in cat.theme(20).subthemes] == [5, 3]
    assert cat.theme(20).dimension == "marketing"
    assert [s.count for s in cat.theme(23).subthemes] == [7, 4]
    assert cat.theme(19).subthemes[1].name == "HRM"
    assert cat.theme(16).subthemes[0].id == "16.1"
    with pytest.raises(InputError, match="theme row"):
        cat.theme(27)


def test_published_statistics():
    """Table 4 (beta, t-value, impact rank) and Table 5 (mean rank, rank) as printed."""
    t = load_catalog().dimension_table()
    assert t["path_coefficient"].tolist() == [0.51, 0.46, 0.39, 0.35, 0.33, 0.40, 0.32, 0.42, 0.43, 0.49]
    assert t["t_value"].tolist() == [14.23, 10.85, 7.91, 6.10, 4.83, 8.28, 4.27, 9.15, 9.94, 12.89]
    assert t["impact_rank"].tolist() == [1, 3, 7, 8, 9, 6, 10, 5, 4, 2]
    assert t["friedman_mean_rank"].tolist() == [4.14, 3.81, 1.89, 1.81, 1.66, 2.45, 1.47, 2.44, 3.28, 3.98]
    assert t["friedman_rank"].tolist() == [1, 3, 7, 8, 9, 6, 10, 5, 4, 2]
    frame = load_catalog().to_frame()
    assert len(frame) == 78
    assert frame.groupby("dimension")["count"].sum()["external"] == 70


def test_presets_exact_values():
    """path-coefficients: beta / 4.10 (Table 4); friedman: mean rank / 26.93 (Table 5)."""
    pc = preset_weights("path-coefficients")
    assert list(pc.index) == list(DIMENSIONS)
    assert pc["demographic"] == pytest.approx(0.51 / 4.10)
    assert pc["performance"] == pytest.approx(0.32 / 4.10)
    fr = preset_weights("friedman")
    assert fr["demographic"] == pytest.approx(4.14 / 26.93)
    assert fr["performance"] == pytest.approx(1.47 / 26.93)
    eq = preset_weights("equal")
    np.testing.assert_allclose(eq.to_numpy(), 0.1)
    for name in PRESETS:
        assert preset_weights(name).sum() == pytest.approx(1.0)
    assert preset_weights("Friedman").name == "friedman"  # case-insensitive


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(InputError) as err:
        preset_weights("saaty")
    assert "path-coefficients, friedman, equal" in str(err.value)
    assert "saaty" in str(err.value)


def test_match_dimensions_keys_and_labels():
    """Keys or labels, case-insensitive, spaces/underscores/hyphens interchangeable."""
    got = match_dimensions(["Demographic factors", "economic", "CUSTOMER_SATISFACTION", "personnel-literacy-and-experience"])
    assert got == {
        "Demographic factors": "demographic",
        "economic": "economic",
        "CUSTOMER_SATISFACTION": "satisfaction",
        "personnel-literacy-and-experience": "personnel",
    }
    with pytest.raises(InputError, match="'cost_index'"):
        match_dimensions(["demographic", "cost_index"])
    with pytest.raises(InputError, match="two criteria match the dimension 'economic'"):
        match_dimensions(["economic", "Economic factors"])


def test_resolve_names_and_ambiguity():
    """"Physical conditions" is both theme 16 and its first sub-theme: it must be qualified."""
    cat = load_catalog()
    with pytest.raises(InputError, match="ambiguous"):
        cat.resolve("Physical conditions")
    assert cat.resolve("theme:Physical conditions").count == 19  # 9 + 5 + 5
    assert cat.resolve("subtheme:Physical conditions").count == 9
    assert cat.resolve("subtheme:16.1").name == "Physical conditions"
    node = cat.resolve("theme:16")
    assert (node.level, node.name, node.dimension) == ("theme", "Physical conditions", "physical")
    assert cat.resolve("dimension:physical factors").count == 67
    assert cat.resolve("quality_assurance").count == 5  # row 25, not "Quality assurance system"
    with pytest.raises(InputError, match="catalog"):
        cat.resolve("parking spaces")


def test_aggregate_weights_by_repetition_counts():
    """Local weights = repetition counts: Spatial range 13, Population density 11, Age
    structure 8 (Table 2 row 1) -> (13 a + 11 b + 8 c) / 32; a theme indicator for row 13
    (Clinic appearance, 4 + 5 + 4 = 13) and one for row 14 (6 + 5 + 4 = 15) -> physical =
    (13 x + 15 y) / 28."""
    t = pd.DataFrame(
        {
            "range": [10.0, 0.0],
            "density": [20.0, 5.0],
            "age": [30.0, 10.0],
            "appearance": [1.0, 2.0],
            "size": [3.0, 4.0],
        },
        index=["u1", "u2"],
    )
    mapping = {
        "range": "Spatial range",
        "density": "subtheme:1.2",
        "age": "age structure",
        "appearance": "theme:13",
        "size": "Relative size of the structure",
    }
    out = aggregate_indicators(t, mapping)
    assert list(out.columns) == ["demographic", "physical"]
    assert list(out.index) == ["u1", "u2"]
    assert out.loc["u1", "demographic"] == pytest.approx((13 * 10 + 11 * 20 + 8 * 30) / 32)
    assert out.loc["u2", "demographic"] == pytest.approx((13 * 0 + 11 * 5 + 8 * 10) / 32)
    assert out.loc["u1", "physical"] == pytest.approx((13 * 1 + 15 * 3) / 28)


def test_aggregate_two_indicators_share_a_subtheme():
    """Two indicators of one sub-theme share its count (6.5 each), they do not double it."""
    t = pd.DataFrame({"a1": [1.0], "a2": [3.0], "b": [10.0]})
    out = aggregate_indicators(t, {"a1": "Spatial range", "a2": "Spatial range", "b": "Population density"})
    assert out.loc[0, "demographic"] == pytest.approx((6.5 * 1 + 6.5 * 3 + 11 * 10) / 24)


def test_aggregate_user_weights_and_missing_values():
    """User local weights replace the counts; a missing indicator is left out and the weights
    are renormalized over the present ones; all missing -> NaN."""
    t = pd.DataFrame({"x": [1.0, np.nan, np.nan], "y": [3.0, 5.0, np.nan], "z": [7.0, 7.0, 7.0]})
    mapping = {"x": "Spatial range", "y": "Population density", "z": "Modernism"}
    out = aggregate_indicators(t, mapping, local_weights={"x": 1, "y": 3, "z": 2})
    assert out.loc[0, "demographic"] == pytest.approx((1 * 1 + 3 * 3) / 4)
    assert out.loc[1, "demographic"] == pytest.approx(5.0)
    assert np.isnan(out.loc[2, "demographic"])
    assert out["physical"].tolist() == [7.0, 7.0, 7.0]
    # default counts with one indicator missing: only Population density remains
    out2 = aggregate_indicators(t, mapping)
    assert out2.loc[1, "demographic"] == pytest.approx(5.0)


def test_aggregate_rejections():
    t = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "3"], "z": [1.0, 2.0]})
    with pytest.raises(InputError, match="'missing_col'"):
        aggregate_indicators(t, {"missing_col": "Spatial range"})
    with pytest.raises(InputError, match=r"row 1, column 'y': expected a number"):
        aggregate_indicators(t, {"x": "Spatial range", "y": "Population density"})
    with pytest.raises(InputError, match="contains"):
        aggregate_indicators(t, {"x": "theme:1", "z": "Spatial range"})
    with pytest.raises(InputError, match="missing: z"):
        aggregate_indicators(t, {"x": "Spatial range", "z": "Age structure"}, local_weights={"x": 1})
    with pytest.raises(InputError, match="non-negative"):
        aggregate_indicators(t, {"x": "Spatial range"}, local_weights={"x": -1})
    with pytest.raises(InputError, match="at least one indicator"):
        aggregate_indicators(t, {})


def test_cli_catalog(cli):
    res = cli("weights", "catalog", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert [d["key"] for d in doc["dimensions"]] == list(DIMENSIONS)
    assert sum(len(d["themes"]) for d in doc["dimensions"]) == 26
    assert doc["dimensions"][0]["themes"][0]["subthemes"][0] == {"id": "1.1", "name": "Spatial range", "count": 13}
    text = cli("weights", "catalog")
    assert text.code == 0
    assert "10 dimensions, 26 themes, 78 sub-themes, 462 repetitions" in text.stdout


def test_cli_preset(cli):
    res = cli("weights", "preset", "path-coefficients", "--json")
    assert res.code == 0
    assert res.json()["weights"]["demographic"] == pytest.approx(0.51 / 4.10)
    bad = cli("weights", "preset", "nope")
    assert bad.code == 2
    assert "expected one of path-coefficients, friedman, equal" in bad.stderr
    assert "friedman" in cli("weights", "preset", "friedman").stdout

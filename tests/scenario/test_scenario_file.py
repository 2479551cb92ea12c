"""Scenario files: schema errors name the key and the file; ``extends`` merges and resolves paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.errors import InputError, InputErrors
from optimizer.scenario import deep_merge, load_scenario

from .conftest import DEMO, DEMO_DATA, write_scenario

BASE = """
name = "base"
[units]
file = "data/units.csv"
[demand]
file = "data/demand.csv"
need_weights = { pop_over_60 = 2.0 }
[reach]
default_km = 15
km = { lab = 10 }
[selection]
budget = 100
min_score = 0.2
"""


def test_extends_merges_tables_overrides_scalars_and_lists_and_resolves_paths_per_file(tmp_path):
    write_scenario(tmp_path / "base", BASE, "base.toml")
    variant = write_scenario(
        tmp_path / "variants",
        'extends = "../base/base.toml"\nname = "v"\n[selection]\nbudget = 250\nexclude = ["u1"]\n'
        '[reach]\nkm = { imaging = 40 }\n[demand]\nfile = "own.csv"\n',
        "v.toml",
    )
    s = load_scenario(variant)
    assert s.name == "v"
    assert s.selection.budget == 250 and s.selection.min_score == 0.2  # table merged
    assert s.selection.exclude == ["u1"]
    assert s.reach.default_km == 15 and s.reach.km == {"lab": 10, "imaging": 40}  # nested tables merge
    assert s.units.file == (tmp_path / "base" / "data" / "units.csv").resolve()  # relative to the base
    assert s.demand.file == (tmp_path / "variants" / "own.csv").resolve()  # relative to the variant
    assert s.demand.need_weights == {"pop_over_60": 2.0}
    assert s.chain == (variant.resolve(), (tmp_path / "base" / "base.toml").resolve())
    assert s.origin("selection.budget") == variant.resolve()
    assert s.origin("selection.min_score") == (tmp_path / "base" / "base.toml").resolve()


def test_lists_are_replaced_not_appended():
    assert deep_merge({"a": {"l": [1, 2]}}, {"a": {"l": [3]}}) == {"a": {"l": [3]}}


def test_extends_cycle_is_an_error(tmp_path):
    write_scenario(tmp_path, 'extends = "b.toml"\nname = "a"\n', "a.toml")
    write_scenario(tmp_path, 'extends = "a.toml"\nname = "b"\n', "b.toml")
    with pytest.raises(InputError, match="cycles"):
        load_scenario(tmp_path / "a.toml")


def test_missing_base_is_an_error(tmp_path):
    path = write_scenario(tmp_path, 'extends = "nowhere.toml"\nname = "a"\n')
    with pytest.raises(InputError, match="key 'extends'.*does not exist"):
        load_scenario(path)


def test_every_schema_error_names_key_expectation_and_file(tmp_path):
    write_scenario(tmp_path, BASE, "base.toml")
    path = write_scenario(
        tmp_path,
        'extends = "base.toml"\nname = "x"\ncolour = "red"\n[selection]\nbudget = -5\nobjective = "max"\n'
        'floors = 2\ntime_limit = "soon"\n[reach]\nkm = { lab = { urban = "far" } }\n',
        "bad.toml",
    )
    with pytest.raises(InputErrors) as info:
        load_scenario(path)
    text = {str(e) for e in info.value.errors}
    file = str(path.resolve())
    expected = {
        f"{file}: key 'colour': unknown key; expected one of credits, criteria, demand, description, friction, name, outputs, reach, regions, roads, scoring, selection, travel, units",
        f"{file}: key 'selection.budget': expected a number greater than or equal to 0, found -5",
        f"{file}: key 'selection.objective': expected 'coverage', 'quality-coverage' or 'min-cost', found 'max'",
        f"{file}: key 'selection.floors': expected a number less than or equal to 1 or a valid dictionary, found 2",
        f"{file}: key 'selection.time_limit': expected a valid number, unable to parse string as a number, found 'soon'",
        f"{file}: key 'reach.km.lab.urban': expected a valid number, unable to parse string as a number, found 'far'",
    }
    assert text == expected


def test_error_in_a_base_names_the_base_file(tmp_path):
    write_scenario(tmp_path, BASE.replace("budget = 100", 'budget = "lots"'), "base.toml")
    path = write_scenario(tmp_path, 'extends = "base.toml"\nname = "x"\n', "v.toml")
    with pytest.raises(InputErrors) as info:
        load_scenario(path)
    assert [e.file for e in info.value.errors] == [str((tmp_path / "base.toml").resolve())]


def test_invalid_toml_and_missing_required_keys(tmp_path):
    bad = write_scenario(tmp_path, "name = \n", "broken.toml")
    with pytest.raises(InputError, match="expected valid TOML"):
        load_scenario(bad)
    empty = write_scenario(tmp_path, 'name = "x"\n', "empty.toml")
    with pytest.raises(InputErrors) as info:
        load_scenario(empty)
    assert {str(e).split(": ", 1)[1] for e in info.value.errors} == {
        "key 'units': a required key is missing",
        "key 'demand': a required key is missing",
    }


def test_a_folder_means_its_scenario_toml():
    assert load_scenario(DEMO.parent).name == "demo"
    assert load_scenario(DEMO.parent).units.file == (DEMO_DATA / "units.csv").resolve()


def test_shipped_scenarios_load():
    for name in ("demo", "iran"):
        s = load_scenario(Path(DEMO.parent.parent / name / "scenario.toml"))
        assert s.name == name
        assert s.units.file.is_file() and s.demand.file.is_file() and s.regions.file.is_file()


def test_group_ahp_weights_resolve_against_the_file_that_states_them(tmp_path):
    """Two experts' consistent matrices a_ij = w_i / w_j; group AHP (element-wise geometric
    mean, AIJ) of consistent matrices is consistent with weights proportional to
    sqrt(w1 * w2) (Saaty; Forman & Peniwati 1998), computed here independently."""
    import numpy as np
    import pandas as pd

    from optimizer.pipeline import run_scenario

    dims = ["demographic", "economic", "culturalization", "specialization", "physical",
            "personnel", "performance", "marketing", "satisfaction", "external"]  # fmt: skip
    w1 = np.array([9, 8, 3, 3, 2, 4, 2, 4, 6, 8], dtype=float)
    w2 = np.array([7, 9, 2, 4, 2, 3, 3, 5, 5, 9], dtype=float)
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    for name, w in (("e1.csv", w1), ("e2.csv", w2)):
        pd.DataFrame(w[:, None] / w[None, :], index=dims, columns=dims).to_csv(base_dir / name)
    write_scenario(
        base_dir,
        f'name = "b"\n[units]\nfile = "{(DEMO_DATA / "units.csv").as_posix()}"\n'
        f'[demand]\nfile = "{(DEMO_DATA / "demand.csv").as_posix()}"\n'
        f'[regions]\nfile = "{(DEMO_DATA / "regions.geojson").as_posix()}"\n'
        '[criteria]\ncolumns = ["demographic", "economic", "culturalization", "specialization", "performance", "marketing", "satisfaction", "external"]\n'
        'indicators = { clinic_appearance = "theme:13", structure_size = "theme:14", structural_conditions = "theme:15", '
        'physical_conditions = "theme:16", academic_literacy = "theme:17", training_courses = "theme:18" }\n'
        '[scoring]\nweights = "ahp:e1.csv,e2.csv"\n[selection]\nbudget = 65000\ncapacity = false\n[outputs]\nreport = false\n',
        "base.toml",
    )
    variant = write_scenario(tmp_path / "elsewhere", 'extends = "../base/base.toml"\nname = "v"\n', "v.toml")
    run = run_scenario(load_scenario(variant))
    expected = np.sqrt(w1 * w2) / np.sqrt(w1 * w2).sum()
    np.testing.assert_allclose(run.weights.reindex(dims).to_numpy(), expected, rtol=1e-9)
    assert str((base_dir / "e1.csv").resolve()) in run.inputs and str((base_dir / "e2.csv").resolve()) in run.inputs

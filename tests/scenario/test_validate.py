"""``optimizer validate`` lists every problem at once; bad scenarios leave no run folder."""

from __future__ import annotations

import pytest

from .conftest import DEMO, write_scenario


def test_validate_accepts_the_shipped_scenarios(cli):
    for path in (DEMO, DEMO.parent / "equity.toml", DEMO.parent.parent / "iran"):
        res = cli("validate", path, "--json")
        assert res.code == 0, res.stderr
        doc = res.json()
        assert doc["valid"] is True and doc["problems"] == []
    assert doc["units"] == 1888 and doc["demand_points"] == 2401 and doc["regions"] == 31


def test_validate_lists_several_problems_with_exit_2_and_run_writes_nothing(cli, tmp_path):
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "bad"\ncolour = "red"\n'
        '[reach]\ndefault_km = "far"\n'
        '[demand]\nfile = "nowhere.csv"\n'
        '[selection]\nbudget = 100\nmust_keep = "contracted"\nmin_score = 0.0\n',
    )
    res = cli("validate", path)
    assert res.code == 2
    err = res.stderr
    assert "4 problems found" in err
    assert "key 'colour': unknown key" in err
    assert "key 'reach.default_km': expected a valid number" in err
    assert "key 'demand.file': expected an existing demand file, found '" + str(tmp_path / "nowhere.csv") in err
    assert "key 'selection.budget': expected a budget of at least 61,581.60, the cost of the 40 must-keep units" in err

    doc = cli("validate", path, "--json").json()
    assert doc["valid"] is False and len(doc["problems"]) == 4

    out = tmp_path / "runs" / "bad"
    res = cli("run", path, "--out", out, "--quiet")
    assert res.code == 2
    assert not (tmp_path / "runs").exists()


def test_data_problems_are_all_reported(cli, tmp_path):
    """Wrong columns, an unknown weight spec, unknown ids and services: one report."""
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "bad-data"\n'
        '[units]\ncost = "price"\n'
        '[scoring]\nmethod = "best"\n'
        '[demand]\nneed_weights = { pop_over_90 = 2.0 }\n'
        '[selection]\nexclude = ["SYN-LAB-9999"]\nfloors = { NOWHERE = 0.5 }\n',
    )
    res = cli("validate", path, "--json")
    assert res.code == 2
    problems = "\n".join(res.json()["problems"])
    assert "missing column 'price'" in problems
    assert "pop_over_90" in problems
    assert "key 'scoring.method'" in problems
    assert "key 'selection.exclude': expected ids of units in the units file" in problems
    assert "key 'selection.floors': expected region ids" in problems


def test_must_keep_below_min_score_is_reported(cli, tmp_path):
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "k"\n[selection]\nbudget = 1e9\nmust_keep = "contracted"\nmin_score = 0.5\n',
    )
    res = cli("validate", path)
    assert res.code == 2
    assert "key 'selection.must_keep': expected must-keep units that reach selection.min_score = 0.5" in res.stderr


def test_unknown_key_in_a_section_is_reported_with_the_allowed_keys(cli, tmp_path):
    path = write_scenario(tmp_path, f'extends = "{DEMO.as_posix()}"\nname = "k"\n[selection]\nbudjet = 5\n')
    res = cli("validate", path)
    assert res.code == 2
    assert "key 'selection.budjet': unknown key; expected one of assignment, budget, capacity, exclude" in res.stderr


def test_unreadable_scenario_is_a_problem_in_json(cli, tmp_path):
    bad = write_scenario(tmp_path, 'name = "x"\n[units\n')
    res = cli("validate", bad, "--json")
    assert res.code == 2
    doc = res.json()
    assert doc["valid"] is False
    assert doc["problems"] == [f"{bad.resolve()}: expected valid TOML: Expected ']' at the end of a table declaration (at line 2, column 7)"]


def test_every_missing_column_and_file_names_its_key(cli, tmp_path):
    """Each column a scenario names but its file lacks is reported with the key naming it,
    all at once (the population, a need group, the cost, a criterion), and a missing
    travel table names ``travel.file``."""
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "bad-columns"\n'
        '[units]\ncost = "price"\n'
        '[demand]\npopulation = "people"\nneed_weights = { kids = 2.0 }\n'
        '[criteria]\ncolumns = ["demographic", "nonexistent"]\n'
        '[travel]\nfile = "times.csv"\nmax_distance = 30\n',
    )
    res = cli("validate", path, "--json")
    assert res.code == 2
    problems = res.json()["problems"]
    expected = (
        "key 'demand.population': expected a column 'people' in the demand file",
        "key 'demand.need_weights.kids': expected a column 'kids' in the demand file",
        "key 'units.cost': missing column 'price'",
        "key 'criteria.columns': missing column 'nonexistent'",
        "key 'travel.file': expected an existing travel file",
    )
    for text in expected:
        assert sum(text in p for p in problems) == 1, (text, problems)
    assert len(problems) == len(expected)


def test_a_shipped_scenario_by_name_and_an_unknown_name(cli, tmp_path, monkeypatch):
    """``demo`` names the shipped demo from any folder; an unknown name says what is expected."""
    monkeypatch.chdir(tmp_path)
    res = cli("validate", "demo", "--json")
    assert res.code == 0 and res.json()["units"] == 156
    res = cli("validate", "nosuch")
    assert res.code == 2
    assert "expected a scenario TOML file, a folder holding scenario.toml or the name of a shipped scenario" in res.stderr


def _units_with_capacity(tmp_path, values):
    """A copy of the demo's units with the capacity column replaced by ``values`` (text)."""
    import pandas as pd

    units = pd.read_csv(DEMO.parent / "data" / "units.csv", dtype=str, keep_default_na=False)
    units["capacity"] = values(units)
    path = tmp_path / "units.csv"
    units.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (lambda u: ["-5"] + list(u["capacity"][1:]), "row 1, column 'capacity': expected a number >= 0, found -5"),
        (lambda u: list(u["capacity"][:3]) + ["lots"] + list(u["capacity"][4:]), "row 4, column 'capacity': expected a number, found 'lots'"),
        (lambda u: list(u["capacity"][:7]) + [""] * (len(u) - 7), "row 8, column 'capacity': expected a number, found an empty value (also in 148 more rows: 9, 10, 11, 12, 13, ...)"),
        (lambda u: list(u["capacity"][:2]) + ["nan"] + list(u["capacity"][3:]), "row 3, column 'capacity': expected a number, found an empty value"),
    ],
)
def test_bad_capacities_name_file_row_and_column(cli, tmp_path, values, expected):
    """Negative, non-numeric, missing (capacity given for some units only) and NaN
    capacities: exit 2, the message names the units file, the row and the column."""
    units = _units_with_capacity(tmp_path, values)
    path = write_scenario(tmp_path, f'extends = "{DEMO.as_posix()}"\nname = "cap"\n[units]\nfile = "{units.as_posix()}"\n')
    res = cli("validate", path)
    assert res.code == 2
    assert "units.csv" in res.stderr and expected in res.stderr


def test_bad_use_rates_are_reported(cli, tmp_path):
    """A rate for a service no unit offers (capacity in another service than the volume),
    a negative rate, a group column the demand lacks, rates without any capacity."""
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "rates"\n'
        "[demand]\nuse_rates = { dental = 1.0, lab = 2.0 }\ngroup_use_rates = { pop_over_90 = { lab = 4.0 }, pop_over_60 = { xray = 1.0 } }\n",
    )
    res = cli("validate", path, "--json")
    assert res.code == 2
    problems = "\n".join(res.json()["problems"])
    assert "key 'demand.use_rates': expected services among ['imaging', 'lab']" in problems and "dental" in problems
    assert "demand.group_use_rates.pop_over_90" in problems
    assert "key 'demand.group_use_rates.pop_over_60': expected services among" in problems
    negative = write_scenario(tmp_path / "neg", f'extends = "{DEMO.as_posix()}"\nname = "neg"\n[demand]\nuse_rates = {{ lab = -2.0 }}\n')
    res = cli("validate", negative)
    assert res.code == 2 and "demand.use_rates.lab" in res.stderr
    off = write_scenario(tmp_path / "off", f'extends = "{DEMO.as_posix()}"\nname = "off"\n[selection]\ncapacity = false\n')
    assert cli("validate", off).code == 0


def test_capacity_floor_infeasible_is_explained(cli, tmp_path):
    """A floor the contracted capacity cannot serve is infeasible, and the explanation says
    what to relax (the floor, or more budget for capacity)."""
    path = write_scenario(
        tmp_path,
        f'extends = "{DEMO.as_posix()}"\nname = "cap-floor"\n[selection]\nfloors = 0.6\ntime_limit = 60\n[outputs]\nreport = false\ngpkg = false\n',
    )
    res = cli("run", path, "--out", tmp_path / "out", "--quiet")
    assert res.code == 2
    assert "floor" in res.stderr and ("budget" in res.stderr or "lower the floor" in res.stderr)
    assert not (tmp_path / "out").exists()


def test_unknown_solver_plain_csv_regions_and_infeasible_json(cli, tmp_path):
    """Issue reports: an unknown solver passed validate; a plain CSV as regions crashed
    ('DataFrame' object has no attribute 'crs'); ``run --json`` printed nothing when the
    scenario was infeasible."""
    solver = write_scenario(tmp_path / "solver", f'extends = "{DEMO.as_posix()}"\nname = "s"\n[selection]\nsolver = "gurobi-9000"\n')
    res = cli("validate", solver)
    assert res.code == 2 and "key 'selection.solver': expected a solver among 'highs', 'cbc'" in res.stderr
    table = tmp_path / "regions.csv"
    table.write_text("region_id,name\nA,Alpha\n", encoding="utf-8")
    regions = write_scenario(tmp_path / "regions", f'extends = "{DEMO.as_posix()}"\nname = "r"\n[regions]\nfile = "{table.as_posix()}"\n')
    res = cli("validate", regions)
    assert res.code == 2 and "regions.csv" in res.stderr and "found a table without geometry" in res.stderr
    assert "Traceback" not in res.stderr
    impossible = write_scenario(tmp_path / "inf", f'extends = "{DEMO.as_posix()}"\nname = "inf"\n[selection]\nbudget = 1000\nfloors = 1.0\ncapacity = false\n')
    res = cli("run", impossible, "--out", tmp_path / "out", "--json")
    assert res.code == 2
    doc = res.json()
    assert doc["status"] == "infeasible" and "floor" in doc["message"] and doc["explanation"]
    assert not (tmp_path / "out").exists()

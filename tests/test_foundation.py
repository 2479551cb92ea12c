"""The shared validators, error messages and CLI error policy."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.output import atomic_directory, to_jsonable
from optimizer.validation import boolean_column, id_column, numeric_column, read_table


def test_input_error_names_file_row_column():
    err = InputError("expected a number", file="u.csv", row=4, column="cost", found="x")
    assert str(err) == "u.csv: row 4, column 'cost': expected a number, found 'x'"


def test_numeric_column_reports_first_bad_row():
    df = pd.DataFrame({"cost": ["1", "2", "abc", "4"]})
    with pytest.raises(InputError, match=r"u.csv: row 3, column 'cost': expected a number, found 'abc'"):
        numeric_column(df, "cost", file="u.csv")
    df = pd.DataFrame({"cost": [1.0, -2.0]})
    with pytest.raises(InputError, match=r"row 2.*expected a number >= 0"):
        numeric_column(df, "cost", file="u.csv", minimum=0)
    df = pd.DataFrame({"cost": [1.0, float("inf")]})
    with pytest.raises(InputError, match="finite"):
        numeric_column(df, "cost")


def test_id_column_rejects_duplicates_and_blanks():
    with pytest.raises(InputError, match=r"row 3, column 'unit_id': duplicate id \(first seen in row 1\)"):
        id_column(pd.DataFrame({"unit_id": ["a", "b", "a"]}), "unit_id")
    with pytest.raises(InputError, match="non-empty id"):
        id_column(pd.DataFrame({"unit_id": ["a", None]}), "unit_id")
    assert list(id_column(pd.DataFrame({"unit_id": [1, 2]}), "unit_id")) == ["1", "2"]


def test_boolean_column_parses_flags():
    df = pd.DataFrame({"f": ["yes", "0", None, "TRUE"]})
    assert boolean_column(df, "f").tolist() == [True, False, False, True]
    with pytest.raises(InputError, match="true/false"):
        boolean_column(pd.DataFrame({"f": ["maybe"]}), "f")


def test_read_table_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="no data rows"):
        read_table(tmp_path / "header.csv")


def test_atomic_directory_never_overwrites(tmp_path):
    target = tmp_path / "run"
    with atomic_directory(target) as d:
        (d / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(InputError, match="already exists"), atomic_directory(target):
        pass
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "failed") as d:
        (d / "half.txt").write_text("x")
        raise RuntimeError("boom")
    assert not (tmp_path / "failed").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_to_jsonable_handles_numpy_and_nan():
    import numpy as np

    assert to_jsonable({"a": np.int64(3), "b": np.float64("nan"), "c": np.array([1.5])}) == {
        "a": 3,
        "b": None,
        "c": [1.5],
    }


def test_cli_without_arguments_shows_help(cli):
    res = cli()
    assert res.code in (0, 2)
    assert "Usage" in res.stdout + res.stderr


def test_numpy_scalars_print_as_plain_values():
    df = pd.DataFrame({"population": [5, -3]})
    with pytest.raises(InputError, match=r"found -3$"):
        numeric_column(df, "population", minimum=0)


def test_atomic_directory_unwritable_parent_is_a_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="could not write the output folder"), atomic_directory(blocker / "run"):
        pass


def test_atomic_file_replaces_only_on_success(tmp_path):
    from optimizer.output import atomic_file

    target = tmp_path / "t.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with atomic_file(target) as tmp:
        assert tmp.suffix == ".csv"
        tmp.write_text("new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with pytest.raises(InputError, match="--force"), atomic_file(target, force=False):
        pass

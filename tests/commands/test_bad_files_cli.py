"""Every file-reading command of the scoring and panel areas on unusable files.

An empty file, a file with only a header, a directory, a missing file: exit status 2, a
message naming the file, nothing on standard output and no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

HEADERS = {
    "score": "unit_id,a,b\n",
    "compare": "unit_id,a,b\n",
    "weights ahp": "criterion,a,b\n",
    "panel delphi": "round,expert,factor,rating\n",
    "panel rank": "respondent,a,b\n",
    "panel ahp": "criterion,a,b\n",
}


def _argv(command: str, path: Path) -> list:
    argv = command.split()
    if command == "panel ahp":  # needs two experts: the bad file comes second
        return [*argv, EXAMPLES / "panel" / "ahp_expert1.csv", path]
    return [*argv, path]


@pytest.mark.parametrize("command", list(HEADERS))
@pytest.mark.parametrize("kind", ["empty", "header only", "directory", "missing"])
def test_unusable_file_exits_2_naming_it(cli, tmp_path, command, kind):
    path = tmp_path / "input.csv"
    if kind == "empty":
        path.write_text("")
    elif kind == "header only":
        path.write_text(HEADERS[command])
    elif kind == "directory":
        path.mkdir()
    res = cli(*_argv(command, path), "--json")
    assert res.code == 2, (res.stdout, res.stderr)
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    assert "input.csv" in res.stderr
    expected = {
        "empty": "empty",
        "header only": "no data rows" if command in ("score", "compare", "panel delphi", "panel rank") else "0 rows",
        "directory": "found a directory",
        "missing": "does not exist",
    }[kind]
    assert expected in res.stderr

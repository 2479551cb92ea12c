"""`optimizer panel ...`: the CLI contract (JSON keys, exports, exit status 2 on bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
PANEL = ROOT / "examples" / "panel"


# --------------------------------------------------------------------------- sample-size
def test_sample_size_paper(cli):
    """Seed 002: Cochran's n0 = 384.16 (Z = 1.96, p = 0.5, e = 0.05); 385 questionnaires."""
    res = cli("panel", "sample-size", "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    assert out["n0"] == 384.16 and out["n"] == 384.16
    assert out["z"] == 1.96 and out["questionnaires"] == 385


def test_sample_size_population_and_response_rate(cli):
    """N = 1000: n = 384.16 / 1.38316 = 277.74 -> 278 usable; at a 0.8 response rate
    distribute ceil(278 / 0.8) = ceil(347.5) = 348."""
    out = cli("panel", "sample-size", "--population", 1000, "--response-rate", 0.8, "--json").json()
    assert out["n"] == pytest.approx(277.7408, abs=1e-4)
    assert out["questionnaires"] == 278 and out["distribute"] == 348
    out = cli("panel", "sample-size", "--usable", 385, "--distributed", 451, "--json").json()
    assert out["response_rate_needed"] == pytest.approx(385 / 451)
    out = cli("panel", "sample-size", "--exact-z", "--json").json()
    assert out["n0"] == pytest.approx(384.1459, abs=1e-4)


def test_sample_size_bad_option(cli):
    res = cli("panel", "sample-size", "--margin", 0, "--json")
    assert res.code == 2 and "margin of error" in res.stderr and res.stdout == ""


def test_sample_size_table_output(cli):
    res = cli("panel", "sample-size")
    assert res.code == 0 and "384.16" in res.stdout and "385" in res.stdout


# --------------------------------------------------------------------------- delphi
def test_delphi_example_json_and_export(cli, tmp_path):
    w = tmp_path / "w.json"
    res = cli("panel", "delphi", PANEL / "delphi.csv", "--export", w, "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    assert out["rounds"] == [1, 2, 3]
    assert len(out["factors"]) == 30
    first = out["factors"][0]
    assert {"round", "factor", "median", "iqr", "agreement", "cv", "verdict", "consensus"} <= set(first)
    assert [k["round"] for k in out["kendall"]] == [1, 2, 3]
    assert {"w", "chi2", "df", "pvalue"} <= set(out["kendall"][0])
    assert len(out["stability"]) == 20
    assert out["stop"]["stop"] is True and "stable between rounds 2 and 3" in out["stop"]["reason"]
    assert out["export"] == str(w)
    data = json.loads(w.read_text())
    assert data["weights"] == pytest.approx(out["weights"])
    assert data["provenance"]["rounds"] == [1, 2, 3]
    assert "75%" in data["provenance"]["rule"]


def test_delphi_statistics_match_an_independent_computation(cli):
    """Recompute round 3 of the example with pandas/numpy/scipy directly."""
    df = pd.read_csv(PANEL / "delphi.csv")
    out = cli("panel", "delphi", PANEL / "delphi.csv", "--json").json()
    got = {(r["round"], r["factor"]): r for r in out["factors"]}
    for (rnd, factor), g in df.groupby(["round", "factor"]):
        v = g["rating"].to_numpy(float)
        q1, q3 = np.percentile(v, [25, 75])
        r = got[(rnd, factor)]
        assert r["median"] == np.median(v) and r["iqr"] == pytest.approx(q3 - q1)
        assert r["agreement"] == pytest.approx((v >= 4).mean())
    wide = df[df["round"] == 1].pivot(index="expert", columns="factor", values="rating")
    chi2 = stats.friedmanchisquare(*wide.to_numpy(float).T).statistic
    assert out["kendall"][0]["w"] == pytest.approx(chi2 / (10 * 9))
    a = df[(df["round"] == 1) & (df["factor"] == "Specialization")].set_index("expert")["rating"]
    b = df[(df["round"] == 2) & (df["factor"] == "Specialization")].set_index("expert")["rating"]
    stab = next(s for s in out["stability"] if s["from_round"] == 1 and s["factor"] == "Specialization")
    assert stab["pvalue"] == pytest.approx(stats.wilcoxon(b.loc[a.index] - a).pvalue)


def test_delphi_then_score_with_the_survey_weights(cli, tmp_path):
    """The docs walk: Delphi -> weights file -> `optimizer score --weights survey:FILE`."""
    w = tmp_path / "w.json"
    assert cli("panel", "delphi", PANEL / "delphi.csv", "--export", w, "--json").code == 0
    res = cli("score", ROOT / "examples" / "units.csv", "--weights", f"survey:{w}", "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    exported = json.loads(w.read_text())["weights"]
    assert out["weights"]["demographic"] == pytest.approx(exported["Demographic factors"])
    assert sum(out["weights"].values()) == pytest.approx(1.0)


def test_delphi_table_output(cli):
    res = cli("panel", "delphi", PANEL / "delphi.csv")
    assert res.code == 0 and "Kendall's W per round" in res.stdout and "stop: yes" in res.stdout


def _write(tmp_path, text: str, name: str = "rounds.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "round,expert,factor,rating\n" + "".join(
    f"{r},{e},{f},{v}\n" for r in (1, 2) for e, v in (("e1", 4), ("e2", 5), ("e3", 3)) for f in ("A", "B")
)


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda t: t.replace("1,e1,A,4", "1,e1,A,9"), "row 1, column 'rating': expected a rating on the scale 1-5, found 9"),
        (lambda t: t.replace("1,e1,A,4", "1,e1,A,high"), "row 1, column 'rating': expected a number, found 'high'"),
        (lambda t: t.replace("1,e1,A,4\n", ""), "expert 'e1' did not rate factor 'A' in round 1"),
        (lambda t: t + "1,e1,A,4\n", "duplicate rating of factor 'A' by expert 'e1' in round 1"),
        (lambda t: "".join(x for x in t.splitlines(True) if ",e2," not in x and ",e3," not in x), "expected at least 2 experts in round 1"),
        (lambda t: "".join(x for x in t.splitlines(True) if not x.startswith("2,")), "expected at least 2 rounds to judge stability"),
        (lambda t: t.replace("rating", "score"), "missing column 'rating'"),
    ],
)
def test_delphi_bad_input_exit_2(cli, tmp_path, edit, pattern):
    p = _write(tmp_path, edit(GOOD))
    res = cli("panel", "delphi", p, "--json")
    assert res.code == 2, res.stdout
    assert res.stdout == ""
    assert "rounds.csv" in res.stderr
    assert pattern in " ".join(res.stderr.split())


def test_delphi_single_round_flag_and_scale_option(cli, tmp_path):
    one = "".join(x for x in GOOD.splitlines(True) if not x.startswith("2,"))
    res = cli("panel", "delphi", _write(tmp_path, one), "--single-round", "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    assert out["stability"] == [] and "stability needs at least 2 rounds" in out["stop"]["reason"]
    res = cli("panel", "delphi", _write(tmp_path, GOOD.replace("1,e1,A,4", "1,e1,A,7")), "--scale", "1-7", "--agree-threshold", 5, "--json")
    assert res.code == 0, res.stderr
    assert res.json()["rules"]["scale"] == [1.0, 7.0]
    res = cli("panel", "delphi", _write(tmp_path, GOOD), "--scale", "five")
    assert res.code == 2 and "rating scale" in res.stderr


def test_delphi_export_without_weights_is_an_error(cli, tmp_path):
    p = _write(tmp_path, GOOD.replace(",5\n", ",3\n").replace(",4\n", ",3\n"))
    res = cli("panel", "delphi", p, "--accepted-only", "--json")
    assert res.code == 0 and res.json()["weights"] is None
    res = cli("panel", "delphi", p, "--accepted-only", "--export", tmp_path / "w.json", "--json")
    assert res.code == 2 and "no factor is accepted" in res.stderr
    assert not (tmp_path / "w.json").exists()


def test_delphi_export_does_not_overwrite(cli, tmp_path):
    w = tmp_path / "w.json"
    p = _write(tmp_path, GOOD)
    assert cli("panel", "delphi", p, "--export", w, "--json").code == 0
    res = cli("panel", "delphi", p, "--export", w, "--json")
    assert res.code == 2 and "already exists" in res.stderr
    assert cli("panel", "delphi", p, "--export", w, "--force", "--json").code == 0


# --------------------------------------------------------------------------- rank
def test_rank_example(cli, tmp_path):
    w = tmp_path / "r.json"
    res = cli("panel", "rank", PANEL / "responses.csv", "--export", w, "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    df = pd.read_csv(PANEL / "responses.csv").set_index("respondent")
    ref = stats.friedmanchisquare(*df.to_numpy(float).T)
    assert out["friedman"]["statistic"] == pytest.approx(float(ref.statistic))
    assert out["friedman"]["pvalue"] == pytest.approx(float(ref.pvalue), rel=1e-6)
    assert out["kendall_w"] == pytest.approx(float(ref.statistic) / (len(df) * 9))
    ranks = stats.rankdata(df.to_numpy(float), axis=1).mean(axis=0)
    assert list(out["mean_ranks"].values()) == pytest.approx(list(ranks))
    assert sum(out["mean_ranks"].values()) == pytest.approx(55.0)  # k (k + 1) / 2
    assert out["rank"]["demographic"] == 1
    assert out["weights"]["demographic"] == pytest.approx(out["mean_ranks"]["demographic"] / 55.0)
    means = df.mean()
    assert out["weights_from_means"]["external"] == pytest.approx(means["external"] / means.sum())
    assert json.loads(w.read_text())["provenance"]["method"].startswith("friedman")


def test_rank_weights_from_means_export(cli, tmp_path):
    w = tmp_path / "m.json"
    out = cli("panel", "rank", PANEL / "responses.csv", "--weights-from", "means", "--export", w, "--json").json()
    assert json.loads(w.read_text())["weights"] == pytest.approx(out["weights_from_means"])


@pytest.mark.parametrize(
    ("text", "args", "pattern"),
    [
        ("respondent,a,b\nR1,1,2\nR2,x,3\n", (), "row 2, column 'a': expected a number, found 'x'"),
        ("respondent,a,b\nR1,1,2\nR2,,3\n", (), "row 2, column 'a': expected a number, found an empty value"),
        ("respondent,a,b\nR1,1,2\nR2,6,3\n", ("--scale", "1-5"), "row 2, column 'a': expected a rating on the scale 1-5"),
        ("respondent,a,b\nR1,1,2\n", (), "expected ratings from at least 2 respondents"),
        ("respondent,a\nR1,1\nR2,2\n", (), "expected at least 2 dimension columns"),
        ("respondent,a,b\nR1,1,2\nR2,2,3\n", ("--columns", "a,z"), "missing column 'z'"),
        ("respondent,a,b\nR1,1,2\nR2,2,3\n", ("--weights-from", "votes"), "expected --weights-from ranks or means"),
    ],
)
def test_rank_bad_input_exit_2(cli, tmp_path, text, args, pattern):
    p = _write(tmp_path, text, "responses.csv")
    res = cli("panel", "rank", p, *args, "--json")
    assert res.code == 2, res.stdout
    assert pattern in " ".join(res.stderr.split())


# --------------------------------------------------------------------------- ahp
def test_panel_ahp_example(cli, tmp_path):
    files = [PANEL / f"ahp_expert{i}.csv" for i in (1, 2, 3)]
    w = tmp_path / "a.json"
    res = cli("panel", "ahp", *files, "--names", "ana,ben,cyrus", "--export", w, "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert [e["expert"] for e in out["experts"]] == ["ana", "ben", "cyrus"]
    for e in out["experts"]:
        ew = np.array(list(out["expert_weights"][e["expert"]].values()))
        gw = np.array(list(out["weights"].values()))
        assert e["euclidean"] == pytest.approx(float(np.sqrt(((ew - gw) ** 2).sum())))
        assert 0 <= e["cr"] < 0.1
    # cyrus puts external far above demographic: the largest distance from the group
    dist = {e["expert"]: e["euclidean"] for e in out["experts"]}
    assert max(dist, key=dist.get) in ("ben", "cyrus")
    data = json.loads(w.read_text())
    assert data["weights"] == pytest.approx(out["weights"])
    assert len(data["provenance"]["source_files"]) == 3


def test_panel_ahp_bad_input_exit_2(cli, tmp_path):
    one = PANEL / "ahp_expert1.csv"
    res = cli("panel", "ahp", one, "--json")
    assert res.code == 2 and "at least 2 experts" in res.stderr
    res = cli("panel", "ahp", one, one, "--names", "a", "--json")
    assert res.code == 2 and "expected 2 expert names" in res.stderr
    bad = _write(tmp_path, "c,x,y\nx,1,3\ny,1/2,1\n", "bad.csv")
    res = cli("panel", "ahp", one, bad, "--json")
    assert res.code == 2 and "reciprocal" in res.stderr


def test_rank_and_ahp_tables_without_json(cli):
    """Readable output: every name in full (no '…' cut), weights with 4 decimals, ints as ints."""
    res = cli("panel", "rank", PANEL / "responses.csv")
    assert res.code == 0, res.stderr
    assert "│ demographic     │     7.875 │    1 │       4.325 │ 0.1432 │" in res.stdout
    assert "Kendall's W = 0.2807" in res.stdout and "…" not in res.stdout
    res = cli("panel", "ahp", *[PANEL / f"ahp_expert{i}.csv" for i in (1, 2, 3)])
    assert res.code == 0, res.stderr
    assert "ahp_expert1" in res.stdout and "demographic" in res.stdout and "…" not in res.stdout
    res = cli("panel", "delphi", PANEL / "delphi.csv")
    assert "│ 1     │      10 │      10 │ 0.2964 │ 26.6792 │  9 │    0.0016 │" in res.stdout

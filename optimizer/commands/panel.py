"""CLI: ``optimizer panel`` — from an expert panel's or a survey's answers to weights.

* ``optimizer panel sample-size [--confidence 0.95] [--p 0.5] [--margin 0.05]
  [--population N] [--response-rate R] [--usable N] [--distributed M] [--json]``:
  Cochran's sample size (n0, n, questionnaires, what to distribute).
* ``optimizer panel delphi ROUNDS.csv [--agree-threshold 4] [--min-agreement 0.75]
  [--max-iqr 1] [--scale 1-5] [--export W.json] [--json]``: Delphi statistics,
  consensus, Kendall's W, stability and the stopping rule.
* ``optimizer panel rank RESPONSES.csv [--export W.json] [--json]``: Friedman ranking,
  Kendall's W and weights (the paper's Table 5).
* ``optimizer panel ahp M1.csv M2.csv ... [--names a,b,c] [--export W.json] [--json]``:
  group AHP with each expert's CR and dissent.

``--export`` writes a weight spec usable as ``--weights survey:W.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from optimizer.commands.score import show_warnings
from optimizer.errors import InputError
from optimizer.mcdm.delphi import DelphiResult, DelphiRules, analyze_delphi_file
from optimizer.mcdm.panel import export_weights, make_provenance, panel_ahp_files
from optimizer.mcdm.survey import (
    RankResult,
    cochran_sample_size,
    parse_scale,
    rank_dimensions,
    read_responses,
)
from optimizer.output import emit_json, to_jsonable
from optimizer.validation import parse_columns_option

panel_app = typer.Typer(
    help="Expert panels and surveys: sample size, Delphi rounds, Friedman ranking, panel AHP -> weights.",
    no_args_is_help=True,
)

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

ExportOpt = Annotated[
    Path | None,
    typer.Option("--export", help="Write the weights with their provenance to this JSON file (use as --weights survey:FILE). Default: no file."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing --export file. Default: refuse.")]
PanelOpt = Annotated[
    str | None, typer.Option("--panel", help="Describe the panel in the exported provenance. Default: the input file name.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on standard output.")]


def _table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    """Text columns left-aligned, as wide as their longest word and never cut; numbers right-aligned."""
    table = Table(title=title)
    cells = [[_fmt(v) for v in r] for r in rows]
    first = rows[0] if rows else []
    for i, c in enumerate(columns):
        text = i < len(first) and isinstance(first[i], str | bool)
        longest_word = max((len(w) for row in cells for w in row[i].split()), default=0)
        table.add_column(c, justify="left" if text or i == 0 else "right", overflow="fold", min_width=min(longest_word, 24))
    for r in cells:
        table.add_row(*r)
    return table


def _rows(df) -> list[list[object]]:
    """A frame's rows as lists, each cell keeping its column's type (ints stay ints)."""
    return [list(r) for r in df.itertuples(index=False)]


def _fmt(v: object) -> str:
    """Floats with up to 4 decimals (trailing zeros dropped); tiny or huge ones (p-values) with
    4 significant digits.

    >>> _fmt(0.0902272), _fmt(7.465e-13), _fmt(26.679), _fmt(1.5), _fmt(0.0), _fmt(float("nan")), _fmt(3)
    ('0.0902', '7.465e-13', '26.679', '1.5', '0', '-', '3')
    """
    if isinstance(v, float):
        if v != v:
            return "-"
        if v == 0 or 1e-3 <= abs(v) < 1e6:
            return f"{v:.4f}".rstrip("0").rstrip(".")
        return f"{v:.4g}"
    return str(v)


def _export(path: Path | None, weights, provenance: dict, force: bool) -> str | None:
    if path is None:
        return None
    export_weights(path, weights, provenance, force=force)
    _err.print(f"wrote {path} (use it as --weights survey:{path})", markup=False)
    return str(path)


# --------------------------------------------------------------------------- sample-size
@panel_app.command("sample-size")
def sample_size_cmd(
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level. Default 0.95.")] = 0.95,
    p: Annotated[float, typer.Option("--p", help="Expected proportion p (q = 1 - p). Default 0.5 (largest sample).")] = 0.5,
    margin: Annotated[float, typer.Option("--margin", help="Margin of error e. Default 0.05.")] = 0.05,
    population: Annotated[
        int | None, typer.Option("--population", help="Population size N for the finite-population correction. Default: none (infinite).")
    ] = None,
    z: Annotated[float | None, typer.Option("--z", help="Use this Z instead of the one from --confidence. Default: from --confidence.")] = None,
    exact_z: Annotated[
        bool, typer.Option("--exact-z", help="Use the unrounded normal quantile (1.959964 for 95 %). Default: Z rounded to 2 decimals (1.96), as printed tables.")
    ] = False,
    response_rate: Annotated[
        float | None, typer.Option("--response-rate", help="Expected share of usable answers, in (0, 1]: gives the number to distribute. Default: none.")
    ] = None,
    usable: Annotated[
        int | None, typer.Option("--usable", help="Target number of usable answers. Default: the computed sample size (ceil n).")
    ] = None,
    distributed: Annotated[
        int | None, typer.Option("--distributed", help="Questionnaires you can distribute: gives the response rate needed. Default: none.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Cochran's sample size: n0 = Z^2 p q / e^2, n = n0 / (1 + (n0 - 1) / N)."""
    s = cochran_sample_size(
        confidence,
        p,
        margin,
        population=population,
        z=z,
        exact_z=exact_z,
        response_rate=response_rate,
        usable=usable,
        distributed=distributed,
    )
    if json_out:
        emit_json(s.to_dict())
        return
    rows = [
        ["Z", f"{s.z:g} ({s.z_source})"],
        ["n0 = Z^2 p q / e^2", f"{s.n0:.2f}"],
        ["n (finite-population corrected)" if s.population else "n (no population given)", f"{s.n:.2f}"],
        ["questionnaires (usable answers, ceil n)", s.questionnaires],
    ]
    if s.distribute is not None:
        rows.append([f"to distribute for {s.usable} usable at {s.response_rate:.0%}", s.distribute])
    if s.response_rate_needed is not None:
        rows.append([f"response rate needed for {s.usable} of {s.distributed}", f"{s.response_rate_needed:.1%}"])
    _out.print(_table("Cochran sample size", ["quantity", "value"], rows))


# --------------------------------------------------------------------------- delphi
def delphi_to_dict(result: DelphiResult) -> dict:
    """JSON-ready Delphi report."""
    return {
        "rounds": list(result.rounds),
        "rules": result.rules.to_dict(),
        "rule": result.rules.describe(),
        "factors": to_jsonable(result.factors.reset_index()),
        "kendall": to_jsonable(result.kendall.reset_index()),
        "stability": to_jsonable(result.stability.reset_index()),
        "stopping": to_jsonable(result.stopping.reset_index()),
        "stop": {"stop": result.stop, "round": result.rounds[-1], "reason": result.stop_reason},
        "weights": None if result.weights is None else to_jsonable(result.weights),
        "weights_method": "mean rating in each factor's latest round, normalized to sum 1",
        "notes": list(result.notes),
    }


@panel_app.command("delphi")
def delphi_cmd(
    rounds_file: Annotated[Path, typer.Argument(help="Long table: round, expert, factor, rating (one row each).")],
    agree_threshold: Annotated[float, typer.Option("--agree-threshold", help="A rating >= this agrees. Default 4.")] = 4.0,
    min_agreement: Annotated[float, typer.Option("--min-agreement", help="Share of agreeing experts for consensus. Default 0.75.")] = 0.75,
    max_iqr: Annotated[float, typer.Option("--max-iqr", help="Largest interquartile range for consensus. Default 1.")] = 1.0,
    scale: Annotated[str, typer.Option("--scale", help="Rating scale LOW-HIGH; ratings outside are errors. Default 1-5.")] = "1-5",
    reject_threshold: Annotated[
        float | None, typer.Option("--reject-threshold", help="A rating <= this disagrees. Default: LOW + HIGH - agree threshold (2 on 1-5).")
    ] = None,
    stability_tolerance: Annotated[
        float, typer.Option("--stability-tolerance", help="Largest change in agreement share between rounds for stability. Default 0.15.")
    ] = 0.15,
    alpha: Annotated[float, typer.Option("--alpha", help="Wilcoxon significance level; p >= alpha is stable. Default 0.05.")] = 0.05,
    single_round: Annotated[
        bool, typer.Option("--single-round", help="Allow a table with one round (no stability; stop only by consensus). Default: 2+ rounds required.")
    ] = False,
    accepted_only: Annotated[
        bool, typer.Option("--accepted-only", help="Only factors accepted in their latest round keep a weight. Default: every factor.")
    ] = False,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Names of the round,expert,factor,rating columns. Default: round,expert,factor,rating.")
    ] = None,
    export: ExportOpt = None,
    force: ForceOpt = False,
    panel: PanelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delphi rounds: per-factor median, IQR, agreement, CV; consensus; Kendall's W; stability; stop."""
    rules = DelphiRules(
        scale=parse_scale(scale),
        agree_threshold=agree_threshold,
        min_agreement=min_agreement,
        max_iqr=max_iqr,
        reject_threshold=reject_threshold,
        stability_tolerance=stability_tolerance,
        alpha=alpha,
    )
    result = analyze_delphi_file(
        rounds_file,
        rules,
        require_stability=not single_round,
        accepted_only=accepted_only,
        columns=parse_columns_option(columns),
    )
    prov = make_provenance(
        panel=panel or f"Delphi panel ({rounds_file.name})",
        method="delphi: mean rating in each factor's latest round, normalized"
        + ("; only accepted factors weighted" if accepted_only else ""),
        rounds=result.rounds,
        rule=rules.describe(),
        source_files=[rounds_file],
        extra={"stop": {"stop": result.stop, "reason": result.stop_reason}},
    )
    if export is not None and result.weights is None:
        raise InputError("expected weights to export; " + "; ".join(result.notes), file=rounds_file)
    written = _export(export, result.weights, prov, force)
    if json_out:
        out = delphi_to_dict(result)
        out["export"] = written
        emit_json(out)
        return
    _print_delphi(result)


def _print_delphi(result: DelphiResult) -> None:
    f = result.factors.reset_index()
    _out.print(
        _table(
            "Delphi: per factor and round",
            ["round", "factor", "median", "IQR", "agree", "disagree", "CV", "verdict"],
            _rows(f[["round", "factor", "median", "iqr", "agreement", "disagreement", "cv", "verdict"]]),
        )
    )
    k = result.kendall.reset_index()
    _out.print(_table("Kendall's W per round", ["round", "experts", "factors", "W", "chi2", "df", "p"], _rows(k)))
    if len(result.stability):
        s = result.stability.reset_index()
        cols = ["from_round", "to_round", "factor", "agreement_change", "pvalue", "stable"]
        _out.print(_table("Stability between rounds", ["from", "to", "factor", "change in agreement", "Wilcoxon p", "stable"], _rows(s[cols])))
    if result.weights is not None:
        _out.print(_table("Weights", ["factor", "weight"], [[k, float(v)] for k, v in result.weights.items()]))
    _out.print(f"stop: {'yes' if result.stop else 'no'} — {result.stop_reason}")
    for n in result.notes:
        _err.print(f"note: {n}", markup=False)


# --------------------------------------------------------------------------- rank
def rank_to_dict(result: RankResult) -> dict:
    """JSON-ready Friedman ranking."""
    c = result.concordance
    return {
        "n_respondents": c.n_raters,
        "n_dimensions": c.n_items,
        "friedman": {"statistic": c.statistic, "df": c.df, "pvalue": c.pvalue, "tie_correction": c.tie_correction},
        "kendall_w": c.w,
        "mean_ranks": to_jsonable(c.mean_ranks),
        "rank": to_jsonable(result.importance),
        "mean_ratings": to_jsonable(result.mean_ratings),
        "weights": to_jsonable(result.weights_from_ranks),
        "weights_from_means": None if result.weights_from_means is None else to_jsonable(result.weights_from_means),
        "ranking_direction": "ratings ranked ascending within each respondent (ties averaged): higher mean rank = more important, rank 1",
        "notes": list(result.notes),
    }


@panel_app.command("rank")
def rank_cmd(
    responses: Annotated[Path, typer.Argument(help="One row per respondent, one numeric column per dimension.")],
    id_col: Annotated[
        str | None, typer.Option("--id", help="Respondent id column. Default: 'respondent' if present, else rows are numbered.")
    ] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Dimension columns A,B,... Default: every other column.")] = None,
    scale: Annotated[str | None, typer.Option("--scale", help="Rating scale LOW-HIGH to check ratings against. Default: not checked.")] = None,
    weights_from: Annotated[
        str, typer.Option("--weights-from", help="Which weights --export writes: 'ranks' (mean ranks) or 'means' (mean ratings). Default ranks.")
    ] = "ranks",
    export: ExportOpt = None,
    force: ForceOpt = False,
    panel: PanelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Friedman test, mean ranks (the paper's Table 5), Kendall's W and weights of a questionnaire."""
    if weights_from not in ("ranks", "means"):
        raise InputError("expected --weights-from ranks or means", column="weights-from", found=weights_from)
    ratings = read_responses(
        responses, id_col=id_col, columns=parse_columns_option(columns), scale=None if scale is None else parse_scale(scale)
    )
    result = rank_dimensions(ratings)
    written = None
    if export is not None:
        weights = result.weights_from_ranks if weights_from == "ranks" else result.weights_from_means
        if weights is None:
            raise InputError("weights from rating means need non-negative ratings; use --weights-from ranks", file=responses)
        method = (
            "friedman: mean rank / sum of mean ranks" if weights_from == "ranks" else "survey: mean rating / sum of mean ratings"
        )
        prov = make_provenance(
            panel=panel or f"questionnaire ({responses.name}, {result.n_respondents} respondents)",
            method=method,
            rule="ratings ranked ascending within each respondent, ties averaged; higher mean rank = more important",
            source_files=[responses],
            extra={"friedman": {"statistic": result.concordance.statistic, "pvalue": result.concordance.pvalue, "kendall_w": result.concordance.w}},
        )
        written = _export(export, weights, prov, force)
    if json_out:
        out = rank_to_dict(result)
        out["export"] = written
        emit_json(out)
        return
    c = result.concordance
    rows = [
        [d, float(c.mean_ranks[d]), int(result.importance[d]), float(result.mean_ratings[d]), float(result.weights_from_ranks[d])]
        for d in c.mean_ranks.sort_values(ascending=False).index
    ]
    _out.print(_table(f"Friedman ranking ({c.n_raters} respondents)", ["dimension", "mean rank", "rank", "mean rating", "weight"], rows))
    _out.print(f"Friedman chi2 = {c.statistic:.4f}, df = {c.df}, p = {c.pvalue:.4g}; Kendall's W = {c.w:.4f}")
    for n in result.notes:
        _err.print(f"note: {n}", markup=False)


# --------------------------------------------------------------------------- ahp
@panel_app.command("ahp")
def ahp_cmd(
    matrices: Annotated[list[Path], typer.Argument(help="One pairwise comparison matrix CSV per expert (at least 2).")],
    names: Annotated[str | None, typer.Option("--names", help="Expert names a,b,c in file order. Default: the file names.")] = None,
    export: ExportOpt = None,
    force: ForceOpt = False,
    panel: PanelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Group AHP of a panel (geometric mean of the experts' matrices) with each expert's CR and dissent."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = panel_ahp_files(matrices, parse_columns_option(names))
    show_warnings(caught)
    g = result.group.group
    written = None
    if export is not None:
        prov = make_provenance(
            panel=panel or f"AHP panel of {len(matrices)} experts",
            method="group AHP: principal eigenvector of the element-wise geometric mean of the experts' matrices (AIJ)",
            rule=f"group CR = {g.cr:.4f} ({'consistent' if g.consistent else 'inconsistent'}, threshold 0.10)",
            source_files=matrices,
            extra={"experts": {n: {"cr": r.cr} for n, r in result.group.experts.items()}},
        )
        written = _export(export, g.weights, prov, force)
    if json_out:
        emit_json(
            {
                "weights": to_jsonable(g.weights),
                "lambda_max": g.lambda_max,
                "ci": g.ci,
                "cr": g.cr,
                "consistent": g.consistent,
                "experts": to_jsonable(result.dissent.reset_index()),
                "expert_weights": {n: to_jsonable(row) for n, row in result.weights.iterrows()},
                "warnings": [str(w.message) for w in caught],
                "export": written,
            }
        )
        return
    _out.print(_table("Group weights", ["criterion", "weight"], [[k, float(v)] for k, v in g.weights.items()]))
    _out.print(f"group: lambda_max = {g.lambda_max:.4f}, CR = {g.cr:.4f} ({'consistent' if g.consistent else 'INCONSISTENT'})")
    d = result.dissent.reset_index()
    cols = ["expert", "cr", "euclidean", "max_abs", "most_different", "spearman", "compatibility", "compatible"]
    _out.print("dissent: dist = Euclidean distance to the group weights, rho = Spearman, S = Saaty compatibility")
    _out.print(_table("Dissent from the group", ["expert", "CR", "dist", "max diff", "where", "rho", "S", "S<=1.1"], _rows(d[cols])))


def register(app: typer.Typer) -> None:
    """Register the ``panel`` command group on the app."""
    app.add_typer(panel_app, name="panel")

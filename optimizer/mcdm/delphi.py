"""Delphi rounds: per-factor statistics, consensus, stability, concordance, stopping rule.

The strategic-purchasing papers (seeds ``000_*.txt`` and ``001_*.txt``) approve or reject
factors by Delphi rounds. Input is a long table with one row per (round, expert,
factor) and a rating on a closed Likert scale (1-5 unless stated).

Per factor and round (ratings x_1..x_n of the n experts of that round):

- median; quartiles Q1, Q3 and IQR = Q3 - Q1 with **linear interpolation between order
  statistics** (numpy's default ``method="linear"``, Hyndman & Fan type 7, the same as
  R's default and Excel's QUARTILE.INC);
- agreement = share of ratings >= ``agree_threshold`` (default 4 on 1-5);
  disagreement = share of ratings <= ``reject_threshold`` (default low + high -
  agree_threshold, i.e. 2 on 1-5);
- mean, standard deviation (sample, n - 1) and coefficient of variation CV = sd / mean.

Verdicts (both thresholds configurable): a factor is **accepted** when agreement >=
``min_agreement`` (0.75) and IQR <= ``max_iqr`` (1); **rejected** when disagreement >=
``min_agreement`` and IQR <= ``max_iqr``; otherwise it has **no consensus**. Consensus
means accepted or rejected.

Stability between consecutive rounds r-1 -> r, per factor asked in both: the change in
agreement (r minus r-1) and the Wilcoxon signed-rank test (two-sided, zero differences
dropped; the same p-value as :func:`scipy.stats.wilcoxon`'s default, see
:func:`paired_wilcoxon`) on the paired ratings of the experts who rated the factor in
both rounds; when every paired difference is zero the statistic is 0 and p = 1. A factor is **stable** when
|change in agreement| <= ``stability_tolerance`` (0.15) and p >= ``alpha`` (0.05).

Concordance per round: Kendall's W across experts (each expert's ratings ranked over the
factors, ties averaged, tie-corrected) with chi2 = m (k - 1) W, df = k - 1 and its
p-value (:func:`optimizer.mcdm.survey.concordance`).

Stopping rule, checked after each round r: **stop** when every factor asked in round r
has consensus, or when every factor still without consensus in round r is stable
between rounds r-1 and r (their answers stopped moving over two consecutive rounds, so
another round is unlikely to bring consensus). A single round can only stop by
consensus; stability needs at least two rounds.

Weights: each factor's mean rating in the latest round it was asked, divided by the
sum over factors (optionally only accepted factors keep a weight).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.survey import LIKERT_5, Scale, check_scale, concordance, normalize_positive
from optimizer.validation import numeric_column, read_table, require_columns

ACCEPTED, REJECTED, NO_CONSENSUS = "accepted", "rejected", "no consensus"


@dataclass(frozen=True)
class DelphiRules:
    """The consensus, stability and stopping thresholds (defaults as in the docstring)."""

    scale: Scale = LIKERT_5
    agree_threshold: float = 4.0
    min_agreement: float = 0.75
    max_iqr: float = 1.0
    reject_threshold: float | None = None
    stability_tolerance: float = 0.15
    alpha: float = 0.05

    @property
    def reject_at(self) -> float:
        """Ratings <= this count as disagreement (default low + high - agree_threshold)."""
        if self.reject_threshold is not None:
            return self.reject_threshold
        return self.scale.low + self.scale.high - self.agree_threshold

    def describe(self) -> str:
        """The rule in words (kept in the exported weights' provenance)."""
        return (
            f"accepted: >= {self.min_agreement:.0%} of ratings >= {self.agree_threshold:g} and IQR <= {self.max_iqr:g}; "
            f"rejected: >= {self.min_agreement:.0%} of ratings <= {self.reject_at:g} and IQR <= {self.max_iqr:g}; "
            f"stable: |change in agreement| <= {self.stability_tolerance:g} and Wilcoxon p >= {self.alpha:g}; "
            f"stop: consensus on every factor, or every open factor stable over two consecutive rounds; "
            f"scale {self.scale}"
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["scale"] = [self.scale.low, self.scale.high]
        d["reject_threshold"] = self.reject_at
        return d

    def validate(self) -> None:
        """Raise if a threshold is outside the scale or a share outside [0, 1]."""
        lo, hi = self.scale.low, self.scale.high
        if not lo <= self.agree_threshold <= hi:
            raise InputError(f"expected an agreement threshold on the scale {self.scale}", column="agree_threshold", found=self.agree_threshold)
        if not lo <= self.reject_at <= hi:
            raise InputError(f"expected a rejection threshold on the scale {self.scale}", column="reject_threshold", found=self.reject_at)
        if self.reject_at >= self.agree_threshold:
            raise InputError("expected the rejection threshold below the agreement threshold", column="reject_threshold", found=self.reject_at)
        if not 0.0 < self.min_agreement <= 1.0:
            raise InputError("expected a minimum agreement share in (0, 1]", column="min_agreement", found=self.min_agreement)
        if not self.max_iqr >= 0:
            raise InputError("expected a maximum IQR >= 0", column="max_iqr", found=self.max_iqr)
        if not 0.0 <= self.stability_tolerance <= 1.0:
            raise InputError("expected a stability tolerance in [0, 1]", column="stability_tolerance", found=self.stability_tolerance)
        if not 0.0 < self.alpha < 1.0:
            raise InputError("expected a significance level alpha in (0, 1)", column="alpha", found=self.alpha)


@dataclass(frozen=True)
class DelphiRounds:
    """Validated Delphi ratings: a Series indexed by (round, expert, factor)."""

    ratings: pd.Series
    source: str | None = None

    @property
    def rounds(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.ratings.index.get_level_values("round").unique().sort_values())

    def round_table(self, r: int) -> pd.DataFrame:
        """Experts x factors ratings of round ``r`` (complete by validation)."""
        return self.ratings.xs(r, level="round").unstack("factor")


@dataclass(frozen=True)
class DelphiResult:
    """Everything a Delphi analysis reports (frames indexed as named in each field).

    ``factors``: index (round, factor); columns n, median, q1, q3, iqr, mean, sd, cv,
    agreement, disagreement, verdict, consensus.
    ``kendall``: index round; columns n_experts, n_factors, w, chi2, df, pvalue.
    ``stability``: index (from_round, to_round, factor); columns n_pairs, agreement_change,
    wilcoxon_statistic, pvalue, stable.
    ``stopping``: index round; columns stop (bool), reason.
    ``weights``: factor -> weight (mean rating in each factor's latest round, normalized);
    None (with a note) when no weight can be derived (negative means, or no accepted
    factor with ``accepted_only``).
    """

    rules: DelphiRules
    rounds: tuple[int, ...]
    factors: pd.DataFrame
    kendall: pd.DataFrame
    stability: pd.DataFrame
    stopping: pd.DataFrame
    weights: pd.Series | None
    notes: tuple[str, ...]

    @property
    def stop(self) -> bool:
        return bool(self.stopping["stop"].iloc[-1])

    @property
    def stop_reason(self) -> str:
        return str(self.stopping["reason"].iloc[-1])


# --------------------------------------------------------------------------- reading
def delphi_from_frame(
    df: pd.DataFrame,
    *,
    scale: Scale = LIKERT_5,
    round_col: str = "round",
    expert_col: str = "expert",
    factor_col: str = "factor",
    rating_col: str = "rating",
    file: str | Path | None = None,
) -> DelphiRounds:
    """Validate a long (round, expert, factor, rating) table into :class:`DelphiRounds`.

    Errors (file, row, column named): a missing column; a non-numeric, empty or
    non-integer round; an empty expert or factor; a non-numeric rating or one outside
    ``scale``; a duplicate (round, expert, factor); an expert of a round who did not rate
    every factor asked in that round; a round with fewer than 2 experts.
    """
    require_columns(df, [round_col, expert_col, factor_col, rating_col], file=file)
    rows = np.arange(1, len(df) + 1)
    rounds = numeric_column(df, round_col, file=file)
    not_int = rounds != np.round(rounds)
    if not_int.any():
        i = int(np.flatnonzero(not_int)[0])
        raise InputError("expected a whole round number", file=file, row=i + 1, column=round_col, found=df[round_col].iloc[i])
    labels = {}
    for col in (expert_col, factor_col):
        raw = df[col]
        text = raw.astype("string").str.strip()
        empty = (raw.isna() | (text == "")).to_numpy(dtype=bool)
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InputError("expected a non-empty name", file=file, row=i + 1, column=col)
        labels[col] = text.to_numpy(dtype=object)
    ratings = numeric_column(df, rating_col, file=file)
    check_scale(ratings, scale, file=file, column=rating_col)
    index = pd.MultiIndex.from_arrays(
        [rounds.astype(int), labels[expert_col], labels[factor_col]], names=["round", "expert", "factor"]
    )
    dup = index.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(index == index[i])[0])
        r, e, f = index[i]
        raise InputError(
            f"duplicate rating of factor {f!r} by expert {e!r} in round {r} (first in row {first + 1}); "
            "expected one rating per (round, expert, factor)",
            file=file,
            row=int(rows[i]),
        )
    series = pd.Series(ratings, index=index, name="rating").sort_index()
    for r in sorted(set(index.get_level_values("round"))):
        table = series.xs(r, level="round").unstack("factor")
        if len(table) < 2:
            raise InputError(f"expected at least 2 experts in round {r}", file=file, column=expert_col, found=list(table.index))
        missing = table.isna().to_numpy()
        if missing.any():
            i, j = (int(a[0]) for a in np.nonzero(missing))
            raise InputError(
                f"expert {table.index[i]!r} did not rate factor {table.columns[j]!r} in round {r}; "
                f"expected every expert of a round to rate every factor asked in it",
                file=file,
                column=factor_col,
            )
    return DelphiRounds(series, None if file is None else str(file))


def read_delphi(path: str | Path, *, scale: Scale = LIKERT_5, **columns: str) -> DelphiRounds:
    """Read and validate a Delphi rounds CSV/Parquet (columns: round, expert, factor, rating)."""
    ids = [columns.get("expert_col", "expert"), columns.get("factor_col", "factor")]
    df = read_table(path, id_columns=ids, what="Delphi rounds table")
    return delphi_from_frame(df, scale=scale, file=path, **columns)


# --------------------------------------------------------------------------- statistics
def factor_statistics(values: np.ndarray, rules: DelphiRules) -> dict:
    """Statistics and verdict of one factor in one round (ratings of its experts).

    >>> s = factor_statistics(np.array([3, 4, 4, 5, 5.0]), DelphiRules())
    >>> s["median"], s["iqr"], s["agreement"], s["verdict"]
    (4.0, 1.0, 0.8, 'accepted')
    """
    n = values.size
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75], method="linear")
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    agreement = float(np.mean(values >= rules.agree_threshold))
    disagreement = float(np.mean(values <= rules.reject_at))
    iqr = float(q3 - q1)
    if agreement >= rules.min_agreement and iqr <= rules.max_iqr:
        verdict = ACCEPTED
    elif disagreement >= rules.min_agreement and iqr <= rules.max_iqr:
        verdict = REJECTED
    else:
        verdict = NO_CONSENSUS
    return {
        "n": n,
        "median": float(med),
        "q1": float(q1),
        "q3": float(q3),
        "iqr": iqr,
        "mean": mean,
        "sd": sd,
        "cv": sd / mean if mean != 0 else math.nan,
        "agreement": agreement,
        "disagreement": disagreement,
        "verdict": verdict,
        "consensus": verdict != NO_CONSENSUS,
    }


#: Up to this many pairs (zero differences included) with ties, the exact permutation p-value is used
#: (the same threshold as :func:`scipy.stats.wilcoxon`'s ``method="auto"``).
EXACT_TIED_MAX = 13


def signed_rank_exact(d: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test by the exact sign-flip (permutation) distribution.

    Zero differences are dropped (Wilcoxon's convention); the |d| are ranked with ties
    averaged; under H0 each rank carries a + sign with probability 1/2, so R+ is a sum over
    a random subset of the (mid)ranks. Its distribution is counted by dynamic programming
    on doubled ranks (integers), p = min(1, 2 min(P(R+ <= r+), P(R+ >= r+))), statistic =
    min(R+, R-). This is the exhaustive permutation test scipy runs for tied data with at
    most 13 differences, in O(n sum(ranks)) instead of 2^n evaluations. Pure kernel.

    >>> signed_rank_exact(np.array([1.0, 1.0, 2.0, 0.0, -1.0]))
    (2.0, 0.5)
    """
    d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    doubled = np.rint(2 * ranks).astype(int)
    counts = np.zeros(1, dtype=float)
    counts[0] = 1.0
    for v in doubled:
        grown = np.zeros(counts.size + v)
        grown[: counts.size] += counts
        grown[v:] += counts
        counts = grown
    r_plus2 = int(np.rint(2 * ranks[d > 0].sum()))
    total = counts.sum()
    p_le = counts[: r_plus2 + 1].sum() / total
    p_ge = counts[r_plus2:].sum() / total
    r_plus = r_plus2 / 2
    r_minus = ranks.sum() - r_plus
    return float(min(r_plus, r_minus)), float(min(1.0, 2 * min(p_le, p_ge)))


def paired_wilcoxon(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank (statistic, p) of paired ratings; (0, 1) if all equal.

    Same result as ``scipy.stats.wilcoxon(after - before)`` (zero differences dropped):
    with ties or zeros and at most :data:`EXACT_TIED_MAX` pairs (zeros included) the exact
    permutation p-value (:func:`signed_rank_exact`, fast), otherwise scipy itself (exact
    distribution without ties up to 50 differences, normal approximation beyond).

    >>> paired_wilcoxon(np.array([3, 4, 5.0]), np.array([3, 4, 5.0]))
    (0.0, 1.0)
    """
    d = after - before
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 0.0, 1.0
    tied = nonzero.size != d.size or np.unique(np.abs(nonzero)).size != nonzero.size
    if tied and d.size <= EXACT_TIED_MAX:
        return signed_rank_exact(d)
    res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def _stability(data: DelphiRounds, prev: int, cur: int, factors: pd.DataFrame, rules: DelphiRules) -> list[dict]:
    a, b = data.round_table(prev), data.round_table(cur)
    out = []
    for f in [c for c in b.columns if c in a.columns]:
        common = a.index.intersection(b.index)
        change = float(factors.loc[(cur, f), "agreement"] - factors.loc[(prev, f), "agreement"])
        if len(common) == 0:
            stat, p = math.nan, math.nan
        else:
            stat, p = paired_wilcoxon(a.loc[common, f].to_numpy(float), b.loc[common, f].to_numpy(float))
        stable = bool(len(common) > 0 and abs(change) <= rules.stability_tolerance + 1e-12 and p >= rules.alpha)
        out.append(
            {
                "from_round": prev,
                "to_round": cur,
                "factor": f,
                "n_pairs": len(common),
                "agreement_change": change,
                "wilcoxon_statistic": stat,
                "pvalue": p,
                "stable": stable,
            }
        )
    return out


def _stop_verdict(r: int, prev: int | None, factors: pd.DataFrame, stab: pd.DataFrame) -> tuple[bool, str]:
    in_round = factors.xs(r, level="round")
    open_factors = [f for f in in_round.index if not in_round.loc[f, "consensus"]]
    if not open_factors:
        return True, f"consensus reached on all {len(in_round)} factors in round {r}"
    if prev is None:
        return False, (
            f"{len(open_factors)} factor(s) without consensus in round {r} "
            f"({', '.join(open_factors)}); stability needs at least 2 rounds"
        )
    flat = stab.reset_index()
    pair = flat[(flat["from_round"] == prev) & (flat["to_round"] == r)].set_index("factor")["stable"]
    unstable = [f for f in open_factors if f not in pair.index or not bool(pair[f])]
    if not unstable:
        return True, (
            f"the {len(open_factors)} factor(s) without consensus ({', '.join(open_factors)}) "
            f"were stable between rounds {prev} and {r}"
        )
    return False, (
        f"{len(open_factors)} factor(s) without consensus in round {r}, "
        f"not yet stable: {', '.join(unstable)}"
    )


def analyze_delphi(
    data: DelphiRounds,
    rules: DelphiRules = DelphiRules(),
    *,
    require_stability: bool = True,
    accepted_only: bool = False,
) -> DelphiResult:
    """Run the Delphi analysis described in the module docstring.

    ``require_stability``: with a single round, raise (stability and the stopping rule's
    second branch need >= 2 rounds) unless False. ``accepted_only``: only factors accepted
    in their latest round keep a weight.
    """
    rules.validate()
    rounds = data.rounds
    if len(rounds) < 2 and require_stability:
        raise InputError(
            f"expected at least 2 rounds to judge stability between rounds, found only round {rounds[0]}; "
            "pass --single-round (require_stability=False) to analyze one round without stability",
            file=data.source,
            column="round",
        )
    stat_rows, kendall_rows, stab_rows = [], [], []
    for r in rounds:
        table = data.round_table(r)
        for f in table.columns:
            stat_rows.append({"round": r, "factor": f, **factor_statistics(table[f].to_numpy(float), rules)})
        if table.shape[1] >= 2:
            conc = concordance(table)
            kendall_rows.append(
                {"round": r, "n_experts": conc.n_raters, "n_factors": conc.n_items, "w": conc.w, "chi2": conc.statistic, "df": conc.df, "pvalue": conc.pvalue}
            )
        else:
            kendall_rows.append({"round": r, "n_experts": len(table), "n_factors": 1, "w": math.nan, "chi2": math.nan, "df": 0, "pvalue": math.nan})
    factors = pd.DataFrame(stat_rows).set_index(["round", "factor"])
    for prev, cur in zip(rounds[:-1], rounds[1:], strict=True):
        stab_rows.extend(_stability(data, prev, cur, factors, rules))
    stab_cols = ["from_round", "to_round", "factor", "n_pairs", "agreement_change", "wilcoxon_statistic", "pvalue", "stable"]
    stability = pd.DataFrame(stab_rows, columns=stab_cols).set_index(["from_round", "to_round", "factor"])
    stopping = []
    for i, r in enumerate(rounds):
        stop, reason = _stop_verdict(r, rounds[i - 1] if i else None, factors, stability)
        stopping.append({"round": r, "stop": stop, "reason": reason})
    notes = []
    kendall = pd.DataFrame(kendall_rows).set_index("round")
    if kendall["w"].isna().any():
        notes.append("Kendall's W is undefined in a round with a single factor or where every expert tied every factor")
    weights, wnote = _weights(factors, accepted_only)
    if wnote:
        notes.append(wnote)
    return DelphiResult(
        rules=rules,
        rounds=rounds,
        factors=factors,
        kendall=kendall,
        stability=stability,
        stopping=pd.DataFrame(stopping).set_index("round"),
        weights=weights,
        notes=tuple(notes),
    )


def latest(factors: pd.DataFrame) -> pd.DataFrame:
    """Each factor's row from the latest round it was asked in (index: factor)."""
    flat = factors.reset_index()
    last = flat.sort_values("round").groupby("factor", sort=False).tail(1)
    return last.set_index("factor").sort_index()


def _weights(factors: pd.DataFrame, accepted_only: bool) -> tuple[pd.Series | None, str | None]:
    last = latest(factors)
    means = last["mean"].astype(float)
    if accepted_only:
        means = means.where(last["verdict"] == ACCEPTED, 0.0)
    w = normalize_positive(means)
    if w is None:
        if accepted_only:
            return None, "no factor is accepted in its latest round: no weights (--accepted-only)"
        return None, "weights need non-negative mean ratings with a positive sum (scale below 0?): no weights"
    note = None
    if accepted_only and (means == 0).any():
        note = "factors not accepted in their latest round get weight 0: " + ", ".join(means.index[means == 0])
    return w.rename("weight"), note


def analyze_delphi_file(
    path: str | Path,
    rules: DelphiRules = DelphiRules(),
    *,
    require_stability: bool = True,
    accepted_only: bool = False,
    columns: Sequence[str] | None = None,
) -> DelphiResult:
    """Read ``path`` (columns round, expert, factor, rating, or ``columns`` in that order) and analyze it."""
    names = {}
    if columns:
        if len(columns) != 4:
            raise InputError("expected 4 column names: round, expert, factor, rating", column="columns", found=list(columns))
        names = dict(zip(("round_col", "expert_col", "factor_col", "rating_col"), columns, strict=True))
    data = read_delphi(path, scale=rules.scale, **names)
    return analyze_delphi(data, rules, require_stability=require_stability, accepted_only=accepted_only)

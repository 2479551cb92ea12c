"""Questionnaire surveys: Cochran's sample size and the Friedman ranking of dimensions.

The contracting paper (seed ``002_*.txt``) sizes its questionnaire with Cochran's formula
(n0 = 384.16, 385 questionnaires) and ranks the ten dimensions with the Friedman test
(Table 5, "average rank"). This module does both steps, plus Kendall's coefficient of
concordance W, which the Delphi rounds (:mod:`optimizer.mcdm.delphi`) reuse.

Sample size (Cochran 1977, *Sampling Techniques*, eq. 4.2 and the finite-population
correction 4.3)::

    n0 = Z^2 p q / e^2            q = 1 - p, e = margin of error
    n  = n0 / (1 + (n0 - 1) / N)  only when a population size N is given

Z is the two-sided normal quantile of the confidence level, **rounded to two decimals
as printed tables give it** (1.96 for 95 %, 2.58 for 99 %), so the paper's 384.16 is
reproduced; ``exact_z=True`` uses the unrounded quantile (1.959964 -> 384.146) and
``z=`` overrides both.

Friedman ranking (respondents are blocks, dimensions are treatments): within each
respondent the ratings are ranked **ascending**, so a higher rating gets a higher rank,
and tied ratings share the average rank. A dimension's mean rank is its rank sum over
respondents divided by their number; the most important dimension has the highest mean
rank, as in the paper's Table 5 (demographic factors, 4.14, rank 1). With m respondents,
k dimensions, rank sums R_j and t the sizes of the groups of tied ratings::

    C    = 1 - sum(t^3 - t) / (m k (k^2 - 1))          tie correction
    chi2 = [12 / (m k (k + 1)) sum R_j^2 - 3 m (k + 1)] / C,   df = k - 1
    W    = chi2 / (m (k - 1))                           Kendall's W, tie-corrected

(the same statistic as :func:`scipy.stats.friedmanchisquare`; W equals
12 S / (m^2 (k^3 - k) - m sum T) of Kendall & Babington Smith with S the sum of squared
deviations of the rank sums.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from optimizer.errors import InputError
from optimizer.validation import id_column, numeric_column, read_table, require_columns

#: Decimals Z is rounded to by default, as in printed normal tables (1.96, 2.58).
Z_TABLE_DECIMALS = 2


# --------------------------------------------------------------------------- sample size
@dataclass(frozen=True)
class SampleSize:
    """Cochran's sample size and what to distribute.

    ``n0`` is the infinite-population size, ``n`` the size after the finite-population
    correction (equal to ``n0`` without a population), ``questionnaires`` = ceil(n) usable
    answers to collect, ``usable`` the target of usable answers (``questionnaires`` unless
    given), ``distribute`` = ceil(usable / response_rate) questionnaires to hand out for an
    expected response rate, ``response_rate_needed`` = usable / distributed for a given
    number of distributed questionnaires.
    """

    confidence: float
    z: float
    z_source: str
    p: float
    margin: float
    population: int | None
    n0: float
    n: float
    questionnaires: int
    usable: int
    response_rate: float | None
    distribute: int | None
    distributed: int | None
    response_rate_needed: float | None

    def to_dict(self) -> dict:
        return {
            "n0": self.n0,
            "n": self.n,
            "z": self.z,
            "z_source": self.z_source,
            "confidence": self.confidence,
            "p": self.p,
            "margin": self.margin,
            "population": self.population,
            "questionnaires": self.questionnaires,
            "usable": self.usable,
            "response_rate": self.response_rate,
            "distribute": self.distribute,
            "distributed": self.distributed,
            "response_rate_needed": self.response_rate_needed,
        }


def z_value(confidence: float, *, exact: bool = False) -> float:
    """Two-sided normal quantile of ``confidence``, rounded to table precision unless ``exact``.

    >>> z_value(0.95), z_value(0.99), round(z_value(0.95, exact=True), 6)
    (1.96, 2.58, 1.959964)
    """
    z = float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    return z if exact else round(z, Z_TABLE_DECIMALS)


def _ceil(x: float) -> int:
    """Ceiling that ignores floating noise (384.0000000001 -> 384)."""
    return math.ceil(round(x, 9))


def cochran_sample_size(
    confidence: float = 0.95,
    p: float = 0.5,
    margin: float = 0.05,
    *,
    population: int | None = None,
    z: float | None = None,
    exact_z: bool = False,
    response_rate: float | None = None,
    usable: int | None = None,
    distributed: int | None = None,
) -> SampleSize:
    """Cochran's sample size with the finite-population correction (see module docstring).

    >>> s = cochran_sample_size()
    >>> s.n0, s.questionnaires
    (384.16, 385)
    >>> round(cochran_sample_size(population=1000).n, 2)
    277.74
    """
    if not 0.0 < confidence < 1.0:
        raise InputError("expected a confidence level strictly between 0 and 1", column="confidence", found=confidence)
    if not 0.0 < p < 1.0:
        raise InputError("expected a proportion p strictly between 0 and 1", column="p", found=p)
    if not 0.0 < margin < 1.0:
        raise InputError("expected a margin of error strictly between 0 and 1", column="margin", found=margin)
    if z is not None and not (math.isfinite(z) and z > 0):
        raise InputError("expected a positive Z value", column="z", found=z)
    if population is not None and population < 1:
        raise InputError("expected a population size >= 1", column="population", found=population)
    if response_rate is not None and not 0.0 < response_rate <= 1.0:
        raise InputError("expected a response rate in (0, 1]", column="response_rate", found=response_rate)
    if usable is not None and usable < 1:
        raise InputError("expected a number of usable answers >= 1", column="usable", found=usable)
    if distributed is not None and distributed < 1:
        raise InputError("expected a number of distributed questionnaires >= 1", column="distributed", found=distributed)

    if z is not None:
        z_used, source = float(z), "given"
    else:
        z_used = z_value(confidence, exact=exact_z)
        source = "exact normal quantile" if exact_z else f"normal quantile rounded to {Z_TABLE_DECIMALS} decimals"
    # rounded to 10 decimals to drop floating noise (1.96**2 * 0.25 / 0.05**2 = 384.1599999999999)
    n0 = round(z_used**2 * p * (1.0 - p) / margin**2, 10)
    n = n0 if population is None else round(n0 / (1.0 + (n0 - 1.0) / population), 10)
    questionnaires = _ceil(n)
    target = questionnaires if usable is None else int(usable)
    distribute = None if response_rate is None else _ceil(target / response_rate)
    if distributed is not None and distributed < target:
        raise InputError(
            f"expected at least {target} distributed questionnaires to collect {target} usable answers",
            column="distributed",
            found=distributed,
        )
    needed = None if distributed is None else target / distributed
    return SampleSize(
        confidence=float(confidence),
        z=z_used,
        z_source=source,
        p=float(p),
        margin=float(margin),
        population=population,
        n0=n0,
        n=n,
        questionnaires=questionnaires,
        usable=target,
        response_rate=response_rate,
        distribute=distribute,
        distributed=distributed,
        response_rate_needed=needed,
    )


# --------------------------------------------------------------------------- Likert scale
@dataclass(frozen=True)
class Scale:
    """A closed rating scale [low, high] (a Likert scale 1-5 by default)."""

    low: float = 1.0
    high: float = 5.0

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}"


#: The default five-point Likert scale.
LIKERT_5 = Scale(1.0, 5.0)

_SCALE_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|:|\.\.|to)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_scale(text: str) -> Scale:
    """Parse ``"1-5"`` (or ``"1:5"``, ``"0..10"``, ``"-2:2"``) into a :class:`Scale`.

    >>> parse_scale("1-5"), parse_scale("-2:2")
    (Scale(low=1.0, high=5.0), Scale(low=-2.0, high=2.0))
    """
    m = _SCALE_RE.match(str(text))
    if not m:
        raise InputError("expected a rating scale such as 1-5 or 0:10", column="scale", found=text)
    low, high = float(m.group(1)), float(m.group(2))
    if not low < high:
        raise InputError("expected a rating scale whose lower bound is below its upper bound", column="scale", found=text)
    return Scale(low, high)


def check_scale(values: np.ndarray, scale: Scale, *, file: str | Path | None, column: str, rows: np.ndarray | None = None) -> None:
    """Raise naming the first rating outside ``scale`` (``rows``: 1-based row numbers)."""
    bad = (values < scale.low) | (values > scale.high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = int(rows[i]) if rows is not None else i + 1
        raise InputError(f"expected a rating on the scale {scale}", file=file, row=row, column=column, found=float(values[i]))


# --------------------------------------------------------------------------- concordance
@dataclass(frozen=True)
class Concordance:
    """Friedman test and Kendall's W for raters (rows) ranking items (columns).

    ``statistic`` is the tie-corrected Friedman chi-square with ``df`` = k - 1 and its
    upper-tail ``pvalue``; ``w`` is Kendall's W (tie-corrected); ``tie_correction`` is C;
    ``mean_ranks`` / ``rank_sums`` are indexed by item. Where every rater ties every item
    (C = 0) the statistic, p-value and W are undefined (NaN).
    """

    statistic: float
    df: int
    pvalue: float
    w: float
    n_raters: int
    n_items: int
    tie_correction: float
    mean_ranks: pd.Series
    rank_sums: pd.Series


def _concordance_kernel(x: np.ndarray) -> tuple[np.ndarray, float, float, float, float]:
    """Rank rows ascending (average ties); return (rank sums, C, chi2, p, W). No checks."""
    m, k = x.shape
    ranks = stats.rankdata(x, axis=1, method="average")
    ties = 0.0
    for row in x:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts.astype(float) ** 3 - counts))
    c = 1.0 - ties / (m * k * (k * k - 1.0))
    rank_sums = ranks.sum(axis=0)
    if c <= 1e-12:
        return rank_sums, c, math.nan, math.nan, math.nan
    chi2 = (12.0 / (m * k * (k + 1.0)) * float(np.sum(rank_sums**2)) - 3.0 * m * (k + 1.0)) / c
    chi2 = max(chi2, 0.0)
    p = float(stats.chi2.sf(chi2, k - 1))
    w = chi2 / (m * (k - 1.0))
    return rank_sums, c, chi2, p, w


def concordance(ratings: pd.DataFrame) -> Concordance:
    """Friedman chi-square, p-value, mean ranks and Kendall's W of a complete rating table.

    ``ratings``: one row per rater (respondent or expert), one column per item, numeric,
    no missing values (the entry points validate this).

    >>> c = concordance(pd.DataFrame({"a": [1, 1, 2], "b": [2, 3, 3], "c": [3, 2, 1]}))
    >>> c.mean_ranks.round(3).tolist(), round(c.statistic, 3), round(c.w, 3)
    ([1.333, 2.667, 2.0], 2.667, 0.444)
    """
    x = ratings.to_numpy(dtype=float)
    m, k = x.shape
    rank_sums, c, chi2, p, w = _concordance_kernel(x)
    items = pd.Index(ratings.columns, name="item")
    return Concordance(
        statistic=chi2,
        df=k - 1,
        pvalue=p,
        w=w,
        n_raters=m,
        n_items=k,
        tie_correction=c,
        mean_ranks=pd.Series(rank_sums / m, index=items, name="mean_rank"),
        rank_sums=pd.Series(rank_sums, index=items, name="rank_sum"),
    )


def normalize_positive(values: pd.Series) -> pd.Series | None:
    """``values / values.sum()`` when every value is >= 0 and the sum is > 0, else None."""
    if (values < 0).any() or not values.sum() > 0:
        return None
    return values / values.sum()


# --------------------------------------------------------------------------- ranking
@dataclass(frozen=True)
class RankResult:
    """The Friedman ranking of dimensions (the paper's Table 5) and the weights it gives.

    ``weights_from_ranks`` = mean rank / sum of mean ranks (the ``friedman`` preset rule);
    ``weights_from_means`` = mean rating / sum of mean ratings (None when a rating is
    negative); ``importance`` is 1 for the highest mean rank (ties share the best rank).
    """

    concordance: Concordance
    mean_ratings: pd.Series
    weights_from_ranks: pd.Series
    weights_from_means: pd.Series | None
    importance: pd.Series
    notes: tuple[str, ...]

    @property
    def n_respondents(self) -> int:
        return self.concordance.n_raters


def rank_dimensions(ratings: pd.DataFrame) -> RankResult:
    """Rank the columns of a respondents x dimensions rating table (see module docstring).

    >>> r = rank_dimensions(pd.DataFrame({"a": [5, 4, 5], "b": [3, 4, 2], "c": [1, 2, 3]}))
    >>> r.concordance.mean_ranks.tolist(), r.importance.tolist()
    ([2.8333333333333335, 1.8333333333333333, 1.3333333333333333], [1, 2, 3])
    """
    if ratings.shape[0] < 2:
        raise InputError("expected ratings from at least 2 respondents", found=ratings.shape[0])
    if ratings.shape[1] < 2:
        raise InputError("expected at least 2 dimensions to rank", found=list(map(str, ratings.columns)))
    conc = concordance(ratings)
    means = ratings.mean(axis=0).astype(float)
    means.index = conc.mean_ranks.index
    means.name = "mean_rating"
    notes = []
    if math.isnan(conc.w):
        notes.append("every respondent gave every dimension the same rating: the Friedman statistic and W are undefined")
    from_means = normalize_positive(means)
    if from_means is None:
        notes.append("weights from rating means need non-negative ratings with a positive mean; not computed")
    importance = conc.mean_ranks.rank(ascending=False, method="min").astype(int).rename("importance")
    return RankResult(
        concordance=conc,
        mean_ratings=means,
        weights_from_ranks=(conc.mean_ranks / conc.mean_ranks.sum()).rename("weight"),
        weights_from_means=None if from_means is None else from_means.rename("weight"),
        importance=importance,
        notes=tuple(notes),
    )


def read_responses(
    path: str | Path,
    *,
    id_col: str | None = None,
    columns: Sequence[str] | None = None,
    scale: Scale | None = None,
) -> pd.DataFrame:
    """Read a questionnaire table: one row per respondent, one numeric column per dimension.

    ``id_col`` names the respondent column (default: ``respondent`` if present, otherwise
    respondents are numbered by row); ``columns`` picks the dimension columns (default:
    every other column). Every rating must be a number, present, and within ``scale``
    when one is given. Returns a float frame indexed by respondent.
    """
    df = read_table(path, id_columns=[id_col or "respondent"], what="questionnaire table")
    if id_col is not None:
        require_columns(df, [id_col], file=path)
    key = id_col if id_col is not None else ("respondent" if "respondent" in df.columns else None)
    ids = id_column(df, key, file=path) if key else pd.Index([str(i + 1) for i in range(len(df))], name="respondent")
    dims = list(columns) if columns else [c for c in df.columns if c != key]
    require_columns(df, dims, file=path)
    if len(dims) < 2:
        raise InputError("expected at least 2 dimension columns", file=path, found=dims)
    out = {}
    for col in dims:
        values = numeric_column(df, col, file=path)
        if scale is not None:
            check_scale(values, scale, file=path, column=col)
        out[col] = values
    if len(df) < 2:
        raise InputError("expected ratings from at least 2 respondents", file=path, found=len(df))
    return pd.DataFrame(out, index=pd.Index(ids, name="respondent"))

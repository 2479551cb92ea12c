"""AHP weights from pairwise comparison matrices, with Saaty's consistency ratio.

A pairwise comparison matrix ``A`` (n x n) holds ``a_ij`` = how many times criterion ``i``
is more important than ``j`` (Saaty's 1-9 scale), with ``a_ii = 1`` and ``a_ji = 1/a_ij``.

* Weights: the principal (Perron) eigenvector ``w`` of ``A``, ``A w = lambda_max w``,
  scaled to sum 1.
* Consistency index ``CI = (lambda_max - n) / (n - 1)``; consistency ratio
  ``CR = CI / RI(n)``, with Saaty's random index ``RI`` (:data:`RANDOM_INDEX`). A matrix is
  *consistent* when ``CR <= 0.10``; otherwise :class:`InconsistentJudgementsWarning` is
  emitted naming the comparisons to re-ask.
* Comparisons to re-ask: the pairs ``i < j`` ranked by the deviation
  ``|ln(a_ij * w_j / w_i)|`` of the judgement from the ratio the weights imply.
* Group AHP (:func:`group_ahp`): aggregation of individual judgements (AIJ), the
  element-wise geometric mean ``a_ij = (prod_k a_ij^(k))^(1/K)``, which keeps the matrix
  reciprocal (Aczel & Saaty 1983; Forman & Peniwati 1998).

Random index (:data:`RANDOM_INDEX`): Saaty (1980), *The Analytic Hierarchy Process*,
McGraw-Hill (the mean CI of random reciprocal matrices of order n): 0, 0, 0.58, 0.90,
1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59 for n = 1..15. Matrices larger than 15 are rejected: no RI is published
in that table, and Saaty advises keeping a comparison set to about 7 +/- 2 elements
(split the criteria into a hierarchy instead).
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.validation import name_mismatch, require_file

RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
"""Saaty (1980) random consistency index by matrix order n."""

CR_THRESHOLD = 0.10
"""A matrix is consistent when its consistency ratio is at most this value (Saaty)."""

RECIPROCITY_TOLERANCE = 0.02
"""``a_ij * a_ji`` must lie within this relative distance of 1 (so 0.33 for 1/3 passes)."""

REASK_COUNT = 3
"""How many comparisons the inconsistency warning (and the CLI's ``reask``) names."""


class InconsistentJudgementsWarning(UserWarning):
    """A pairwise comparison matrix with CR > 0.10: some judgements should be re-asked."""


@dataclass(frozen=True)
class AHPResult:
    """Weights and consistency of one pairwise comparison matrix.

    ``worst_comparisons`` lists every pair ``i < j`` (columns ``row``, ``column``,
    ``judgement`` = a_ij, ``implied`` = w_i / w_j, ``deviation`` = |ln(a_ij w_j / w_i)|),
    largest deviation first.
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    cr: float
    random_index: float
    consistent: bool
    worst_comparisons: pd.DataFrame
    matrix: pd.DataFrame

    def reask(self, k: int = REASK_COUNT) -> list[dict]:
        """The ``k`` comparisons with the largest deviation, as plain records."""
        return self.worst_comparisons.head(k).to_dict(orient="records")

    def to_dict(self, *, with_reask: bool | None = None) -> dict:
        """JSON-ready summary: weights, lambda_max, ci, cr, consistent (+ reask if CR > 0.10)."""
        out = {
            "weights": {str(k): float(v) for k, v in self.weights.items()},
            "lambda_max": self.lambda_max,
            "ci": self.ci,
            "cr": self.cr,
            "random_index": self.random_index,
            "consistent": self.consistent,
        }
        if with_reask or (with_reask is None and not self.consistent):
            out["reask"] = self.reask()
        return out


@dataclass(frozen=True)
class GroupAHPResult:
    """Group AHP: ``matrix`` is the element-wise geometric mean of the experts' matrices."""

    matrix: pd.DataFrame
    group: AHPResult
    experts: dict[str, AHPResult]

    @property
    def weights(self) -> pd.Series:
        return self.group.weights


# --------------------------------------------------------------------------- reading


def parse_judgement(text: str) -> float | None:
    """Parse ``"3"``, ``"0.25"`` or ``"1/3"`` (also ``"1 / 3"``); None if not a number.

    Signs, ``inf`` and ``nan`` parse (and are then rejected by :func:`validate_pairwise`
    with a precise message).

    >>> parse_judgement("1/3")
    0.3333333333333333
    >>> parse_judgement("abc") is None, parse_judgement("1/0") is None
    (True, True)
    """
    s = str(text).strip()
    num, sep, den = s.partition("/")
    try:
        return float(num) / float(den) if sep else float(s)
    except (ValueError, ZeroDivisionError):
        return None


def read_pairwise_csv(path: str | Path) -> pd.DataFrame:
    """Read a pairwise comparison matrix CSV.

    Layout: a header row whose first cell is a corner label (any text, may be empty)
    followed by the criterion names; then one row per criterion, starting with the same
    names in the same order. Entries are positive numbers or fractions like ``1/3``.
    Blank lines are ignored. Errors name the file, the data row (1-based, header not
    counted) and the column. Structure (square, labels, reciprocity) is checked by
    :func:`ahp_weights`.
    """
    p = require_file(path, "pairwise comparison matrix")
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh, delimiter=delimiter) if any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"could not read the pairwise comparison matrix: {exc}", file=p) from None
    if not rows:
        raise InputError("expected a header row of criterion names", file=p)
    header = [c.strip() for c in rows[0]]
    names = header[1:]
    while names and names[-1] == "":  # tolerate trailing separators
        names.pop()
    if not names:
        raise InputError("expected criterion names after the first cell of the header row", file=p)
    for j, name in enumerate(names):
        if not name:
            raise InputError("expected a criterion name in the header", file=p, row="header", column=f"#{j + 2}")
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise InputError("expected distinct criterion names in the header", file=p, row="header", found=dup[0])
    n = len(names)
    data = rows[1:]
    if len(data) == n + 1 and header[0] == next((c.strip() for c in data[0][:1]), None):
        raise InputError(
            "expected the header's first cell to be a corner label (empty or e.g. 'criterion'), "
            "then the criterion names",
            file=p,
            row="header",
            found=header[0],
        )
    if len(data) != n:
        raise InputError(
            f"expected a square matrix: {n} criteria in the header, so {n} rows",
            file=p,
            found=f"{len(data)} rows",
        )
    labels, values = [], np.empty((n, n))
    for i, row in enumerate(data, start=1):
        cells = [c.strip() for c in row]
        while len(cells) > n + 1 and cells[-1] == "":
            cells.pop()
        label = cells[0] if cells else ""
        if len(cells) != n + 1:
            raise InputError(
                f"expected a square matrix: a name and {n} entries in every row",
                file=p,
                row=i,
                found=f"{max(len(cells) - 1, 0)} entries",
            )
        labels.append(label)
        for j, cell in enumerate(cells[1:]):
            v = parse_judgement(cell)
            if v is None:
                raise InputError(
                    "expected a positive number or a fraction such as 1/3",
                    file=p,
                    row=i,
                    column=names[j],
                    found=cell,
                )
            values[i - 1, j] = v
    return pd.DataFrame(values, index=pd.Index(labels, name=None), columns=pd.Index(names))


# --------------------------------------------------------------------------- checking


def validate_pairwise(matrix: pd.DataFrame, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check a pairwise comparison matrix and return it as an exactly reciprocal float frame.

    Rejects: empty or not square; row labels differing from the column labels (same
    order required); non-numeric, non-finite or non-positive entries; a diagonal entry
    other than 1; a pair with ``|a_ij * a_ji - 1| > RECIPROCITY_TOLERANCE``; more than 15
    criteria. Accepted near-reciprocal pairs are made exactly reciprocal with
    ``a_ij <- sqrt(a_ij / a_ji)`` (unchanged when already reciprocal).
    """
    if not isinstance(matrix, pd.DataFrame):
        raise InputError("expected a pairwise comparison matrix as a table", file=file)
    n_rows, n_cols = matrix.shape
    if n_rows == 0 or n_cols == 0:
        raise InputError("expected a non-empty pairwise comparison matrix", file=file)
    if n_rows != n_cols:
        raise InputError(
            f"expected a square matrix, found {n_rows} rows and {n_cols} columns", file=file
        )
    rows = [str(x).strip() for x in matrix.index]
    cols = [str(x).strip() for x in matrix.columns]
    for i, (r, c) in enumerate(zip(rows, cols, strict=True), start=1):
        if r != c:
            raise InputError(
                f"expected the row labels to repeat the header in the same order: row {i} "
                f"should be {c!r}",
                file=file,
                row=i,
                found=r,
            )
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise InputError("expected distinct criterion names", file=file, found=dup)
    if n_rows > max(RANDOM_INDEX):
        raise InputError(
            f"expected at most {max(RANDOM_INDEX)} criteria in one comparison matrix "
            "(Saaty's random index table ends there; split the criteria into a hierarchy)",
            file=file,
            found=f"{n_rows} criteria",
        )
    raw = matrix.to_numpy()
    a = np.column_stack([pd.to_numeric(matrix.iloc[:, j], errors="coerce").to_numpy(dtype=float) for j in range(n_cols)])
    for i in range(n_rows):  # report the first bad entry in reading order
        for j in range(n_cols):
            v = a[i, j]
            found = raw[i, j].item() if isinstance(raw[i, j], np.generic) else raw[i, j]
            if not np.isfinite(v):
                raise InputError("expected a finite number", file=file, row=i + 1, column=cols[j], found=found)
            if v <= 0:
                raise InputError("expected a positive number", file=file, row=i + 1, column=cols[j], found=found)
    for i in range(n_rows):
        if abs(a[i, i] - 1.0) > 1e-9:
            raise InputError(
                "expected 1 on the diagonal (a criterion compared with itself)",
                file=file,
                row=i + 1,
                column=cols[i],
                found=a[i, i],
            )
    product = a * a.T
    bad = np.abs(product - 1.0) > RECIPROCITY_TOLERANCE
    if bad.any():
        i, j = (int(x) for x in np.argwhere(np.triu(bad, 1))[0])
        raise InputError(
            f"expected a reciprocal matrix: a[{rows[i]!r}, {cols[j]!r}] * a[{rows[j]!r}, {cols[i]!r}] "
            f"should be 1 (a_ji = 1/a_ij), found {a[i, j]:g} * {a[j, i]:g} = {product[i, j]:g}",
            file=file,
            row=i + 1,
            column=cols[j],
        )
    exact = np.sqrt(a / a.T)
    return pd.DataFrame(exact, index=pd.Index(cols), columns=pd.Index(cols))


# --------------------------------------------------------------------------- kernels


def principal_eigen(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Perron eigenvector (sum 1) and eigenvalue of a positive matrix (pure kernel)."""
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    return w / w.sum(), float(values[k].real)


def deviations(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``|ln(a_ij w_j / w_i)|`` for every pair (pure kernel)."""
    return np.abs(np.log(a) + np.log(w)[None, :] - np.log(w)[:, None])


def random_index(n: int) -> float:
    """Saaty's random index for a matrix of order ``n`` (see :data:`RANDOM_INDEX`).

    >>> random_index(4), random_index(12)
    (0.9, 1.48)
    """
    if n not in RANDOM_INDEX:
        raise InputError(f"expected a matrix order between 1 and {max(RANDOM_INDEX)}", found=n)
    return RANDOM_INDEX[n]


# --------------------------------------------------------------------------- entry points


def ahp_weights(matrix: pd.DataFrame, *, file: str | Path | None = None) -> AHPResult:
    """AHP weights and consistency of one pairwise comparison matrix.

    ``file`` names the source in error and warning messages. Emits
    :class:`InconsistentJudgementsWarning` when CR > 0.10, naming the
    :data:`REASK_COUNT` comparisons with the largest deviation.

    >>> m = pd.DataFrame([[1, 2], [0.5, 1]], index=["a", "b"], columns=["a", "b"])
    >>> r = ahp_weights(m)
    >>> r.weights.round(4).to_dict(), r.cr
    ({'a': 0.6667, 'b': 0.3333}, 0.0)
    """
    m = validate_pairwise(matrix, file=file)
    a = m.to_numpy()
    n = a.shape[0]
    w, lam = principal_eigen(a)
    ci = max((lam - n) / (n - 1), 0.0) if n > 1 else 0.0
    ri = random_index(n)
    cr = ci / ri if ri > 0 else 0.0
    if n <= 2:  # 1x1 and 2x2 reciprocal matrices are always consistent
        lam, ci, cr = float(n), 0.0, 0.0
    names = list(m.columns)
    dev = deviations(a, w)
    iu, ju = np.triu_indices(n, 1)
    worst = pd.DataFrame(
        {
            "row": [names[i] for i in iu],
            "column": [names[j] for j in ju],
            "judgement": a[iu, ju],
            "implied": w[iu] / w[ju],
            "deviation": dev[iu, ju],
        }
    )
    worst = worst.sort_values("deviation", ascending=False, kind="stable").reset_index(drop=True)
    result = AHPResult(
        weights=pd.Series(w, index=pd.Index(names, name="criterion"), name="weight"),
        lambda_max=float(lam),
        ci=float(ci),
        cr=float(cr),
        random_index=float(ri),
        consistent=bool(cr <= CR_THRESHOLD),
        worst_comparisons=worst,
        matrix=m,
    )
    if not result.consistent:
        warnings.warn(_inconsistency_message(result, file), InconsistentJudgementsWarning, stacklevel=2)
    return result


def _inconsistency_message(result: AHPResult, file: str | Path | None) -> str:
    pairs = "; ".join(
        f"{r['row']} vs {r['column']} (judged {format_judgement(r['judgement'])}, the weights imply "
        f"{r['implied']:.2f})"
        for r in result.reask()
    )
    where = f"{file}: " if file is not None else ""
    return (
        f"{where}consistency ratio {result.cr:.3f} > {CR_THRESHOLD:.2f}: the judgements are "
        f"inconsistent; re-ask these comparisons first: {pairs}"
    )


def format_judgement(v: float) -> str:
    """Show a judgement as Saaty would write it.

    >>> format_judgement(3.0), format_judgement(1 / 3), format_judgement(2.5)
    ('3', '1/3', '2.5')
    """
    if v >= 1:
        return f"{v:.3g}" if abs(v - round(v)) > 1e-9 else str(round(v))
    inv = 1 / v
    return f"1/{round(inv)}" if abs(inv - round(inv)) < 1e-6 else f"{v:.3g}"


def group_ahp(
    matrices: Sequence[pd.DataFrame], names: Sequence[str] | None = None, *, files: Sequence[str | Path] | None = None
) -> GroupAHPResult:
    """Group AHP by aggregation of individual judgements (AIJ).

    Every expert must compare the same set of criteria; an expert whose rows/columns are
    in another order is reordered to the first expert's order. The group matrix is the
    element-wise geometric mean ``(prod_k a_ij^(k))^(1/K)``, which is again reciprocal.
    Each expert's matrix and the group matrix are evaluated with :func:`ahp_weights`
    (so each inconsistent one emits a warning naming the expert, or its file when ``files``
    gives the source of each matrix).

    >>> a = pd.DataFrame([[1, 4], [1 / 4, 1]], index=["x", "y"], columns=["x", "y"])
    >>> b = pd.DataFrame([[1, 1], [1, 1]], index=["x", "y"], columns=["x", "y"])
    >>> group_ahp([a, b]).matrix.loc["x", "y"]
    np.float64(2.0)
    """
    if len(matrices) == 0:
        raise InputError("expected at least one pairwise comparison matrix")
    if names is None:
        names = [f"expert {k}" for k in range(1, len(matrices) + 1)]
    names = [str(x) for x in names]
    if len(names) != len(matrices):
        raise InputError(f"expected {len(matrices)} expert names", found=len(names))
    if len(set(names)) != len(names):
        raise InputError("expected distinct expert names", found=next(x for x in names if names.count(x) > 1))
    if files is not None and len(files) != len(matrices):
        raise InputError(f"expected {len(matrices)} file names", found=len(files))
    sources = [str(f) for f in files] if files is not None else names
    checked = [validate_pairwise(m, file=src) for m, src in zip(matrices, sources, strict=True)]
    order = list(checked[0].columns)
    aligned = []
    for m, src in zip(checked, sources, strict=True):
        diff, first = name_mismatch(order, m.columns, extra=f"not in {sources[0]}")
        if diff:
            raise InputError(f"expected the same criteria as {sources[0]}{diff}", file=src, column=first)
        aligned.append(m.loc[order, order].to_numpy())
    stack = np.stack(aligned)
    gm = np.exp(np.log(stack).mean(axis=0))
    group_matrix = pd.DataFrame(gm, index=pd.Index(order), columns=pd.Index(order))
    experts = {
        name: ahp_weights(pd.DataFrame(a, index=order, columns=order), file=src)
        for name, src, a in zip(names, sources, aligned, strict=True)
    }
    group = ahp_weights(group_matrix, file="group (geometric mean)")
    return GroupAHPResult(matrix=group_matrix, group=group, experts=experts)


def expert_names(paths: Sequence[str | Path]) -> list[str]:
    """Name each expert by the stem of their matrix file, or by the path if two stems coincide.

    >>> expert_names(["panel/ana.csv", "panel/ben.csv"]), expert_names(["a/x.csv", "b/x.csv"])
    (['ana', 'ben'], ['a/x.csv', 'b/x.csv'])
    """
    stems = [Path(p).stem for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


def ahp_from_files(paths: Sequence[str | Path]) -> AHPResult | GroupAHPResult:
    """Read one or several matrix CSVs: one file gives AHP, several give group AHP.

    Expert names are the file stems (see :func:`expert_names`).
    """
    if not paths:
        raise InputError("expected at least one pairwise comparison matrix file")
    if len(paths) == 1:
        return ahp_weights(read_pairwise_csv(paths[0]), file=paths[0])
    matrices = [read_pairwise_csv(p) for p in paths]
    return group_ahp(matrices, names=expert_names(paths), files=paths)

"""Criteria weights: objective methods, direct weights, blends and the weight-spec resolver.

Objective weights (:func:`objective_weights`) derive weights from the spread of the
decision matrix ``X`` (m units x n criteria):

* ``entropy`` (Shannon; Hwang & Yoon 1981, Zeleny 1982)::

      p_ij = x_ij / sum_i x_ij,   E_j = -(1 / ln m) sum_i p_ij ln p_ij  (0 ln 0 = 0)
      w_j  = (1 - E_j) / sum_k (1 - E_k)

  Needs non-negative values. The direction of a criterion does not enter (the classical
  method). pymcdm's ``entropy_weights`` refuses any zero entry (its sum normalization
  needs positive values) although ``0 ln 0 = 0`` keeps the formula defined, so this
  module computes the formula itself.
* ``critic`` (Diakoulaki, Mavrotas & Papayannakis 1995)::

      r_ij = (x_ij - worst_j) / (best_j - worst_j)      best = max (benefit) or min (cost)
      C_j  = sigma_j * sum_k (1 - rho_jk),   w_j = C_j / sum_k C_k

  with sigma_j the standard deviation of column j of r and rho the Pearson correlation.
  Cost criteria matter through rho (a cost criterion is reversed before correlating).
  Computed with pymcdm's ``critic_weights`` on the matrix with cost columns negated,
  which makes its min-max normalization exactly ``(max - x) / (max - min)``.
* ``std`` (standard-deviation method; Diakoulaki et al. 1995): ``w_j = sigma_j / sum sigma_k``
  with sigma_j the standard deviation of the min-max normalized column (direction-free).
  pymcdm's ``standard_deviation_weights`` uses the raw columns, so a criterion measured in
  rials would dominate one measured in percent; ours normalizes first.
* ``merec`` (Keshavarz-Ghorabaee, Amiri, Zavadskas, Turskis & Antucheviciene 2021)::

      n_ij = min_k x_kj / x_ij  (benefit),   n_ij = x_ij / max_k x_kj  (cost)
      S_i  = ln(1 + (1/n) sum_j |ln n_ij|),  S'_ij = ln(1 + (1/n) sum_{k != j} |ln n_ik|)
      E_j  = sum_i |S'_ij - S_i|,            w_j = E_j / sum_k E_k

  Needs positive values. Computed with pymcdm's ``merec_weights`` (types +1 / -1).

A **constant criterion** carries no information: it gets weight 0 and an
:class:`ObjectiveWeightsWarning` names it (for entropy, std and CRITIC the other weights
are computed without it; MEREC keeps it in ``n``, as its formula does). If every
criterion is constant, an :class:`~optimizer.errors.InputError` is raised.

Weight specs (:func:`resolve_weights`), one string for the CLI and scenario files::

    equal                       1/n each
    entropy | critic | std | merec      objective weights from the units table
    preset:path-coefficients | preset:friedman | preset:equal
    ahp:FILE.csv                AHP of one pairwise matrix
    ahp:F1.csv,F2.csv,...       group AHP (geometric mean of the experts' matrices)
    survey:FILE                 expert-panel survey (optimizer.mcdm.panel)
    FILE.csv | FILE.json        direct weights (columns criterion,weight / {name: weight})
    a=0.3,b=0.7                 inline direct weights
    blend:EXPERT+OBJECTIVE@S    S * EXPERT + (1 - S) * OBJECTIVE, 0 <= S <= 1

Direct weights must be finite, non-negative, not all zero and name exactly the criteria;
they are divided by their sum (so ``a=3,b=1`` means 0.75 / 0.25).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pymcdm import weights as pw

from optimizer.errors import InputError
from optimizer.mcdm.ahp import GroupAHPResult, ahp_from_files
from optimizer.mcdm.catalog import DIMENSIONS, match_dimensions, preset_weights
from optimizer.validation import (
    id_column,
    name_mismatch,
    numeric_column,
    read_table,
    require_columns,
    require_file,
)

OBJECTIVE_METHODS: tuple[str, ...] = ("entropy", "critic", "std", "merec")
"""Names accepted by :func:`objective_weights`."""

SPEC_FORMS = (
    "equal, entropy, critic, std, merec, preset:NAME, ahp:FILE.csv[,FILE2.csv...], "
    "survey:FILE, a CSV/JSON file of criterion,weight, inline a=0.3,b=0.7, "
    "blend:EXPERT+OBJECTIVE@SHARE"
)


class ObjectiveWeightsWarning(UserWarning):
    """Valid but suspicious data for objective weights (e.g. a constant criterion)."""


@dataclass(frozen=True)
class WeightSpec:
    """Resolved weights: ``weights`` indexed by criterion (sum 1), the spec text, details."""

    weights: pd.Series
    source: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"spec", "weights", "details"}``."""
        return {
            "spec": self.source,
            "weights": {str(k): float(v) for k, v in self.weights.items()},
            "details": self.details,
        }


# --------------------------------------------------------------------------- kernels


def entropy_kernel(x: np.ndarray) -> np.ndarray:
    """Shannon-entropy weights of a non-negative matrix without constant columns."""
    m = x.shape[0]
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    d = np.clip(1.0 - e, 0.0, None)
    return d / d.sum()


def std_kernel(x: np.ndarray) -> np.ndarray:
    """Standard deviation of the min-max normalized columns, normalized to sum 1."""
    r = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    s = r.std(axis=0)
    return s / s.sum()


def critic_kernel(x: np.ndarray, types: np.ndarray) -> np.ndarray:
    """CRITIC weights (pymcdm on the direction-adjusted matrix); no constant columns."""
    if x.shape[1] == 1:
        return np.ones(1)
    return np.asarray(pw.critic_weights(x * types[None, :]), dtype=float)


def merec_kernel(x: np.ndarray, types: np.ndarray) -> np.ndarray:
    """MEREC weights (pymcdm) of a positive matrix."""
    return np.asarray(pw.merec_weights(x, types.astype(int)), dtype=float)


# --------------------------------------------------------------------------- objective


def _decision_matrix(
    matrix: pd.DataFrame, cost: Iterable[str], file: str | Path | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not isinstance(matrix, pd.DataFrame) or matrix.shape[1] == 0:
        raise InputError("expected a table with at least one criterion column", file=file)
    criteria = [str(c) for c in matrix.columns]
    if matrix.shape[0] < 2:
        raise InputError("expected at least two units to derive objective weights", file=file, found=f"{matrix.shape[0]} row(s)")
    cost = [str(c) for c in cost]
    unknown = [c for c in cost if c not in criteria]
    if unknown:
        raise InputError(
            f"cost criteria must be among the criteria ({', '.join(criteria)})", file=file, column=unknown[0]
        )
    x = np.column_stack([numeric_column(matrix, c, file=file) for c in matrix.columns])
    types = np.array([-1.0 if c in cost else 1.0 for c in criteria])
    return x, types, criteria


def objective_weights(
    matrix: pd.DataFrame,
    cost: Iterable[str] = (),
    method: str = "entropy",
    *,
    file: str | Path | None = None,
) -> pd.Series:
    """Objective weights of the criteria (columns) of ``matrix`` (rows are units).

    ``method`` is one of :data:`OBJECTIVE_METHODS` (see the module docstring for the
    formulas); ``cost`` names the cost criteria (used by CRITIC and MEREC); ``file``
    names the source in error messages.

    >>> x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 2.0]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     objective_weights(x, method="entropy").tolist()
    [1.0, 0.0]
    """
    key = str(method).strip().lower()
    if key not in OBJECTIVE_METHODS:
        raise InputError(f"unknown objective weighting method; expected one of {', '.join(OBJECTIVE_METHODS)}", found=method)
    x, types, criteria = _decision_matrix(matrix, cost, file)
    if key == "entropy" and (x < 0).any():
        i, j = (int(v) for v in np.argwhere(x < 0)[0])
        raise InputError("entropy weights need non-negative values", file=file, row=i + 1, column=criteria[j], found=x[i, j])
    if key == "merec" and (x <= 0).any():
        i, j = (int(v) for v in np.argwhere(x <= 0)[0])
        raise InputError("MEREC weights need positive values", file=file, row=i + 1, column=criteria[j], found=x[i, j])
    constant = np.ptp(x, axis=0) == 0
    if constant.all():
        raise InputError(
            "every criterion is constant over the units, so objective weights are undefined; "
            "expected at least one criterion that varies",
            file=file,
        )
    if constant.any():
        names = [c for c, k in zip(criteria, constant, strict=True) if k]
        warnings.warn(
            f"constant criterion (same value for every unit) gets {key} weight 0: {', '.join(names)}",
            ObjectiveWeightsWarning,
            stacklevel=2,
        )
    w = np.zeros(len(criteria))
    keep = ~constant
    if key == "entropy":
        w[keep] = entropy_kernel(x[:, keep])
    elif key == "std":
        w[keep] = std_kernel(x[:, keep])
    elif key == "critic":
        w[keep] = critic_kernel(x[:, keep], types[keep])
    else:
        w = merec_kernel(x, types)
        w[constant] = 0.0
        w = w / w.sum()
    return pd.Series(w, index=pd.Index(criteria, name="criterion"), name=key)


# --------------------------------------------------------------------------- direct / blend


def normalize_direct(
    raw: Mapping[str, object],
    criteria: Sequence[str],
    *,
    file: str | Path | None = None,
    what: str = "weight",
) -> pd.Series:
    """Check direct weights (finite, >= 0, not all zero, exactly the criteria) and scale to sum 1.

    >>> normalize_direct({"b": 1, "a": 3}, ["a", "b"]).tolist()
    [0.75, 0.25]
    """
    criteria = [str(c) for c in criteria]
    diff, first = name_mismatch(criteria, raw)
    if diff:
        raise InputError(f"expected one {what} for each criterion ({', '.join(criteria)}){diff}", file=file, column=first)
    values = {}
    for k, v in raw.items():
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"expected a number as {what}", file=file, column=str(k), found=v) from None
        if isinstance(v, bool) or not np.isfinite(f):
            raise InputError(f"expected a finite number as {what}", file=file, column=str(k), found=v)
        if f < 0:
            raise InputError(f"expected a non-negative {what}", file=file, column=str(k), found=v)
        values[str(k)] = f
    w = pd.Series([values[c] for c in criteria], index=pd.Index(criteria, name="criterion"), name="weight", dtype=float)
    if w.sum() <= 0:
        raise InputError(f"expected at least one positive {what}; all are zero", file=file)
    return w / w.sum()


def blend(expert: pd.Series, objective: pd.Series, share: float) -> pd.Series:
    """``share * expert + (1 - share) * objective`` renormalized to sum 1.

    ``share`` in [0, 1] is the weight of the expert part. Both series must be indexed by
    the same criteria (the result follows ``expert``'s order).

    >>> e = pd.Series({"a": 0.8, "b": 0.2}); o = pd.Series({"a": 0.4, "b": 0.6})
    >>> blend(e, o, 0.25).round(3).tolist()
    [0.5, 0.5]
    """
    try:
        s = float(share)
    except (TypeError, ValueError):
        raise InputError("expected a blend share between 0 and 1", found=share) from None
    if not (np.isfinite(s) and 0.0 <= s <= 1.0):
        raise InputError("expected a blend share between 0 and 1", found=share)
    diff, first = name_mismatch(expert.index, objective.index, missing="only in the expert part", extra="only in the objective part")
    if diff:
        raise InputError(f"expected both parts of a blend to weight the same criteria{diff}", column=first)
    e = normalize_direct(expert.to_dict(), list(map(str, expert.index)), what="expert weight")
    o = normalize_direct(objective.to_dict(), list(e.index), what="objective weight")
    out = s * e + (1.0 - s) * o
    return (out / out.sum()).rename("weight")


# --------------------------------------------------------------------------- files


def read_weights_file(path: str | Path, criteria: Sequence[str]) -> pd.Series:
    """Direct weights from a CSV (columns ``criterion``, ``weight``) or JSON file.

    JSON: ``{"a": 0.3, "b": 0.7}`` or ``{"weights": {"a": 0.3, "b": 0.7}}``.
    """
    p = require_file(path, "weights file")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"expected a JSON object of criterion -> weight ({exc})", file=p) from None
        if isinstance(data, dict) and isinstance(data.get("weights"), dict):
            data = data["weights"]
        if not isinstance(data, dict) or not data:
            raise InputError('expected a JSON object {"criterion": weight, ...} or {"weights": {...}}', file=p)
        return normalize_direct(data, criteria, file=p)
    df = read_table(p, id_columns=["criterion"], what="weights file")
    df.columns = [c.lower() for c in df.columns]
    require_columns(df, ["criterion", "weight"], file=p)
    names = id_column(df, "criterion", file=p)
    values = numeric_column(df, "weight", file=p)
    bad = np.flatnonzero(values < 0)
    if bad.size:
        i = int(bad[0])
        raise InputError("expected a non-negative weight", file=p, row=i + 1, column="weight", found=df["weight"].iloc[i])
    return normalize_direct(dict(zip(names, values, strict=True)), criteria, file=p)


def parse_inline(text: str, criteria: Sequence[str]) -> pd.Series:
    """Inline direct weights ``a=0.3,b=0.7`` (criterion names without ``,`` or ``=``).

    >>> parse_inline("a=1, b=3", ["a", "b"]).tolist()
    [0.25, 0.75]
    """
    raw: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("expected inline weights like a=0.3,b=0.7", found=part.strip())
        if name in raw:
            raise InputError("expected each criterion once in inline weights", column=name, found=text)
        raw[name] = value.strip()
    return normalize_direct(raw, criteria)


# --------------------------------------------------------------------------- resolver


def _resolve_path(name: str, base_dir: Path | None) -> Path:
    p = Path(name.strip()).expanduser()
    if not p.is_absolute():
        p = (base_dir if base_dir is not None else Path.cwd()) / p
    return p


def _ahp_details(result, files: list[str]) -> dict:
    if isinstance(result, GroupAHPResult):
        details = {"kind": "group-ahp", "files": files, **result.group.to_dict()}
        details["experts"] = {name: r.to_dict() for name, r in result.experts.items()}
    else:
        details = {"kind": "ahp", "files": files, **result.to_dict()}
    details.pop("weights", None)
    return details


def resolve_weights(
    spec: str,
    *,
    criteria: Sequence[str],
    table: pd.DataFrame | None = None,
    cost: Iterable[str] = (),
    base_dir: Path | None = None,
    table_file: str | Path | None = None,
) -> WeightSpec:
    """Turn a weight spec (see the module docstring for the grammar) into weights.

    ``criteria`` are the criterion names the weights must cover (the result follows their
    order); ``table`` holds the units x criteria values for objective methods (``cost``
    names its cost criteria; ``table_file`` names it in error messages); relative file
    names resolve against ``base_dir`` (a scenario's folder), else the current directory.

    >>> resolve_weights("a=1,b=3", criteria=["a", "b"]).weights.tolist()
    [0.25, 0.75]
    >>> resolve_weights("equal", criteria=["a", "b"]).details
    {'kind': 'equal'}
    """
    criteria = [str(c) for c in criteria]
    if not criteria:
        raise InputError("expected at least one criterion to weight")
    if len(set(criteria)) != len(criteria):
        raise InputError("expected distinct criteria", found=next(c for c in criteria if criteria.count(c) > 1))
    text = str(spec).strip()
    if not text:
        raise InputError(f"expected a weight spec: {SPEC_FORMS}", found=spec)
    cost = list(cost)
    head, sep, rest = text.partition(":")
    kind = head.strip().lower() if sep else ""
    index = pd.Index(criteria, name="criterion")

    if kind == "blend":
        return _resolve_blend(text, rest, criteria, table, cost, base_dir, table_file)
    if kind == "survey":
        from optimizer.mcdm.panel import survey_weights

        out = survey_weights(_resolve_path(rest, base_dir), criteria)
        w = normalize_direct(out.weights.to_dict(), criteria, file=rest.strip(), what="survey weight")
        return WeightSpec(weights=w, source=text, details={"kind": "survey", **dict(out.details)})
    if kind == "ahp":
        files = [f.strip() for f in rest.split(",") if f.strip()]
        if not files:
            raise InputError("expected ahp:FILE.csv or ahp:F1.csv,F2.csv", found=text)
        paths = [_resolve_path(f, base_dir) for f in files]
        result = ahp_from_files(paths)
        w = result.weights
        diff, first = name_mismatch(criteria, w.index, extra="not criteria")
        if diff:
            raise InputError(
                f"expected the AHP matrix to compare exactly the criteria being weighted{diff}",
                file=",".join(files),
                column=first,
            )
        w = w.reindex(criteria)
        w.index = index
        return WeightSpec(weights=w.rename("weight"), source=text, details=_ahp_details(result, files))
    if kind == "preset":
        name = rest.strip().lower()
        preset = preset_weights(name)
        dims = _preset_dimensions(name, criteria, table_file)
        raw = pd.Series([preset[dims[c]] for c in criteria], index=index, name="weight")
        absent = [d for d in preset.index if d not in dims.values()]
        details = {"kind": "preset", "preset": name, "dimensions": dims}
        if absent:
            details["absent_dimensions"] = absent
            warnings.warn(
                f"preset:{name}: the dimension(s) {', '.join(absent)} are not among the criteria; "
                "the weights of the others were rescaled to sum 1",
                stacklevel=2,
            )
        return WeightSpec(weights=raw / raw.sum(), source=text, details=details)
    if sep and kind in OBJECTIVE_METHODS:
        raise InputError(f"objective methods take no argument; write {kind!r}", found=text)

    word = text.lower()
    if word == "equal":
        w = pd.Series(1.0 / len(criteria), index=index, name="weight")
        return WeightSpec(weights=w, source=text, details={"kind": "equal"})
    if word in OBJECTIVE_METHODS:
        if table is None:
            raise InputError(f"the {word!r} weights need the units table (criteria values)", found=text)
        require_columns(table, criteria, file=table_file)
        w = objective_weights(table[criteria], cost=cost, method=word, file=table_file)
        w.index = index
        return WeightSpec(weights=w.rename("weight"), source=text, details={"kind": "objective", "method": word})
    if "=" in text:
        return WeightSpec(weights=parse_inline(text, criteria), source=text, details={"kind": "inline"})
    path = _resolve_path(text, base_dir)
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".json") or path.exists():
        return WeightSpec(
            weights=read_weights_file(path, criteria), source=text, details={"kind": "file", "file": str(path)}
        )
    raise InputError(f"unknown weight spec; expected one of: {SPEC_FORMS}", found=text)


def _preset_dimensions(name: str, criteria: list[str], table_file: str | Path | None) -> dict[str, str]:
    """Match the criteria to the catalog's dimensions for a preset; the error says how to fix a mismatch."""
    try:
        return match_dimensions(criteria)
    except InputError as exc:
        if "two criteria match" in exc.message:
            raise InputError(exc.message, file=table_file, column=exc.column) from None
        raise InputError(
            f"preset:{name} weights the ten dimensions of the catalog; expected every criterion to be a "
            f"dimension key or label ({', '.join(DIMENSIONS)}). Choose the dimension columns "
            "(score --criteria, a scenario's criteria.columns), aggregate theme or sub-theme indicator "
            "columns into their dimension (score --indicators COL=theme:ROW,..., a scenario's "
            "criteria.indicators), or use weights that name these criteria",
            file=table_file,
            column=exc.column,
            found=exc.found,
        ) from None


def _resolve_blend(
    text: str,
    body: str,
    criteria: list[str],
    table: pd.DataFrame | None,
    cost: list[str],
    base_dir: Path | None,
    table_file: str | Path | None,
) -> WeightSpec:
    parts, at, share_text = body.rpartition("@")
    expert_spec, plus, objective_spec = parts.rpartition("+")
    if not at or not plus or not expert_spec.strip() or not objective_spec.strip():
        raise InputError("expected blend:EXPERT+OBJECTIVE@SHARE, e.g. blend:ahp:m.csv+entropy@0.7", found=text)
    try:
        share = float(share_text)
    except ValueError:
        raise InputError("expected a blend share between 0 and 1 after '@'", found=share_text.strip()) from None
    for part in (expert_spec, objective_spec):
        if part.strip().lower().startswith("blend:"):
            raise InputError("expected a blend of two non-blend specs (blends do not nest)", found=text)
    kw = {"criteria": criteria, "table": table, "cost": cost, "base_dir": base_dir, "table_file": table_file}
    e = resolve_weights(expert_spec, **kw)
    o = resolve_weights(objective_spec, **kw)
    w = blend(e.weights, o.weights, share)
    details = {
        "kind": "blend",
        "share": share,
        "expert": e.to_dict(),
        "objective": o.to_dict(),
    }
    return WeightSpec(weights=w, source=text, details=details)

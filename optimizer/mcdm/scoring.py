"""Score units over criteria with an MCDM method: the validating entry point.

:func:`score` checks the table, the weights and the options once, then calls the pure
kernel of :mod:`optimizer.mcdm.methods` and wraps the arrays into a frozen
:class:`ScoreResult` indexed by unit id and criterion.

Methods (``METHODS``), their native score, default normalization and the ``quality``
map (a score in [0, 1], higher better, used by the selection model):

============  =================  ======================  =============================
method        native score       default normalization   quality
============  =================  ======================  =============================
topsis        C, higher better   vector                  C
ahp           sum w r, higher    max (x/max; min/x)      score
vikor         Q, lower better    own linear              1 - Q
promethee     phi, higher        none (raw differences)  (phi + 1) / 2
copras        N, higher better   own sum                 N
edas          AS, higher better  own (average)           AS
waspas        Q, higher better   max                     Q
spotis        P, lower better    own (bounds)            1 - P
moora         y, higher better   own vector              min-max of y over the units
============  =================  ======================  =============================

Rules applied at the door:

* every criterion value must be a finite number; at least 2 units and 1 criterion;
* weights: one finite, non-negative weight per criterion (no extra names), not all zero;
  they are rescaled to sum 1;
* methods that divide by values (ahp, copras, and the ``max`` / ``sum`` normalizations)
  need values > 0; edas needs a positive column mean;
* a *constant* criterion (same value for every unit) cannot change any ranking. It is
  kept, with a warning, where the formulas stay defined (it then adds the same amount to
  every unit, or nothing). Where
  they divide by the criterion's range (min-max normalization, vikor, spotis with bounds
  from the data; vector normalization of an all-zero column) it is an error, unless
  ``drop_constant=True``: then it is dropped with a warning and the remaining weights are
  rescaled to sum 1 (ranks are unchanged by that rescaling in every method here).
* ranks: 1 = best, ties (scores within 1e-9 relative) share the best rank.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.mcdm import methods as m
from optimizer.mcdm.catalog import aggregate_indicators, load_catalog
from optimizer.mcdm.normalization import ALIASES as NORM_ALIASES
from optimizer.mcdm.normalization import NORMALIZATIONS, domain_problem, get_normalization
from optimizer.validation import id_column, numeric_column, read_table, require_columns

METHODS: tuple[str, ...] = tuple(m.SPECS)

#: Columns of the units data contract that are never criteria by default.
NON_CRITERIA = ("lon", "lat", "x", "y", "cost", "capacity", "contracted", "score")

_UNIT_AXIS = {"d_plus", "d_minus", "S", "R", "phi_plus", "phi_minus", "S_plus", "S_minus", "Q", "SP", "SN", "NSP", "NSN", "WSM", "WPM"}
_CRITERION_AXIS = {"ideal", "anti_ideal", "best", "worst", "average", "bounds_min", "bounds_max"}


@dataclass(frozen=True)
class ScoreResult:
    """Scores and ranks of the units under one method, with every intermediate kept.

    ``scores``: the method's native value (for vikor Q and spotis P, lower is better);
    ``ranks``: 1 = best whatever the direction; ``quality``: a [0, 1] map of the score,
    higher better (see the module docstring); ``intermediates``: the normalized and
    weighted matrices (units x criteria), ideal points (by criterion), distances, S/R/Q,
    flows... (by unit).
    """

    method: str
    scores: pd.Series
    ranks: pd.Series
    higher_is_better: bool
    quality: pd.Series
    weights: pd.Series
    cost: tuple[str, ...]
    normalization: str
    intermediates: dict[str, pd.DataFrame | pd.Series] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)

    @property
    def criteria(self) -> pd.Index:
        """The criteria actually scored (after any dropped constant criterion)."""
        return self.weights.index

    def best(self) -> str:
        """Id of the best-ranked unit (the first one listed if several tie)."""
        return str(self.ranks.idxmin())


# --------------------------------------------------------------------------- reading


def _looks_numeric(col: pd.Series) -> bool:
    """At least half of the non-empty cells parse as numbers (a true/false column is not numeric)."""
    if pd.api.types.is_bool_dtype(col):
        return False
    present = col.dropna()
    if present.empty:
        return True
    parsed = pd.to_numeric(present, errors="coerce")
    return bool(parsed.notna().mean() >= 0.5)


def parse_indicators(text: str | None) -> dict[str, str] | None:
    """Parse ``COL=NODE,COL=NODE`` (the CLI's ``--indicators``) into a mapping; None stays None.

    NODE is any catalog name accepted by :meth:`~optimizer.mcdm.catalog.Catalog.resolve`
    (``theme:13``, ``subtheme:16.1``, a theme or sub-theme name).

    >>> parse_indicators("looks=theme:13, size=theme:14")
    {'looks': 'theme:13', 'size': 'theme:14'}
    """
    if text is None:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        col, sep, node = part.partition("=")
        if not sep or not col.strip() or not node.strip():
            raise InputError("expected indicators as COLUMN=NODE,... (e.g. clinic_appearance=theme:13)", found=part.strip())
        if col.strip() in out:
            raise InputError("expected each indicator column once", column=col.strip())
        out[col.strip()] = node.strip()
    return out or None


def _aggregated_dimensions(df: pd.DataFrame, indicators: Mapping[str, str], path: str | Path) -> pd.DataFrame:
    """Dimension columns aggregated from indicator columns (:func:`~optimizer.mcdm.catalog.aggregate_indicators`)."""
    require_columns(df, list(indicators), file=path)
    for col in indicators:
        numeric_column(df, col, file=path, allow_missing=True)  # names the row of a bad value
    try:
        out = aggregate_indicators(df, dict(indicators))
    except InputError as exc:
        raise InputError(exc.message, file=path, row=exc.row, column=exc.column, found=exc.found, option=exc.option) from None
    catalog = load_catalog()
    for dim in out.columns:
        if dim in df.columns:
            raise InputError(
                f"expected the dimension {dim!r} either as a column or from indicators, not both", file=path, column=dim
            )
        empty = np.flatnonzero(out[dim].isna().to_numpy())
        if empty.size:
            cols = [c for c, node in indicators.items() if catalog.resolve(node).dimension == dim]
            raise InputError(
                f"expected at least one value among the indicators of the dimension {dim!r} ({', '.join(cols)})",
                file=path,
                row=int(empty[0]) + 1,
                column=cols[0] if len(cols) == 1 else None,
            )
    return out


def read_units_table(
    path: str | Path,
    *,
    id_col: str = "unit_id",
    criteria: list[str] | None = None,
    cost: Iterable[str] = (),
    indicators: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a units file into a float table indexed by unit id (str), one column per criterion.

    ``criteria`` default to every numeric column (at least half of its cells are numbers;
    true/false columns are not numeric) except the id, the indicator columns and the data
    contract's non-criteria columns (lon, lat, x, y, cost, capacity, contracted, score),
    plus the ``cost`` columns named (so ``cost=["cost"]`` makes the contract cost a cost
    criterion), plus one column per dimension aggregated from ``indicators``.

    ``indicators`` maps indicator columns to catalog nodes (``{"clinic_appearance":
    "theme:13"}``); each dimension that receives indicators becomes a criterion whose value
    is the weighted mean of its indicators with local weights proportional to the
    repetition counts (:func:`~optimizer.mcdm.catalog.aggregate_indicators`; a missing
    indicator value is left out of that unit's mean). Errors name the file, the 1-based
    data row and the column. Every ``cost`` column must be one of the criteria.
    """
    df = read_table(path, id_columns=[id_col], what="units table")
    ids = id_column(df, id_col, file=path)
    cost = list(cost)
    aggregated = _aggregated_dimensions(df, indicators, path) if indicators else pd.DataFrame(index=df.index)
    if criteria is None:
        skip = {id_col, *(indicators or {})}
        criteria = [
            c for c in df.columns
            if c not in skip and (c in cost or (c not in NON_CRITERIA and _looks_numeric(df[c])))
        ]
        criteria += list(aggregated.columns)
        if not criteria:
            raise InputError("expected at least one numeric criterion column besides the id", file=path, found=list(df.columns))
    else:
        require_columns(df, [c for c in criteria if c not in aggregated.columns], file=path)
        if id_col in criteria:
            raise InputError("expected the id column not to be a criterion", file=path, column=id_col)
    extra = [c for c in cost if c not in criteria]
    if extra:
        require_columns(df, [c for c in extra if c not in aggregated.columns], file=path)
        raise InputError(f"expected cost columns among the criteria {criteria}", file=path, column=extra[0])
    source = pd.concat([df, aggregated], axis=1)
    values = {c: numeric_column(source, c, file=path) for c in criteria}
    table = pd.DataFrame(values, index=pd.Index(ids, name=id_col, dtype=object), columns=criteria)
    if len(table) < 2:
        raise InputError("expected at least 2 units to rank", file=path, found=len(table))
    return table


# --------------------------------------------------------------------------- validation


def resolve_method(name: str) -> m.MethodSpec:
    """The method spec for ``name`` (case-insensitive, aliases allowed) or an InputError listing them."""
    key = str(name).strip().lower()
    key = m.ALIASES.get(key, key)
    if key not in m.SPECS:
        raise InputError(f"unknown method; expected one of {', '.join(METHODS)}", option="method", found=name)
    return m.SPECS[key]


def _validate_table(table: pd.DataFrame) -> tuple[np.ndarray, pd.Index, pd.Index]:
    if not isinstance(table, pd.DataFrame):
        raise InputError("expected a table (DataFrame) of units x criteria", found=type(table).__name__)
    if table.shape[1] == 0:
        raise InputError("expected at least one criterion column")
    if len(table) < 2:
        raise InputError("expected at least 2 units to rank", found=len(table))
    ids = pd.Index(table.index.astype(str).to_numpy(dtype=object), name=table.index.name, dtype=object)
    if not ids.is_unique:
        raise InputError("expected unique unit ids", row=str(ids[ids.duplicated()][0]))
    criteria = pd.Index([str(c) for c in table.columns], dtype=object)
    if criteria.duplicated().any():
        raise InputError("expected unique criterion names", column=str(criteria[criteria.duplicated()][0]))
    frame = table.set_axis(criteria, axis=1).reset_index(drop=True)
    cols = []
    for c in criteria:
        try:
            cols.append(numeric_column(frame, c))
        except InputError as exc:
            row = None if exc.row is None else str(ids[int(exc.row) - 1])
            raise InputError(exc.message, row=None if row is None else f"unit {row}", column=c, found=exc.found) from None
    return np.column_stack(cols), ids, criteria


def _validate_weights(weights: pd.Series | Mapping[str, float], criteria: pd.Index) -> np.ndarray:
    if isinstance(weights, pd.Series):
        weights = dict(zip(map(str, weights.index), weights.to_numpy(), strict=True))
    elif not isinstance(weights, Mapping):
        raise InputError("expected weights as a mapping criterion -> weight", found=type(weights).__name__)
    weights = {str(k): v for k, v in weights.items()}
    missing = [c for c in criteria if c not in weights]
    if missing:
        raise InputError("expected a weight for every criterion", column=missing[0], found=sorted(weights))
    extra = [k for k in weights if k not in set(criteria)]
    if extra:
        raise InputError(f"expected weights only for the criteria {list(criteria)}", column=extra[0])
    w = np.empty(len(criteria))
    for i, c in enumerate(criteria):
        try:
            w[i] = float(weights[c])
        except (TypeError, ValueError):
            raise InputError("expected a numeric weight", column=c, found=weights[c]) from None
        if not np.isfinite(w[i]):
            raise InputError("expected a finite weight", column=c, found=weights[c])
        if w[i] < 0:
            raise InputError("expected a non-negative weight", column=c, found=weights[c])
    if w.sum() <= 0:
        raise InputError("expected at least one positive weight", found=list(w))
    return w / w.sum()


def _per_criterion(name: str, value: object, criteria: pd.Index, default: object) -> list:
    """Expand an option given as a scalar or a mapping criterion -> value to one value per criterion."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in set(criteria)]
        if unknown:
            raise InputError(f"expected {name} keys among the criteria {list(criteria)}", column=str(unknown[0]))
        return [value.get(c, default) for c in criteria]
    return [value] * len(criteria)


def _number(name: str, value: object, *, lo: float = 0.0, hi: float = np.inf, column: str | None = None) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a number for {name}", column=column, found=value) from None
    if not np.isfinite(f) or f < lo or f > hi:
        raise InputError(f"expected {name} in [{lo:g}, {hi:g}]", column=column, found=value)
    return f


def _kernel_options(spec: m.MethodSpec, options: dict, x: np.ndarray, criteria: pd.Index) -> tuple[dict, dict]:
    """Validate ``options`` for ``spec``; return (kernel keyword arguments, options as recorded)."""
    unknown = [k for k in options if k not in spec.options]
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise InputError(f"unknown option for {spec.name}; expected one of: {allowed}", found=unknown[0])
    merged = {**spec.options, **options}
    if spec.name == "vikor":
        v = _number("v", merged["v"], hi=1.0)
        return {"v": v}, {"v": v}
    if spec.name == "waspas":
        lam = _number("lam (lambda)", merged["lam"], hi=1.0)
        return {"lam": lam}, {"lam": lam}
    if spec.name == "spotis":
        return _spotis_bounds(merged["bounds"], x, criteria)
    if spec.name == "promethee":
        return _promethee_options(merged, criteria)
    return {}, {}


def _spotis_bounds(bounds: object, x: np.ndarray, criteria: pd.Index) -> tuple[dict, dict]:
    if bounds is None:
        return {}, {"bounds": "data min/max"}
    if isinstance(bounds, Mapping):
        missing = [c for c in criteria if c not in bounds]
        if missing:
            raise InputError("expected SPOTIS bounds (min, max) for every criterion", column=missing[0])
        arr = np.array([[float(v) for v in bounds[c]] for c in criteria])
    else:
        arr = np.asarray(bounds, dtype=float)
    if arr.shape != (len(criteria), 2) or not np.isfinite(arr).all():
        raise InputError("expected SPOTIS bounds as finite (min, max) per criterion", found=arr.shape)
    for j, c in enumerate(criteria):
        lo, hi = arr[j]
        if not lo < hi or x[:, j].min() < lo or x[:, j].max() > hi:
            raise InputError("expected SPOTIS bounds with min < max enclosing every value", column=c, found=(lo, hi))
    return {"bounds": arr}, {"bounds": {c: tuple(arr[j]) for j, c in enumerate(criteria)}}


def _promethee_options(merged: dict, criteria: pd.Index) -> tuple[dict, dict]:
    funcs = _per_criterion("preference", merged["preference"], criteria, "usual")
    qs = _per_criterion("q", merged["q"], criteria, 0.0)
    ps = _per_criterion("p", merged["p"], criteria, 0.0)
    ss = _per_criterion("s", merged["s"], criteria, 1.0)
    for j, c in enumerate(criteria):
        f = str(funcs[j]).strip().lower()
        if f not in m.PREFERENCE_FUNCTIONS:
            raise InputError(f"unknown preference function; expected one of {', '.join(m.PREFERENCE_FUNCTIONS)}", column=c, found=funcs[j])
        funcs[j] = f
        qs[j] = _number("q (indifference threshold)", qs[j], column=c)
        ps[j] = _number("p (preference threshold)", ps[j], column=c)
        ss[j] = _number("s (gaussian parameter)", ss[j], column=c)
        if f in ("vshape", "linear", "level") and (ps[j] <= 0 or ps[j] < qs[j]):
            raise InputError(f"expected p > 0 and p >= q for the {f} preference function", column=c, found={"q": qs[j], "p": ps[j]})
        if f == "gaussian" and ss[j] <= 0:
            raise InputError("expected s > 0 for the gaussian preference function", column=c, found=ss[j])
    kwargs = {"preference": tuple(funcs), "q": np.array(qs), "p": np.array(ps), "s": np.array(ss)}
    recorded = {"preference": dict(zip(criteria, funcs, strict=True)), "q": dict(zip(criteria, qs, strict=True)),
                "p": dict(zip(criteria, ps, strict=True)), "s": dict(zip(criteria, ss, strict=True))}
    return kwargs, recorded


def _resolve_normalization(spec: m.MethodSpec, normalization: str | None) -> str:
    if normalization is None:
        return spec.default_normalization
    key = str(normalization).strip().lower()
    key = NORM_ALIASES.get(key, key)
    if not spec.normalizations:
        if key == spec.default_normalization:
            return key
        raise InputError(
            f"{spec.name} uses its own normalization ({spec.default_normalization}); expected no --normalization",
            option="normalization",
            found=normalization,
        )
    if key not in spec.normalizations:
        raise InputError(f"unknown normalization for {spec.name}; expected one of {', '.join(spec.normalizations)}",
                         option="normalization", found=normalization)
    return key


def _check_domain(spec: m.MethodSpec, norm_name: str, x: np.ndarray, ids: pd.Index, criteria: pd.Index,
                  drop_constant: bool, has_bounds: bool) -> np.ndarray:
    """Raise for values outside the method's domain; return the mask of criteria to keep."""
    norm = get_normalization(norm_name) if norm_name in NORMALIZATIONS else None
    constant = x.max(axis=0) == x.min(axis=0)
    if constant.all():
        raise InputError("expected at least one criterion whose values differ between units; every criterion is constant")
    keep = np.ones(x.shape[1], dtype=bool)
    for j, c in enumerate(criteria):
        col = x[:, j]
        if spec.domain == "positive" and (col <= 0).any():
            i = int(np.flatnonzero(col <= 0)[0])
            raise InputError(f"expected values > 0 ({spec.name} divides by them)", row=f"unit {ids[i]}", column=c, found=float(col[i]))
        if spec.domain == "positive_mean" and col.mean() <= 0:
            raise InputError(f"expected a positive column mean ({spec.name} divides by it)", column=c, found=float(col.mean()))
        problem = None if norm is None else domain_problem(norm, col)
        if problem is not None and problem[1] is not None:
            raise InputError(problem[0], row=f"unit {ids[problem[1]]}", column=c, found=float(col[problem[1]]))
        if constant[j] and (problem is not None or (spec.needs_spread and not has_bounds)):
            if not drop_constant:
                raise InputError(
                    f"criterion has the same value for every unit; {spec.name} ({norm_name}) divides by its range; "
                    "expected a criterion that varies: remove it from the criteria or allow dropping constant criteria (--drop-constant)",
                    column=c,
                    found=float(col[0]),
                )
            warnings.warn(f"criterion {c!r} is constant and was dropped (weights rescaled)", stacklevel=3)
            keep[j] = False
        elif problem is not None:
            raise InputError(problem[0], column=c)
        elif constant[j]:
            warnings.warn(f"criterion {c!r} has the same value for every unit; it cannot change the ranking", stacklevel=3)
    return keep


def _wrap(name: str, arr: np.ndarray, ids: pd.Index, criteria: pd.Index) -> pd.DataFrame | pd.Series:
    if name in _CRITERION_AXIS:
        return pd.Series(arr, index=criteria, name=name)
    if name in _UNIT_AXIS or name == "score":
        return pd.Series(arr, index=ids, name=name)
    return pd.DataFrame(arr, index=ids, columns=criteria)


@dataclass(frozen=True)
class Prepared:
    """A validated scoring problem: arrays ready for the kernel (see :func:`prepare`)."""

    spec: m.MethodSpec
    x: np.ndarray
    ids: pd.Index
    criteria: pd.Index
    w: np.ndarray
    cost_mask: np.ndarray
    normalization: str
    kwargs: dict[str, object]
    options: dict[str, object]

    @property
    def cost(self) -> tuple[str, ...]:
        return tuple(c for c, k in zip(self.criteria, self.cost_mask, strict=True) if k)

    def run(self, w: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every kernel output for ``w`` ((m,) or (k, m); default the validated weights)."""
        kwargs = dict(self.kwargs)
        if self.spec.normalizations:  # only topsis and waspas take a normalization strategy
            kwargs["normalization"] = get_normalization(self.normalization)
        return self.spec.kernel(self.x, self.w if w is None else w, self.cost_mask, **kwargs)

    def evaluate(self, w: np.ndarray) -> np.ndarray:
        """Native scores for a weight vector (m,) or a batch (k, m) of them."""
        return self.run(w)["score"]


def prepare(
    table: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    cost: Iterable[str] = (),
    method: str = "topsis",
    normalization: str | None = None,
    drop_constant: bool = False,
    **options: object,
) -> Prepared:
    """Validate a scoring problem once (every rule of the module docstring); see :func:`score`."""
    spec = resolve_method(method)
    x, ids, criteria = _validate_table(table)
    w = _validate_weights(weights, criteria)
    cost = tuple(str(c) for c in cost)
    unknown_cost = [c for c in cost if c not in set(criteria)]
    if unknown_cost:
        raise InputError(f"expected cost criteria among {list(criteria)}", column=unknown_cost[0])
    norm_name = _resolve_normalization(spec, normalization)
    has_bounds = options.get("bounds") is not None
    cost_mask = np.array([c in cost for c in criteria])
    keep = _check_domain(spec, norm_name, x, ids, criteria, drop_constant, has_bounds)
    if not keep.all():
        x, criteria, cost_mask = x[:, keep], criteria[keep], cost_mask[keep]
        if w[keep].sum() <= 0:
            raise InputError("expected a positive weight on at least one non-constant criterion")
        w = w[keep] / w[keep].sum()
        kept = set(criteria)
        options = {k: ({c: v[c] for c in v if c in kept} if isinstance(v, Mapping) else v) for k, v in options.items()}
    kwargs, recorded = _kernel_options(spec, dict(options), x, criteria)
    return Prepared(spec, x, ids, criteria, w, cost_mask, norm_name, kwargs, recorded)


def score(
    table: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    cost: Iterable[str] = (),
    method: str = "topsis",
    normalization: str | None = None,
    drop_constant: bool = False,
    **options: object,
) -> ScoreResult:
    """Score and rank the units of ``table`` (rows = units by id, columns = criteria).

    ``weights``: one weight per criterion (rescaled to sum 1); ``cost``: the criteria where
    lower is better; ``method``: one of :data:`METHODS`; ``normalization``: None means the
    method's published default (TOPSIS: vector; WASPAS: max; AHP: max, the ratings
    definition; the other methods fix their own). ``drop_constant``: drop a constant
    criterion the method cannot handle instead of raising. ``options``: vikor ``v`` (0.5),
    waspas ``lam`` (0.5), spotis ``bounds`` (criterion -> (min, max); default the data's
    min and max), promethee ``preference`` (``usual`` on every criterion by default; or
    ushape, vshape, level, linear, gaussian, one name or a mapping per criterion) with
    thresholds ``q``, ``p``, ``s`` in the criterion's units.

    >>> t = pd.DataFrame({"a": [7.0, 8.0, 9.0], "b": [9.0, 7.0, 6.0]}, index=["u1", "u2", "u3"])
    >>> r = score(t, {"a": 1, "b": 1})
    >>> r.ranks.tolist(), r.normalization
    ([1, 2, 3], 'vector')
    """
    prep = prepare(table, weights, cost=cost, method=method, normalization=normalization, drop_constant=drop_constant, **options)
    spec, ids, criteria = prep.spec, prep.ids, prep.criteria
    out = prep.run()
    raw = out.pop("score")
    inter = {k: _wrap(k, v, ids, criteria) for k, v in out.items()}
    if spec.name == "vikor":
        inter["compromise"] = pd.Series(m.vikor_compromise(out["S"], out["R"], raw), index=ids, name="compromise")
    return ScoreResult(
        method=spec.name,
        scores=pd.Series(raw, index=ids, name="score"),
        ranks=pd.Series(m.rank_min(raw, spec.higher_is_better), index=ids, name="rank"),
        higher_is_better=spec.higher_is_better,
        quality=pd.Series(spec.quality(raw), index=ids, name="quality"),
        weights=pd.Series(prep.w, index=criteria, name="weight"),
        cost=prep.cost,
        normalization=prep.normalization,
        intermediates=inter,
        options=prep.options,
    )

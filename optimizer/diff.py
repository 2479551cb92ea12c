"""Compare two run folders: which units and regions changed between them, and by how much.

:func:`diff_runs` reads what ``optimizer run`` wrote (``selection.csv``, ``regions.csv``,
``summary.json``) in two run folders A and B and returns a frozen :class:`RunDiff`:

* units whose selection, score or rank changed (a unit that is a candidate in only one
  of the runs is reported too, with the other side missing);
* regions whose covered share, number of units or other indicator changed, with
  ``delta = B - A``;
* the key figures of both runs side by side with their deltas.

Scores are compared with an absolute tolerance of :data:`SCORE_TOLERANCE` (so a rerun
of the same scenario shows no change); ranks and selection flags exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.validation import read_table, require_columns

RUN_FILES = ("selection.csv", "regions.csv", "summary.json")
SCORE_TOLERANCE = 1e-9
UNIT_ID = "unit_id"
REGION_ID = "region"

NOT_FIGURES = ("scenario", "inputs", "versions", "timings")
"""Summary keys that are not key figures (they differ between reruns of one scenario)."""

REGION_METRICS = (
    "covered_share_after",
    "reached_share",
    "served_share",
    "capacity_in_reach",
    "units_after",
    "units_per_100k_after",
    "access_2sfca_after",
    "population",
    "floor_met",
    "ratio_met",
)
"""Region columns compared, when both runs have them."""

FLAG_METRICS = ("floor_met", "ratio_met")
"""Region columns holding True / False / empty (compared as text, no delta)."""


@dataclass(frozen=True)
class RunDiff:
    """Differences between run A and run B (``delta`` is always B minus A).

    Attributes
    ----------
    run_a, run_b : Path
        The two run folders.
    units : DataFrame indexed by unit id
        Units that changed: ``selected_a``, ``selected_b``, ``change`` (``entered``,
        ``left``, ``only in A``, ``only in B``, or ``score/rank`` when only those moved),
        ``score_a``, ``score_b``, ``score_delta``, ``rank_a``, ``rank_b``, ``rank_delta``.
    regions : DataFrame indexed by region id
        Regions where any compared indicator changed: ``<metric>_a``, ``<metric>_b`` and,
        for numeric metrics, ``<metric>_delta``.
    summary : DataFrame indexed by key figure
        ``a``, ``b``, ``delta`` for every numeric key figure in both summaries.
    entered, left : tuple of str
        Units selected in B but not A, and in A but not B (both runs list them).
    """

    run_a: Path
    run_b: Path
    units: pd.DataFrame
    regions: pd.DataFrame
    summary: pd.DataFrame
    entered: tuple[str, ...]
    left: tuple[str, ...]

    @property
    def identical(self) -> bool:
        """True when no unit, region or key figure changed."""
        deltas = self.summary["delta"].to_numpy(float) if len(self.summary) else np.zeros(0)
        return self.units.empty and self.regions.empty and bool(np.all(np.abs(np.nan_to_num(deltas)) <= SCORE_TOLERANCE))

    def to_dict(self) -> dict[str, Any]:
        """Plain structure for ``--json`` (ids as keys of records, NaN as null)."""
        return {
            "run_a": str(self.run_a),
            "run_b": str(self.run_b),
            "identical": self.identical,
            "entered": list(self.entered),
            "left": list(self.left),
            "summary": {k: row.to_dict() for k, row in self.summary.iterrows()},
            "units": [{UNIT_ID: k, **row.to_dict()} for k, row in self.units.iterrows()],
            "regions": [{REGION_ID: k, **row.to_dict()} for k, row in self.regions.iterrows()],
        }


@dataclass(frozen=True)
class _Run:
    folder: Path
    units: pd.DataFrame
    regions: pd.DataFrame
    figures: dict[str, float]


def _bool_series(s: pd.Series, file: Path, column: str) -> pd.Series:
    """Selection flags as written by pandas (True/False) or as 1/0, yes/no."""
    text = s.astype("string").str.strip().str.lower()
    mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    out = text.map(mapping)
    bad = out.isna() & text.notna()
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("expected true or false", file=file, row=k + 1, column=column, found=s.iloc[k])
    return out.astype("boolean")


def _numbers(summary: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of the summary's key figures (nested keys joined with '.')."""
    out: dict[str, float] = {}
    if isinstance(summary, dict):
        for k, v in summary.items():
            out.update(_numbers(v, f"{prefix}{k}."))
    elif isinstance(summary, bool):
        return out
    elif isinstance(summary, int | float) and np.isfinite(summary):
        out[prefix.rstrip(".")] = float(summary)
    return out


def _read_run(folder: str | Path) -> _Run:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("expected a run folder written by 'optimizer run'", file=folder, found="not a folder" if folder.exists() else "does not exist")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(
            f"expected a run folder written by 'optimizer run' (with {', '.join(RUN_FILES)})",
            file=folder,
            found=f"missing {', '.join(missing)}",
        )
    sel_path, reg_path, sum_path = (folder / n for n in RUN_FILES)
    units = read_table(sel_path, id_columns=(UNIT_ID,), what="selection table")
    require_columns(units, (UNIT_ID, "selected"), file=sel_path)
    if units[UNIT_ID].duplicated().any():
        raise InputError("expected unique unit ids", file=sel_path, column=UNIT_ID, found=units.loc[units[UNIT_ID].duplicated(), UNIT_ID].iloc[0])
    units = units.set_index(UNIT_ID)
    units["selected"] = _bool_series(units["selected"], sel_path, "selected")
    regions = read_table(reg_path, id_columns=(REGION_ID,), what="regions table")
    require_columns(regions, (REGION_ID,), file=reg_path)
    regions = regions.set_index(REGION_ID)
    try:
        summary = json.loads(sum_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"expected a JSON summary: {exc}", file=sum_path) from None
    if not isinstance(summary, dict):
        raise InputError("expected a JSON object", file=sum_path, found=type(summary).__name__)
    figures = summary.get("figures")
    if not isinstance(figures, dict):
        figures = {k: v for k, v in summary.items() if k not in NOT_FIGURES}
    return _Run(folder=folder, units=units, regions=regions, figures=_numbers(figures))


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def unit_changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Units whose selection, score or rank differ between two selection tables.

    >>> a = pd.DataFrame({"selected": [True, False, True], "score": [0.5, 0.4, 0.3], "rank": [1, 2, 3]}, index=["u1", "u2", "u3"])
    >>> b = pd.DataFrame({"selected": [True, True], "score": [0.5, 0.45], "rank": [1, 2]}, index=["u1", "u2"])
    >>> unit_changes(a, b)["change"].to_dict()
    {'u2': 'entered', 'u3': 'only in A'}
    """
    ids = a.index.union(b.index, sort=False)
    sel_a = a["selected"].reindex(ids).astype("boolean")
    sel_b = b["selected"].reindex(ids).astype("boolean")
    out = pd.DataFrame(index=pd.Index(ids, name=UNIT_ID))
    out["selected_a"] = sel_a
    out["selected_b"] = sel_b
    for col in ("score", "rank"):
        va = _numeric(a, col).reindex(ids)
        vb = _numeric(b, col).reindex(ids)
        out[f"{col}_a"] = va
        out[f"{col}_b"] = vb
        out[f"{col}_delta"] = vb - va
    in_a = ids.isin(a.index)
    in_b = ids.isin(b.index)
    sa = sel_a.fillna(False).to_numpy(bool)
    sb = sel_b.fillna(False).to_numpy(bool)
    score_moved = np.abs(np.nan_to_num(out["score_delta"].to_numpy(float))) > SCORE_TOLERANCE
    score_moved |= out["score_a"].isna().to_numpy() != out["score_b"].isna().to_numpy()
    rank_moved = np.nan_to_num(out["rank_delta"].to_numpy(float)) != 0
    change = np.select(
        [~in_b, ~in_a, sb & ~sa, sa & ~sb, score_moved | rank_moved],
        ["only in A", "only in B", "entered", "left", "score/rank"],
        default="",
    )
    out.insert(2, "change", change)
    return out[change != ""]


def region_changes(a: pd.DataFrame, b: pd.DataFrame, metrics: tuple[str, ...] = REGION_METRICS) -> pd.DataFrame:
    """Regions where any of ``metrics`` (present in either table) differs; deltas are B - A."""
    ids = a.index.union(b.index, sort=False)
    out = pd.DataFrame(index=pd.Index(ids, name=REGION_ID))
    changed = ~(ids.isin(a.index) & ids.isin(b.index))
    for m in metrics:
        if m not in a.columns and m not in b.columns:
            continue
        va = a[m].reindex(ids) if m in a.columns else pd.Series(pd.NA, index=ids)
        vb = b[m].reindex(ids) if m in b.columns else pd.Series(pd.NA, index=ids)
        na = pd.to_numeric(va, errors="coerce")
        nb = pd.to_numeric(vb, errors="coerce")
        numeric = na.notna().any() or nb.notna().any()
        if numeric and m not in FLAG_METRICS:
            out[f"{m}_a"] = na.astype(float)
            out[f"{m}_b"] = nb.astype(float)
            delta = (nb - na).astype(float)
            out[f"{m}_delta"] = delta
            moved = np.abs(np.nan_to_num(delta.to_numpy(float))) > SCORE_TOLERANCE
            moved |= na.isna().to_numpy() != nb.isna().to_numpy()
        else:
            ta = va.astype("string").str.lower()
            tb = vb.astype("string").str.lower()
            out[f"{m}_a"] = ta
            out[f"{m}_b"] = tb
            moved = (ta.fillna("").to_numpy(dtype=object) != tb.fillna("").to_numpy(dtype=object)).astype(bool)
        changed |= moved
    return out[changed]


def summary_changes(a: dict[str, float], b: dict[str, float]) -> pd.DataFrame:
    """Key figures present in both summaries, side by side with ``delta = b - a``."""
    keys = [k for k in a if k in b]
    frame = pd.DataFrame({"a": [a[k] for k in keys], "b": [b[k] for k in keys]}, index=pd.Index(keys, name="figure"), dtype=float)
    frame["delta"] = frame["b"] - frame["a"]
    return frame


def diff_runs(run_a: str | Path, run_b: str | Path) -> RunDiff:
    """Compare two run folders written by ``optimizer run`` (see the module docstring).

    Raises :class:`~optimizer.errors.InputError` when a folder is not a run folder (missing
    ``selection.csv``, ``regions.csv`` or ``summary.json``) or a file is malformed.
    """
    a = _read_run(run_a)
    b = _read_run(run_b)
    units = unit_changes(a.units, b.units)
    entered = tuple(units.index[units["change"] == "entered"])
    left = tuple(units.index[units["change"] == "left"])
    return RunDiff(
        run_a=a.folder,
        run_b=b.folder,
        units=units,
        regions=region_changes(a.regions, b.regions),
        summary=summary_changes(a.figures, b.figures),
        entered=entered,
        left=left,
    )

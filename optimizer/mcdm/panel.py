"""Expert panels: group AHP with a dissent report, and the ``survey:FILE`` weight spec.

Panel AHP takes one pairwise comparison matrix per expert and combines them with
:func:`optimizer.mcdm.ahp.group_ahp` (element-wise geometric mean, AIJ). The **dissent
report** says, for each expert e with weights w_e and the group's weights w_g over n
criteria:

- ``euclidean``  = sqrt(sum_i (w_e,i - w_g,i)^2);
- ``max_abs``    = max_i |w_e,i - w_g,i| and the criterion where it occurs (``most_different``);
- ``spearman``   = Spearman rank correlation of w_e and w_g (NaN when either is constant);
- ``compatibility`` = Saaty's compatibility index of the expert's matrix A_e with the
  group's weights, S = (1/n^2) sum_ij a_ij w_g,j / w_g,i (= 1 when the expert's
  judgements are exactly the group's ratios; Saaty & Peniwati 2008, *Group Decision
  Making*, ch. 6: S <= 1.1 is compatible), and ``compatible`` = S <= 1.1;
- the expert's own ``cr`` and ``consistent`` (CR <= 0.10).

Weight-spec export: any panel result (Delphi, Friedman ranking, panel AHP) can be written
as a JSON file::

    {"weights": {"criterion": weight, ...},
     "provenance": {"panel": ..., "method": ..., "rounds": [...] | null, "rule": ... | null,
                    "created": ISO-8601 UTC, "source_files": [{"path": ..., "sha256": ...}],
                    ...}}

and read back with :func:`survey_weights` (the ``survey:FILE`` weight spec of
``optimizer score`` and scenario files). Matching the file's factors to the criteria:
if every factor and every criterion names one of the ten dimensions of the catalog
(by key or label, see :func:`optimizer.mcdm.catalog.match_dimensions`), they are matched
by dimension (``Demographic factors`` weights the criterion ``demographic``); otherwise
names must be equal. Either way every criterion needs a weight and every weight a
criterion; errors name the missing and the extra ones.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from optimizer import __version__
from optimizer.errors import InputError
from optimizer.mcdm.ahp import GroupAHPResult, expert_names, group_ahp, read_pairwise_csv
from optimizer.mcdm.catalog import match_dimensions
from optimizer.mcdm.weights import WeightSpec
from optimizer.output import write_json
from optimizer.validation import require_file

#: Saaty & Peniwati's threshold on the compatibility index.
COMPATIBILITY_THRESHOLD = 1.1


# --------------------------------------------------------------------------- panel AHP
@dataclass(frozen=True)
class PanelAHPResult:
    """Group AHP of a panel and how far each expert is from the group.

    ``dissent`` is indexed by expert with columns cr, consistent, euclidean, max_abs,
    most_different, spearman, compatibility, compatible (see the module docstring).
    ``weights`` is the experts x criteria table of individual weights.
    """

    group: GroupAHPResult
    dissent: pd.DataFrame
    weights: pd.DataFrame

    @property
    def group_weights(self) -> pd.Series:
        return self.group.group.weights


def compatibility_index(a: np.ndarray, w: np.ndarray) -> float:
    """Saaty's compatibility index S = (1/n^2) sum_ij a_ij w_j / w_i (pure kernel).

    >>> w = np.array([0.5, 0.3, 0.2]); compatibility_index(w[:, None] / w[None, :], w)
    1.0
    """
    n = a.shape[0]
    return float(np.sum(a * (w[None, :] / w[:, None])) / n**2)


def dissent_report(result: GroupAHPResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each expert's distance from the group (see the module docstring) and their weights."""
    wg = result.group.weights.to_numpy(float)
    criteria = list(result.group.weights.index)
    rows, table = [], {}
    for name, r in result.experts.items():
        we = r.weights.reindex(criteria).to_numpy(float)
        diff = we - wg
        j = int(np.argmax(np.abs(diff)))
        if np.ptp(we) == 0 or np.ptp(wg) == 0:
            rho = math.nan
        else:
            rho = float(stats.spearmanr(we, wg).statistic)
        s = compatibility_index(r.matrix.loc[criteria, criteria].to_numpy(float), wg)
        rows.append(
            {
                "expert": name,
                "cr": r.cr,
                "consistent": r.consistent,
                "euclidean": float(np.sqrt(np.sum(diff**2))),
                "max_abs": float(abs(diff[j])),
                "most_different": criteria[j],
                "spearman": rho,
                "compatibility": s,
                "compatible": bool(s <= COMPATIBILITY_THRESHOLD),
            }
        )
        table[name] = pd.Series(we, index=criteria)
    dissent = pd.DataFrame(rows).set_index("expert")
    weights = pd.DataFrame(table).T
    weights.index.name = "expert"
    return dissent, weights


def panel_ahp(
    matrices: Sequence[pd.DataFrame], names: Sequence[str] | None = None, *, files: Sequence[str | Path] | None = None
) -> PanelAHPResult:
    """Group AHP of at least 2 experts' matrices with the dissent report (``files`` name them in messages)."""
    if len(matrices) < 2:
        raise InputError("expected pairwise matrices from at least 2 experts for a panel", found=len(matrices))
    group = group_ahp(matrices, names, files=files)
    dissent, weights = dissent_report(group)
    return PanelAHPResult(group=group, dissent=dissent, weights=weights)


def panel_ahp_files(paths: Sequence[str | Path], names: Sequence[str] | None = None) -> PanelAHPResult:
    """Read one matrix CSV per expert (see :func:`read_pairwise_csv`) and run :func:`panel_ahp`.

    Expert names default to the file stems (``expert_a.csv`` -> ``expert_a``), or the
    paths when two stems coincide.
    """
    if len(paths) < 2:
        raise InputError("expected pairwise matrices from at least 2 experts for a panel", found=[str(p) for p in paths])
    if names is not None and len(names) != len(paths):
        raise InputError(f"expected {len(paths)} expert names, one per matrix file", column="names", found=list(names))
    if names is None:
        names = expert_names(paths)
    matrices = [read_pairwise_csv(p) for p in paths]
    return panel_ahp(matrices, names, files=paths)


# --------------------------------------------------------------------------- export
def file_digest(path: str | Path) -> dict:
    """``{"path": ..., "sha256": ...}`` of a source file."""
    p = Path(path)
    return {"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


def make_provenance(
    *,
    panel: str,
    method: str,
    rounds: Sequence[int] | None = None,
    rule: str | None = None,
    source_files: Sequence[str | Path] = (),
    extra: Mapping[str, object] | None = None,
) -> dict:
    """The provenance record kept with exported weights (and in a run's summary)."""
    out = {
        "panel": panel,
        "method": method,
        "rounds": None if rounds is None else [int(r) for r in rounds],
        "rule": rule,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": f"optimizer {__version__}",
        "source_files": [file_digest(p) for p in source_files],
    }
    if extra:
        out.update(dict(extra))
    return out


def export_weights(path: str | Path, weights: pd.Series, provenance: Mapping[str, object], *, force: bool = False) -> Path:
    """Write ``{"weights": ..., "provenance": ...}`` atomically; refuse to overwrite unless ``force``."""
    p = Path(path)
    if p.exists() and not force:
        raise InputError("the weights file already exists; choose another name or pass --force to replace it", file=p)
    if p.parent and not p.parent.exists():
        raise InputError("the folder for the weights file does not exist", file=p)
    w = weights.astype(float)
    write_json(p, {"weights": {str(k): float(v) for k, v in w.items()}, "provenance": dict(provenance)})
    return p


# --------------------------------------------------------------------------- survey:FILE
def _read_export(path: Path) -> tuple[dict[str, float], dict]:
    p = require_file(path, "survey weights file")
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"expected a JSON survey weights file ({exc})", file=p) from None
    if not isinstance(data, dict) or not isinstance(data.get("weights"), dict) or not data["weights"]:
        raise InputError('expected a JSON object {"weights": {factor: weight, ...}, "provenance": {...}}', file=p)
    prov = data.get("provenance")
    if not isinstance(prov, dict):
        raise InputError('expected a "provenance" object (written by `optimizer panel ... --export`)', file=p, column="provenance")
    weights = {}
    for k, v in data["weights"].items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise InputError("expected a finite non-negative weight", file=p, column=str(k), found=v)
        weights[str(k)] = float(v)
    if sum(weights.values()) <= 0:
        raise InputError("expected at least one positive weight", file=p)
    return weights, prov


def _as_dimensions(names: Sequence[str]) -> dict[str, str] | None:
    """``name -> dimension key`` when every name is a catalog dimension, else None."""
    try:
        return match_dimensions(list(names))
    except InputError:
        return None


def survey_weights(path: Path, criteria: Sequence[str]) -> WeightSpec:
    """Read an exported panel weights file and align it with ``criteria`` (``survey:FILE``).

    Returns a :class:`~optimizer.mcdm.weights.WeightSpec` indexed by ``criteria`` (sum 1),
    with ``details["provenance"]`` the file's provenance and ``details["matched"]`` the
    criterion -> factor mapping used.
    """
    p = Path(path)
    raw, prov = _read_export(p)
    criteria = [str(c) for c in criteria]
    factors = list(raw)
    fdim, cdim = _as_dimensions(factors), _as_dimensions(criteria)
    if fdim is not None and cdim is not None:
        by_dim = {d: f for f, d in fdim.items()}
        matched = {c: by_dim.get(cdim[c]) for c in criteria}
        how = "dimension"
    else:
        matched = {c: (c if c in raw else None) for c in criteria}
        how = "name"
    missing = [c for c, f in matched.items() if f is None]
    used = {f for f in matched.values() if f is not None}
    extra = [f for f in factors if f not in used]
    if missing or extra:
        raise InputError(
            f"expected the survey to weight exactly the criteria (matched by {how})"
            + (f"; criteria without a weight: {', '.join(missing)}" if missing else "")
            + (f"; weighted factors that are not criteria: {', '.join(extra)}" if extra else ""),
            file=p,
            column=(missing or extra)[0],
        )
    w = pd.Series([raw[matched[c]] for c in criteria], index=pd.Index(criteria, name="criterion"), name="weight")
    w = w / w.sum()
    details = {"file": str(p), "matched_by": how, "matched": matched, "provenance": prov}
    return WeightSpec(weights=w, source=f"survey:{p}", details=details)

r"""Why a unit was ranked where it was: per-criterion contributions to its score.

:func:`contributions` splits every unit's score into one part per criterion:

==========  ====================================================================  ==========
method      contribution of criterion j to unit i                                 sums to
==========  ====================================================================  ==========
ahp         :math:`w_j r_{ij}` (exact: the method is additive)                    score
moora       :math:`\pm w_j x^*_{ij}` (minus for cost criteria)                    score y
spotis      :math:`w_j d_{ij}` (weighted distance to the ideal; lower is better)  score P
promethee   :math:`w_j(\phi^+_j(i)-\phi^-_j(i))` (single-criterion net flows)     score phi
edas        :math:`\tfrac12 w_j(PDA_{ij}/\max SP + 1 - NDA_{ij}/\max SN)`         score AS
waspas      :math:`\lambda w_j r_{ij} + (1-\lambda) WPM_i\, w_j r_{ij}/WSM_i`     score
topsis      :math:`C_i\,(v_{ij}-v^-_j)^2/(D^-_i)^2`: the closeness split by each  score C
            criterion's share of the squared distance to the anti-ideal
copras      benefit: :math:`d_{ij}/\max Q`; cost: the unit's cost term split by   score N
            the cost criteria's weights, divided by :math:`\max Q`
vikor       :math:`w_j d_{ij}` (weighted regret; lower is better)                 S (not Q)
==========  ====================================================================  ==========

:func:`explain_unit` compares a unit with the best-ranked unit (or, for the best unit,
with the runner-up) criterion by criterion and names its strongest and weakest criteria:
"why selected / why not".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.mcdm.scoring import ScoreResult

#: What each method's contributions add up to.
SUMS_TO = {"vikor": "group utility S"}


def _safe_ratio(num: pd.Series | pd.DataFrame, den: float | pd.Series) -> pd.Series | pd.DataFrame:
    if np.isscalar(den):
        return num * 0.0 if den == 0 else num / den
    return num.div(den.replace(0.0, np.nan), axis=0).fillna(0.0)


def contributions(result: ScoreResult, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Units x criteria table of each criterion's contribution to the unit's score.

    The rule per method is in the module docstring; except for VIKOR (whose contributions
    add up to the group utility S) every row sums to the unit's score. If ``table`` is
    given it must hold the result's units and criteria (a guard against explaining a
    result with the wrong table).
    """
    if table is not None:
        _check_table(result, table)
    inter = result.intermediates
    w = result.weights
    name = result.method
    if name in ("ahp", "moora", "spotis", "vikor"):
        out = inter["weighted"]
    elif name == "promethee":
        out = inter["criterion_flows"].mul(w, axis=1)
    elif name == "edas":
        pos = _safe_ratio(inter["PDA"].mul(w, axis=1), float(inter["SP"].max()))
        neg = _safe_ratio(inter["NDA"].mul(w, axis=1), float(inter["SN"].max()))
        out = 0.5 * (pos + (w - neg))
    elif name == "waspas":
        lam = float(result.options["lam"])
        share = _safe_ratio(inter["weighted"], inter["WSM"])
        out = lam * inter["weighted"] + (1 - lam) * share.mul(inter["WPM"], axis=0)
    elif name == "topsis":
        sq = (inter["weighted"] - inter["anti_ideal"]) ** 2
        out = _safe_ratio(sq, inter["d_minus"] ** 2).mul(result.scores, axis=0)
    elif name == "copras":
        qmax = float(inter["Q"].max())
        cost = list(result.cost)
        out = inter["weighted"] / qmax
        if cost:
            rel = inter["Q"] - inter["S_plus"]
            share = w[cost] / w[cost].sum() if w[cost].sum() > 0 else pd.Series(1.0 / len(cost), index=cost)
            out[cost] = np.outer(rel.to_numpy() / qmax, share.to_numpy())
    else:  # pragma: no cover - every method in SPECS is handled above
        raise InputError(f"no contribution rule for method {name!r}")
    return pd.DataFrame(out, index=result.scores.index, columns=result.criteria).astype(float)


def _check_table(result: ScoreResult, table: pd.DataFrame) -> None:
    ids = pd.Index(map(str, table.index))
    missing_units = result.scores.index.difference(ids)
    if len(missing_units):
        raise InputError("expected the table the result was scored on", row=str(missing_units[0]))
    missing_cols = [c for c in result.criteria if c not in set(map(str, table.columns))]
    if missing_cols:
        raise InputError("expected the table the result was scored on", column=missing_cols[0])


@dataclass(frozen=True)
class UnitExplanation:
    """A unit compared with a reference unit criterion by criterion.

    ``table`` (indexed by criterion): ``weight``, ``value``, ``reference_value``,
    ``contribution``, ``reference_contribution``, ``advantage`` (the unit's contribution
    minus the reference's, signed so that positive always helps the unit).
    """

    unit_id: str
    method: str
    rank: int
    n_units: int
    score: float
    reference_id: str
    reference_rank: int
    reference_score: float
    table: pd.DataFrame
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    sums_to: str

    def text(self) -> str:
        """A few readable sentences: rank, the reference unit, strongest and weakest criteria."""
        head = (
            f"Unit {self.unit_id} is ranked {self.rank} of {self.n_units} by {self.method} "
            f"(score {self.score:.4g}); {'runner-up' if self.rank == 1 else 'best'} unit {self.reference_id} "
            f"is ranked {self.reference_rank} (score {self.reference_score:.4g})."
        )

        def fmt(names: tuple[str, ...]) -> str:
            return ", ".join(f"{c} ({self.table.loc[c, 'advantage']:+.3g})" for c in names) or "none"

        return "\n".join([
            head,
            f"Strongest criteria against {self.reference_id}: {fmt(self.strengths)}.",
            f"Weakest criteria against {self.reference_id}: {fmt(self.weaknesses)}.",
            f"(Contributions add up to the {self.sums_to}; positive advantage helps {self.unit_id}.)",
        ])


def explain_unit(result: ScoreResult, table: pd.DataFrame, unit_id: str, *, top: int = 3) -> UnitExplanation:
    """Explain ``unit_id``'s rank against the best unit (against the runner-up if it is the best)."""
    unit_id = str(unit_id)
    if unit_id not in result.scores.index:
        raise InputError("unknown unit id to explain; expected one of the scored units", column="unit", found=unit_id)
    contrib = contributions(result, table)
    order = result.ranks.sort_values(kind="stable").index
    reference = order[0] if order[0] != unit_id else order[1]
    raw = table.set_axis(pd.Index(map(str, table.index)), axis=0)[list(result.criteria)]
    sign = 1.0 if result.higher_is_better else -1.0
    frame = pd.DataFrame({
        "weight": result.weights,
        "value": raw.loc[unit_id].astype(float),
        "reference_value": raw.loc[reference].astype(float),
        "contribution": contrib.loc[unit_id],
        "reference_contribution": contrib.loc[reference],
    })
    frame["advantage"] = sign * (frame["contribution"] - frame["reference_contribution"])
    ordered = frame["advantage"].sort_values(ascending=False, kind="stable")
    strengths = tuple(ordered[ordered > 0].index[:top])
    weaknesses = tuple(ordered[ordered < 0].sort_values(kind="stable").index[:top])
    return UnitExplanation(
        unit_id=unit_id,
        method=result.method,
        rank=int(result.ranks[unit_id]),
        n_units=len(result.ranks),
        score=float(result.scores[unit_id]),
        reference_id=str(reference),
        reference_rank=int(result.ranks[reference]),
        reference_score=float(result.scores[reference]),
        table=frame,
        strengths=strengths,
        weaknesses=weaknesses,
        sums_to=SUMS_TO.get(result.method, "score"),
    )

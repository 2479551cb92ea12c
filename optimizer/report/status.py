"""The four contract statuses a report shows for each unit, before versus after.

========== ================================= ===========================
status     current contract (``contracted``) selected (``selected``)
========== ================================= ===========================
new        no                                yes
kept       yes                               yes
dropped    yes                               no (contract not renewed)
candidate  no                                no
========== ================================= ===========================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATUSES = ("new", "kept", "dropped", "candidate")
"""Statuses in legend and table order."""

DRAW_ORDER = ("candidate", "kept", "new", "dropped")
"""Map layers from the bottom up: dropped contracts, the news a reader looks for, on top."""

STATUS_LABELS = {
    "new": "new contract",
    "kept": "contract kept",
    "dropped": "contract dropped",
    "candidate": "candidate (not contracted)",
}

STATUS_COLORS = {
    "new": "#1b9e77",
    "kept": "#2c7fb8",
    "dropped": "#d95f02",
    "candidate": "#9e9e9e",
}


def _flag(units: pd.DataFrame, column: str) -> np.ndarray:
    if column not in units.columns:
        return np.zeros(len(units), dtype=bool)
    return units[column].fillna(False).astype(bool).to_numpy()


def unit_status(units: pd.DataFrame) -> pd.Series:
    """Status of every unit (see the module table), indexed like ``units``.

    >>> u = pd.DataFrame({"contracted": [True, True, False, False],
    ...                   "selected": [True, False, True, False]}, index=list("abcd"))
    >>> unit_status(u).tolist()
    ['kept', 'dropped', 'new', 'candidate']
    """
    before = _flag(units, "contracted")
    after = _flag(units, "selected")
    status = np.select(
        [after & before, after & ~before, before & ~after],
        ["kept", "new", "dropped"],
        default="candidate",
    )
    return pd.Series(status, index=units.index, name="status", dtype=object)

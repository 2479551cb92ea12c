"""The criteria catalog of the contracting model and its published weight presets.

The catalog is the hierarchy of seed paper 002 (contracting with indirect-treatment
paraclinical units, Table 2): ten **dimensions**, 26 main **themes** (numbered by their row
in Table 2) and 78 **sub-themes**, each with the number of times the interviewed experts
named it (its *repetition count*). It is kept in ``optimizer/mcdm/data/catalog.toml`` with
the path coefficients and t-values of Table 4 and the Friedman mean ranks of Table 5.

Presets (:func:`preset_weights`), one weight per dimension, summing to 1:

* ``path-coefficients``: ``w_d = beta_d / sum_k beta_k`` (Table 4; sum of beta = 4.10);
* ``friedman``: ``w_d = R_d / sum_k R_k`` with ``R_d`` the Friedman mean rank (Table 5;
  sum = 26.93);
* ``equal``: ``w_d = 1/10``.

Hierarchical aggregation (:func:`aggregate_indicators`) turns theme or sub-theme
indicators into one value per dimension with local weights proportional to the
repetition counts.

>>> cat = load_catalog()
>>> len(cat.dimensions), len(cat.themes), len(cat.subthemes)
(10, 26, 78)
>>> round(float(preset_weights("path-coefficients")["demographic"]), 4)
0.1244
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.validation import name_mismatch, numeric_column, require_columns

DIMENSIONS: tuple[str, ...] = (
    "demographic",
    "economic",
    "culturalization",
    "specialization",
    "physical",
    "personnel",
    "performance",
    "marketing",
    "satisfaction",
    "external",
)
"""Dimension keys in the order of the paper (Tables 2, 4 and 5)."""

PRESETS: tuple[str, ...] = ("path-coefficients", "friedman", "equal")
"""Names accepted by :func:`preset_weights`."""


@dataclass(frozen=True)
class SubTheme:
    """A sub-theme of Table 2: ``id`` is ``"<theme row>.<position>"``, e.g. ``"1.2"``."""

    id: str
    name: str
    count: int
    theme_row: int
    dimension: str


@dataclass(frozen=True)
class Theme:
    """A main theme of Table 2 with its row number; ``count`` sums its sub-themes' counts."""

    row: int
    name: str
    dimension: str
    subthemes: tuple[SubTheme, ...]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.subthemes)


@dataclass(frozen=True)
class Dimension:
    """A dimension (axial theme) with its published statistics (Tables 4 and 5)."""

    key: str
    label: str
    themes: tuple[Theme, ...]
    path_coefficient: float
    t_value: float
    impact_rank: int
    friedman_mean_rank: float
    friedman_rank: int

    @property
    def count(self) -> int:
        """Sum of the repetition counts of every sub-theme of the dimension."""
        return sum(t.count for t in self.themes)

    @property
    def subthemes(self) -> tuple[SubTheme, ...]:
        return tuple(s for t in self.themes for s in t.subthemes)


@dataclass(frozen=True)
class Node:
    """A catalog node that an indicator column can be mapped to."""

    level: str  # "dimension", "theme" or "subtheme"
    id: str  # dimension key, theme row (as text) or sub-theme id
    name: str
    dimension: str
    count: int

    def contains(self, other: Node) -> bool:
        """True if ``other`` is this node or lies below it in the hierarchy."""
        if self.dimension != other.dimension:
            return False
        if self.level == "dimension":
            return True
        if self.level == "theme":
            return other.level == "subtheme" and other.id.split(".")[0] == self.id or other == self
        return other == self


@dataclass(frozen=True)
class Catalog:
    """The ten dimensions with their themes and sub-themes (frozen)."""

    dimensions: tuple[Dimension, ...]
    source: str

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    @property
    def themes(self) -> tuple[Theme, ...]:
        return tuple(t for d in self.dimensions for t in d.themes)

    @property
    def subthemes(self) -> tuple[SubTheme, ...]:
        return tuple(s for d in self.dimensions for s in d.subthemes)

    def dimension(self, key: str) -> Dimension:
        """The dimension with key (or label) ``key``."""
        wanted = match_dimensions([key])[key]
        return next(d for d in self.dimensions if d.key == wanted)

    def theme(self, row: int) -> Theme:
        """The main theme in row ``row`` (1..26) of Table 2."""
        for t in self.themes:
            if t.row == row:
                return t
        raise InputError(f"expected a theme row between 1 and {len(self.themes)}", found=row)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per sub-theme (dimension, theme row and name, sub-theme, count)."""
        rows = [
            {
                "dimension": d.key,
                "dimension_label": d.label,
                "theme_row": t.row,
                "theme": t.name,
                "subtheme_id": s.id,
                "subtheme": s.name,
                "count": s.count,
            }
            for d in self.dimensions
            for t in d.themes
            for s in t.subthemes
        ]
        return pd.DataFrame(rows)

    def dimension_table(self) -> pd.DataFrame:
        """One row per dimension (indexed by key) with the published numbers and counts."""
        rows = [
            {
                "dimension": d.key,
                "label": d.label,
                "themes": len(d.themes),
                "subthemes": len(d.subthemes),
                "repetitions": d.count,
                "path_coefficient": d.path_coefficient,
                "t_value": d.t_value,
                "impact_rank": d.impact_rank,
                "friedman_mean_rank": d.friedman_mean_rank,
                "friedman_rank": d.friedman_rank,
            }
            for d in self.dimensions
        ]
        return pd.DataFrame(rows).set_index("dimension")

    def nodes(self) -> tuple[Node, ...]:
        """Every dimension, theme and sub-theme as a :class:`Node`."""
        out: list[Node] = []
        for d in self.dimensions:
            out.append(Node("dimension", d.key, d.label, d.key, d.count))
            for t in d.themes:
                out.append(Node("theme", str(t.row), t.name, d.key, t.count))
                out.extend(Node("subtheme", s.id, s.name, d.key, s.count) for s in t.subthemes)
        return tuple(out)

    def resolve(self, name: str) -> Node:
        """Find the node that ``name`` designates.

        Accepted forms (case-insensitive; spaces, ``_`` and ``-`` interchangeable):
        a dimension key or label, a theme name, a sub-theme name, or an explicit
        ``dimension:KEY``, ``theme:NAME``, ``theme:ROW`` (e.g. ``theme:16``),
        ``subtheme:NAME`` or ``subtheme:ID`` (e.g. ``subtheme:16.1``). A bare name shared
        by a theme and a sub-theme (e.g. "Physical conditions") must be qualified.

        >>> load_catalog().resolve("theme:1").name
        'Center-to-population ratio'
        >>> load_catalog().resolve("population density").count
        11
        """
        text = str(name).strip()
        level = None
        prefix, sep, rest = text.partition(":")
        if sep and _norm(prefix) in ("dimension", "theme", "subtheme", "sub theme"):
            level = "subtheme" if _norm(prefix) == "sub theme" else _norm(prefix)
            text = rest.strip()
        key = _norm(text)
        candidates = []
        for node in self.nodes():
            if level is not None and node.level != level:
                continue
            names = {_norm(node.name)}
            if node.level == "dimension":
                names.add(_norm(node.id))
            elif level is not None:
                names.add(node.id)  # theme row or sub-theme id only when qualified
            if key in names:
                candidates.append(node)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise InputError(
                "expected a dimension key or label, a theme or a sub-theme of the catalog "
                "(see `optimizer weights catalog`)",
                found=name,
            )
        options = ", ".join(f"{c.level}:{c.name}" for c in candidates)
        raise InputError(f"ambiguous catalog name; qualify it as one of {options}", found=name)


def _norm(text: str) -> str:
    """Lower case with spaces, underscores and hyphens made equivalent."""
    return re.sub(r"[\s_\-]+", " ", str(text).strip().lower()).strip()


@cache
def load_catalog() -> Catalog:
    """Read the shipped catalog (``optimizer/mcdm/data/catalog.toml``) once."""
    raw = tomllib.loads(files("optimizer.mcdm.data").joinpath("catalog.toml").read_text("utf-8"))
    dims = []
    for d in raw["dimensions"]:
        themes = []
        for t in d["themes"]:
            subs = tuple(
                SubTheme(f"{t['row']}.{i}", s["name"], int(s["count"]), int(t["row"]), d["key"])
                for i, s in enumerate(t["subthemes"], start=1)
            )
            themes.append(Theme(int(t["row"]), t["name"], d["key"], subs))
        dims.append(
            Dimension(
                key=d["key"],
                label=d["label"],
                themes=tuple(themes),
                path_coefficient=float(d["path_coefficient"]),
                t_value=float(d["t_value"]),
                impact_rank=int(d["impact_rank"]),
                friedman_mean_rank=float(d["friedman_mean_rank"]),
                friedman_rank=int(d["friedman_rank"]),
            )
        )
    catalog = Catalog(dimensions=tuple(dims), source=raw["source"])
    if catalog.keys != DIMENSIONS:  # the data file and the code must agree
        raise RuntimeError(f"catalog.toml dimensions {catalog.keys} differ from {DIMENSIONS}")
    return catalog


def preset_weights(name: str) -> pd.Series:
    """Published dimension weights, normalized to sum 1, indexed by dimension key.

    ``path-coefficients``: beta_d / 4.10 (Table 4); ``friedman``: mean rank / 26.93
    (Table 5); ``equal``: 1/10 each.

    >>> preset_weights("friedman").round(4)["economic"]
    np.float64(0.1415)
    """
    table = load_catalog().dimension_table()
    key = str(name).strip().lower()
    if key == "path-coefficients":
        raw = table["path_coefficient"]
    elif key == "friedman":
        raw = table["friedman_mean_rank"]
    elif key == "equal":
        raw = pd.Series(1.0, index=table.index)
    else:
        raise InputError(f"unknown weight preset; expected one of {', '.join(PRESETS)}", found=name)
    out = (raw / raw.sum()).astype(float)
    out.index = pd.Index(list(DIMENSIONS), name="dimension")
    out.name = key
    return out


def match_dimensions(criteria: Sequence[str]) -> dict[str, str]:
    """Map each criterion name to a dimension key.

    A criterion matches a dimension by its key (``demographic``) or its label
    (``Demographic factors``), case-insensitively, with spaces, underscores and hyphens
    interchangeable. Two criteria matching the same dimension are an error.

    >>> match_dimensions(["Demographic factors", "personnel-literacy-and-experience"])
    {'Demographic factors': 'demographic', 'personnel-literacy-and-experience': 'personnel'}
    """
    lookup: dict[str, str] = {}
    for d in load_catalog().dimensions:
        lookup[_norm(d.key)] = d.key
        lookup[_norm(d.label)] = d.key
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for crit in criteria:
        key = lookup.get(_norm(crit))
        if key is None:
            raise InputError(
                "expected a dimension key or label of the catalog ("
                + ", ".join(DIMENSIONS)
                + ")",
                column=str(crit),
                found=crit,
            )
        if key in seen:
            raise InputError(
                f"two criteria match the dimension {key!r} ({seen[key]!r} and {crit!r}); "
                "expected at most one column per dimension",
                column=str(crit),
            )
        seen[key] = str(crit)
        out[crit] = key
    return out


def aggregate_indicators(
    table: pd.DataFrame,
    mapping: Mapping[str, str],
    local_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Aggregate theme / sub-theme indicator columns into one value per dimension.

    ``mapping`` maps each indicator column of ``table`` to a catalog node: a sub-theme,
    a theme or a dimension (any form accepted by :meth:`Catalog.resolve`). The value of
    dimension ``d`` for unit ``u`` is the weighted mean of the indicators mapped inside
    ``d``::

        x[u, d] = sum_{i in I(d), x[u,i] present} v_i x[u, i]
                  / sum_{i in I(d), x[u,i] present} v_i

    where the local weight ``v_i`` is, unless ``local_weights`` gives it:

    * the repetition count of the node ``i`` is mapped to (a sub-theme's count; a theme's
      count is the sum of its sub-themes' counts; a dimension's the sum of all of its
      sub-themes' counts),
    * divided by the number of indicators mapped to that same node (two indicators of one
      sub-theme share its count instead of doubling it).

    With ``local_weights`` (indicator -> non-negative weight, one for every mapped
    indicator) those weights replace ``v_i``; they are relative within each dimension.

    Missing values: an indicator missing for a unit is left out and the weights are
    renormalized over that unit's present indicators of the dimension; if all of a
    dimension's indicators are missing the value is NaN (the scoring entry point then
    reports it). Indicators must share one scale and one direction (higher is better)
    within a dimension. Mapping one indicator to a node and another to a node below it
    (e.g. a theme and one of its sub-themes) is rejected, since it would count the
    sub-theme twice.

    Returns a frame with the same index as ``table`` and one column per dimension that
    has at least one indicator, in catalog order.

    >>> t = pd.DataFrame({"density": [1.0, 0.0], "age": [0.0, 1.0]})
    >>> aggregate_indicators(t, {"density": "Population density", "age": "Age structure"})
       demographic
    0     0.578947
    1     0.421053
    """
    if not mapping:
        raise InputError("expected at least one indicator column in the mapping")
    catalog = load_catalog()
    require_columns(table, list(mapping))
    nodes = {col: catalog.resolve(target) for col, target in mapping.items()}
    _reject_overlaps(nodes)

    if local_weights is None:
        per_node: dict[Node, int] = {}
        for node in nodes.values():
            per_node[node] = per_node.get(node, 0) + 1
        v = {col: node.count / per_node[node] for col, node in nodes.items()}
    else:
        diff, first = name_mismatch(mapping, local_weights, extra="not mapped")
        if diff:
            raise InputError(f"expected one local weight for every mapped indicator{diff}", column=first)
        v = {}
        for col in mapping:
            w = local_weights[col]
            try:
                w = float(w)
            except (TypeError, ValueError):
                raise InputError("expected a number as local weight", column=col, found=w) from None
            if not np.isfinite(w) or w < 0:
                raise InputError("expected a finite, non-negative local weight", column=col, found=w)
            v[col] = w

    columns = {}
    for key in DIMENSIONS:
        cols = [c for c, node in nodes.items() if node.dimension == key]
        if not cols:
            continue
        weights = np.array([v[c] for c in cols], dtype=float)
        if weights.sum() <= 0:
            raise InputError(
                f"expected a positive local weight for at least one indicator of {key!r}",
                column=cols[0],
            )
        values = np.column_stack([numeric_column(table, c, allow_missing=True) for c in cols])
        columns[key] = _weighted_mean_present(values, weights)
    return pd.DataFrame(columns, index=table.index)


def _weighted_mean_present(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean over the non-missing entries (NaN when none is present)."""
    present = ~np.isnan(values)
    w = present * weights
    total = w.sum(axis=1)
    num = np.where(present, values, 0.0) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / np.where(total > 0, total, 1.0), np.nan)


def _reject_overlaps(nodes: Mapping[str, Node]) -> None:
    items = list(nodes.items())
    for a, na in items:
        for b, nb in items:
            if a != b and na != nb and na.contains(nb):
                raise InputError(
                    f"indicator {a!r} is mapped to {na.level} {na.name!r}, which contains "
                    f"{nb.level} {nb.name!r} of indicator {b!r}; expected indicators that do "
                    "not overlap (map both at the same level)",
                    column=b,
                )

"""The report's charts, drawn with matplotlib and saved as PNG.

Every chart function takes plain frames and returns a :class:`matplotlib.figure.Figure`
(built without pyplot, so no global state and safe in worker processes);
:func:`figure_png` turns a figure into PNG bytes, which the report writes beside
``report.html`` and embeds in it as base64.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from optimizer.report.status import STATUS_COLORS, STATUS_LABELS, STATUSES, unit_status

BEFORE_COLOR = "#bdbdbd"
AFTER_COLOR = "#2c7fb8"
DPI = 110


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (fixed DPI and no timestamp metadata, so reruns are identical)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _money(x: float, _pos: object = None) -> str:
    """Compact money label: 1.2M, 350k, 900."""
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.3g}G"
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if ax >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


def coverage_by_region(regions: pd.DataFrame) -> Figure:
    """Horizontal bars: share of each region's population within reach, before and after.

    ``regions`` needs ``covered_share_before`` and ``covered_share_after`` (in [0, 1]) and,
    optionally, ``floor`` (drawn as a tick where it is set).
    """
    data = regions.sort_values("covered_share_after", kind="stable")
    n = len(data)
    fig = Figure(figsize=(7.0, max(2.5, 0.32 * n + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)
    h = 0.38
    ax.barh(y + h / 2, data["covered_share_before"].to_numpy(float), h, color=BEFORE_COLOR, label="before (current contracts)")
    ax.barh(y - h / 2, data["covered_share_after"].to_numpy(float), h, color=AFTER_COLOR, label="after (selected)")
    if "floor" in data.columns:
        floor = pd.to_numeric(data["floor"], errors="coerce").to_numpy(float)
        has = np.isfinite(floor) & (floor > 0)
        if has.any():
            ax.scatter(floor[has], y[has], marker="|", s=160, color="#d62728", zorder=3, label="floor")
    names = data["name"] if "name" in data.columns else pd.Series(pd.NA, index=data.index)
    ax.set_yticks(y, [str(nm) if pd.notna(nm) and str(nm) else str(i) for i, nm in zip(data.index, names, strict=True)])
    ax.set_xlim(0, 1.0)
    ax.set_ylim(-0.7, n - 0.3)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("population within reach of a contracted unit")
    ax.set_title("Coverage per region, before and after")
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def cost_vs_coverage(units: pd.DataFrame) -> Figure:
    """Scatter of each unit's cost against its marginal coverage, coloured by status.

    For a selected unit the marginal coverage is the population that loses coverage if it
    is dropped; for an unselected one, the population it would add.
    """
    status = unit_status(units)
    cost = pd.to_numeric(units["cost"], errors="coerce")
    marginal = pd.to_numeric(units.get("marginal_coverage", pd.Series(np.nan, index=units.index)), errors="coerce")
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    for s in reversed(STATUSES):
        mask = (status == s).to_numpy() & np.isfinite(marginal.to_numpy(float))
        if mask.any():
            ax.scatter(cost[mask], marginal[mask], s=18, alpha=0.8, color=STATUS_COLORS[s], label=STATUS_LABELS[s], edgecolors="none")
    ax.xaxis.set_major_formatter(FuncFormatter(_money))
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_xlabel("contract cost")
    ax.set_ylabel("marginal coverage (people)")
    ax.set_title("Cost against marginal coverage of each unit")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, framealpha=0.9)
    return fig


def score_distribution(units: pd.DataFrame, bins: int = 20) -> Figure:
    """Stacked histogram of unit scores: selected units over unselected ones."""
    score = pd.to_numeric(units["score"], errors="coerce")
    selected = units["selected"].fillna(False).astype(bool) if "selected" in units.columns else pd.Series(False, index=units.index)
    finite = np.isfinite(score.to_numpy(float))
    lo, hi = (float(score[finite].min()), float(score[finite].max())) if finite.any() else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    fig = Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    ax.hist(
        [score[finite & selected.to_numpy()].to_numpy(float), score[finite & ~selected.to_numpy()].to_numpy(float)],
        bins=edges,
        stacked=True,
        color=[AFTER_COLOR, BEFORE_COLOR],
        label=["selected", "not selected"],
    )
    ax.set_xlabel("score")
    ax.set_ylabel("units")
    ax.set_title("Score distribution")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def frontier(frontier: pd.DataFrame, targets: pd.DataFrame | None = None, current: float | None = None) -> Figure:
    """Coverage share against budget (the frontier), with the targets' cheapest budgets.

    ``frontier`` needs ``budget`` and ``coverage_share`` (plain population) and, when
    present, ``need_share`` (need-weighted: the objective) is drawn too. ``targets``
    (optional) is indexed by target share with a ``budget`` column (NaN where the target
    is unreachable). ``current`` marks the coverage of the current contracts.
    """
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    ok = frontier["coverage_share"].notna()
    budget = frontier.loc[ok, "budget"]
    ax.plot(budget, frontier.loc[ok, "coverage_share"], marker="o", ms=4, color=AFTER_COLOR, label="population covered")
    if "need_share" in frontier.columns:
        ax.plot(budget, frontier.loc[ok, "need_share"], marker="s", ms=3, ls="--", lw=1, color="#7b3294", label="need-weighted (objective)")
    if current is not None and np.isfinite(current):
        ax.axhline(current, color="#7f7f7f", ls=":", lw=1, label="current contracts")
    if targets is not None and len(targets):
        for tau, b in zip(targets.index.to_numpy(float), targets["budget"].to_numpy(float), strict=True):
            ax.axhline(tau, color="#d62728", ls="--", lw=0.8, alpha=0.6)
            if np.isfinite(b):
                ax.plot([b], [tau], marker="D", color="#d62728", ms=6)
                ax.annotate(f"{tau:.0%}: {_money(b)}", (b, tau), textcoords="offset points", xytext=(6, -12), fontsize=8, color="#d62728")
    ax.xaxis.set_major_formatter(FuncFormatter(_money))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("budget")
    ax.set_ylabel("share covered")
    ax.set_title("Coverage against budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def chart_set(units: pd.DataFrame, regions: pd.DataFrame) -> dict[str, Figure]:
    """The run report's charts by file stem, in display order."""
    charts = {"coverage_by_region": coverage_by_region(regions)}
    if "cost" in units.columns:
        charts["cost_vs_coverage"] = cost_vs_coverage(units)
    if "score" in units.columns:
        charts["score_distribution"] = score_distribution(units)
    return charts


CHART_CAPTIONS = {
    "coverage_by_region": "Share of each region's population within reach of a contracted unit, before (current contracts) and after (selected).",
    "cost_vs_coverage": "Each unit's contract cost against its marginal coverage (people who lose coverage if a selected unit is dropped; people an unselected unit would add).",
    "score_distribution": "Distribution of unit scores, selected units stacked on unselected ones.",
    "frontier": "Share of the population covered by the best selection at each budget (solid) and its need-weighted share, the objective (dashed); diamonds mark the cheapest budget reaching each target.",
}


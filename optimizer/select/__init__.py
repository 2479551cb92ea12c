"""Select contracts: budgeted maximal coverage with quality, exact and fast.

Build the problem once with :func:`build_problem`, then call :func:`solve` as often as
needed (a budget sweep reuses the merged rows, the reductions and the model)::

    problem = build_problem(units, demand, coverage)
    result = solve(problem, budget=1_000_000, floors=0.6)
    result.status, result.selected, result.coverage_share, result.units["reason"]
"""

from optimizer.select.problem import ModelRows, SelectionProblem, build_problem
from optimizer.select.result import SelectionResult
from optimizer.select.solve import OBJECTIVES, SelectionOptions, solve, solve_options

__all__ = [
    "OBJECTIVES",
    "ModelRows",
    "SelectionOptions",
    "SelectionProblem",
    "SelectionResult",
    "build_problem",
    "solve",
    "solve_options",
]

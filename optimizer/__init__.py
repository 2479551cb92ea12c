"""Provider selection optimizer.

Score candidate health units with multi-criteria methods (:mod:`optimizer.mcdm`),
measure access per region (:mod:`optimizer.geo`) and pick the contracts that cover
the most people, weighted by need, within a budget.
"""

from optimizer.errors import InfeasibleError, InputError, OptimizerError

__version__ = "0.1.0"

__all__ = ["InfeasibleError", "InputError", "OptimizerError", "__version__"]

"""MCDM: criteria catalog, weights, scoring methods and method comparison."""

from optimizer.mcdm.ahp import AHPResult as AHPResult
from optimizer.mcdm.ahp import GroupAHPResult as GroupAHPResult
from optimizer.mcdm.ahp import ahp_weights as ahp_weights
from optimizer.mcdm.ahp import group_ahp as group_ahp
from optimizer.mcdm.ahp import read_pairwise_csv as read_pairwise_csv
from optimizer.mcdm.catalog import DIMENSIONS as DIMENSIONS
from optimizer.mcdm.catalog import aggregate_indicators as aggregate_indicators
from optimizer.mcdm.catalog import load_catalog as load_catalog
from optimizer.mcdm.catalog import match_dimensions as match_dimensions
from optimizer.mcdm.catalog import preset_weights as preset_weights
from optimizer.mcdm.compare import Comparison as Comparison
from optimizer.mcdm.compare import compare_methods as compare_methods
from optimizer.mcdm.explain import contributions as contributions
from optimizer.mcdm.explain import explain_unit as explain_unit
from optimizer.mcdm.scoring import METHODS as METHODS
from optimizer.mcdm.scoring import ScoreResult as ScoreResult
from optimizer.mcdm.scoring import read_units_table as read_units_table
from optimizer.mcdm.scoring import score as score
from optimizer.mcdm.sensitivity import Acceptability as Acceptability
from optimizer.mcdm.sensitivity import rank_acceptability as rank_acceptability
from optimizer.mcdm.sensitivity import weight_thresholds as weight_thresholds
from optimizer.mcdm.weights import OBJECTIVE_METHODS as OBJECTIVE_METHODS
from optimizer.mcdm.weights import WeightSpec as WeightSpec
from optimizer.mcdm.weights import blend as blend
from optimizer.mcdm.weights import objective_weights as objective_weights
from optimizer.mcdm.weights import resolve_weights as resolve_weights

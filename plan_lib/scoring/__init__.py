"""Account potential: segments, features as of any date, a propensity logit, the formula,
explanations and a backtest. Start at :func:`score_accounts`; see README "Potential"."""

from plan_lib.scoring.api import ScoringResult, as_of_view, model_summary, rescore, score_accounts
from plan_lib.scoring.backtest import BacktestResult
from plan_lib.scoring.checks import check_against_data
from plan_lib.scoring.explain import ScoreComparison, compare_scores
from plan_lib.scoring.params import ScoringParams, parse_scoring_params

__all__ = [
    "BacktestResult",
    "ScoreComparison",
    "ScoringParams",
    "ScoringResult",
    "as_of_view",
    "check_against_data",
    "compare_scores",
    "parse_scoring_params",
    "model_summary",
    "rescore",
    "score_accounts",
]

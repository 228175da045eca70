"""stop_core: sink-token-aware pruning (SToP) of video tokens, independent of any model code."""

from stop_core.api import prune
from stop_core.combination import TokenCombination
from stop_core.config import PruningConfig
from stop_core.layout import LAYOUT_MODES, lay_out, layout_order
from stop_core.params import MethodParams
from stop_core.planning import CountPlan, count_plan, planned_tokens
from stop_core.presets import BACKBONES, MU_DEFAULTS, PAPER_METHODS, stop_strengths
from stop_core.registry import MethodSpec, available_methods, get_method, register_method
from stop_core.sink import sink_score, sink_score_rows, stsp_importance
from stop_core.tokens import PrunedVideo, VideoTokens

__version__ = "0.1.0"

__all__ = [
    "TokenCombination",
    "BACKBONES",
    "CountPlan",
    "LAYOUT_MODES",
    "MU_DEFAULTS",
    "PAPER_METHODS",
    "MethodParams",
    "MethodSpec",
    "PrunedVideo",
    "PruningConfig",
    "VideoTokens",
    "available_methods",
    "count_plan",
    "get_method",
    "lay_out",
    "layout_order",
    "planned_tokens",
    "prune",
    "register_method",
    "sink_score",
    "sink_score_rows",
    "stop_strengths",
    "stsp_importance",
]

"""Token scores on Qwen-VL: attention normalised per frame, or the feature-norm proxy.

Defined in ``stop_core.scoring`` (the vLLM plugin scores the same way); re-exported here.
"""

from __future__ import annotations

from stop_core.scoring import SCORERS, norm_importance, normalize_per_frame

__all__ = ["SCORERS", "norm_importance", "normalize_per_frame"]

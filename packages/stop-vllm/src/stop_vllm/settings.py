"""``stop_pruning``: the key a checkpoint config (or ``hf_overrides``) uses to ask for SToP.

Its entries are ``PruningConfig.preset``'s keywords (``method``, ``use_stop``, ``variant``,
``gamma`` and the method's own parameters), explicit ``mu_s`` / ``mu_t``, plus ``scorer``
(``"attention"`` or ``"norm"``) and ``block`` (the vision block whose attention is read).
Retention is ``1 - video_pruning_rate``: vLLM re-computes M-RoPE positions only while its own
pruning switch is on, so the rate is required. The count is always exact (``exact_count``):
placeholders are sized before the video is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stop_core import PruningConfig
from stop_core.scoring import SCORERS

KEY = "stop_pruning"
OWN_KEYS = ("scorer", "block", "mu_s", "mu_t", "retention_ratio")


@dataclass(frozen=True)
class StopSettings:
    """What the plugin prunes with: the pruning config, the scorer and the capture block."""

    cfg: PruningConfig
    scorer: str = "attention"
    block: int | None = None


def read_settings(
    hf_config: Any, video_pruning_rate: float | None, backbone: str
) -> StopSettings | None:  # noqa: ANN401 - any transformers config
    """The ``stop_pruning`` settings of ``hf_config``, or ``None`` when SToP was not asked for."""
    raw = getattr(hf_config, KEY, None)
    if raw is None:
        return None
    return parse_settings(raw, video_pruning_rate, backbone)


def parse_settings(raw: Any, video_pruning_rate: float | None, backbone: str) -> StopSettings:  # noqa: ANN401 - JSON from the command line
    """Validate a ``stop_pruning`` mapping; errors name the bad key or value."""
    if not isinstance(raw, dict):
        raise ValueError(f"{KEY} must be a mapping such as {{'method': 'holitom'}}, got {raw!r}")
    options = dict(raw)
    if "method" not in options:
        raise ValueError(f"{KEY} needs a 'method' (e.g. 'holitom'), got keys {sorted(options)}")
    ratio = _retention(options.pop("retention_ratio", None), video_pruning_rate)
    scorer = options.pop("scorer", "attention")
    if scorer not in SCORERS:
        raise ValueError(f"{KEY}.scorer must be one of {list(SCORERS)}, got {scorer!r}")
    block = options.pop("block", None)
    if block is not None and (isinstance(block, bool) or not isinstance(block, int)):
        raise ValueError(f"{KEY}.block must be an integer vision block index, got {block!r}")
    mu = {name: options.pop(name) for name in ("mu_s", "mu_t") if name in options}
    if "backbone" in options:
        raise ValueError(f"{KEY}.backbone is read from the checkpoint ({backbone}); remove it")
    try:
        cfg = PruningConfig.preset(
            backbone=backbone, retention_ratio=ratio, scorer=scorer, **options
        )
        cfg = cfg.replace(exact_count=True, **mu)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad {KEY} {raw!r}: {exc}") from None
    return StopSettings(cfg=cfg, scorer=scorer, block=block)


def _retention(asked: Any, video_pruning_rate: float | None) -> float:  # noqa: ANN401
    """``1 - video_pruning_rate``; a ``retention_ratio`` entry must agree with it."""
    if video_pruning_rate is None or not 0.0 < float(video_pruning_rate) < 1.0:
        hint = (
            f" (retention_ratio {asked} means --video-pruning-rate {1 - asked:g})"
            if isinstance(asked, (int, float))
            else ""
        )
        raise ValueError(
            f"{KEY} needs --video-pruning-rate in (0, 1) (the share of video tokens to drop), "
            f"got {video_pruning_rate!r}{hint}"
        )
    ratio = 1.0 - float(video_pruning_rate)
    if asked is not None and abs(float(asked) - ratio) > 1e-9:
        raise ValueError(
            f"{KEY}.retention_ratio = {asked} contradicts --video-pruning-rate "
            f"{video_pruning_rate} (retention {ratio:g}); give one of them"
        )
    return ratio


def processor_settings(info: Any, backbone: str) -> StopSettings | None:  # noqa: ANN401 - vLLM processing info
    """The ``stop_pruning`` settings of the model a vLLM processor serves, if any."""
    return read_settings(
        info.get_hf_config(), info.ctx.get_mm_config().video_pruning_rate, backbone
    )

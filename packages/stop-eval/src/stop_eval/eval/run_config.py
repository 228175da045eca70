"""Named run presets and the one place options become a ``PruningConfig``.

Shared by the ``stop-eval`` CLI and the lmms-eval plugin so both read options the same way.
"""

from __future__ import annotations

from typing import Any

from stop_core import PruningConfig
from stop_eval.backbones import get_backbone

PRESETS: dict[str, dict[str, Any]] = {
    # the official four scripts per backbone, as named options
    "no_pruning": {"method": "none"},
    "baseline": {"use_stop": False},
    "stop_spatial": {"use_stop": True, "mu_t": 0.0},
    "stop_spatial_temporal": {"use_stop": True},
}


def default_max_new_tokens(backbone: str) -> int:
    """The official answer length of ``backbone`` (its registry entry says it)."""
    return get_backbone(backbone).max_new_tokens


def make_config(
    backbone: str,
    method: str,
    retention: float,
    *,
    use_stop: bool = True,
    variant: str = "reference",
    scorer: str = "attention",
    gamma: float = 1.1,
    mu_s: float | None = None,
    mu_t: float | None = None,
    preset: str | None = None,
) -> PruningConfig:
    """The config the options describe: preset first, then the method's mu presets, then mu.

    The mu presets are looked up under the backbone entry's ``presets_backbone``.
    """
    entry = get_backbone(backbone)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
        chosen = PRESETS[preset]
        method = chosen.get("method", method)
        use_stop = chosen.get("use_stop", use_stop)
        if mu_t is None:
            mu_t = chosen.get("mu_t")
    if method == "none":
        return PruningConfig("none", retention_ratio=1.0)
    cfg = PruningConfig.preset(
        method,
        backbone=entry.presets_backbone,
        retention_ratio=retention,
        use_stop=use_stop,
        variant=variant,
        scorer=scorer,
        gamma=gamma,
    )
    changes = {k: v for k, v in (("mu_s", mu_s), ("mu_t", mu_t)) if v is not None}
    return cfg.replace(**changes) if changes else cfg

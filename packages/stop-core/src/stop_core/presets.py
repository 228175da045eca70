"""The SToP strengths (mu_s, mu_t) of the paper code, per method and per backbone, in one table."""

from __future__ import annotations

BACKBONES: tuple[str, ...] = ("llava_ov", "llava_video", "qwen2_5_vl", "qwen3_vl")
# the four methods SToP is applied to in the paper, in the paper's order
PAPER_METHODS: tuple[str, ...] = ("visionzip", "fastvid", "holitom", "flashvid")
SCORERS: tuple[str, ...] = ("attention", "norm")

# (mu_s, mu_t) for LLaVA-OneVision / LLaVA-Video and for any backbone whose scores are
# attention probabilities normalised to mean 1/S per frame. HoliTom's pair was tuned for 10 %.
MU_DEFAULTS: dict[str, tuple[float, float]] = {
    "visionzip": (0.03, 0.0),
    "fastvid": (0.02, 0.0),
    "flashvid": (0.02, 0.0),
    "holitom": (0.04, 0.07),
}

# (backbone, scorer) -> per-method override. Qwen2.5-VL's feature-norm importance lives on the
# scale of feature norms, so the paper code uses mu_s = 3.7 for VisionZip and no SToP elsewhere.
MU_OVERRIDES: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("qwen2_5_vl", "norm"): {
        "visionzip": (3.7, 0.0),
        "fastvid": (0.0, 0.0),
        "flashvid": (0.0, 0.0),
        "holitom": (0.0, 0.0),
    },
}

# Qwen3-VL: no published mu. Its scores are the same per-frame-normalised attention of a
# full-attention vision block (or the same feature-norm proxy), so it borrows Qwen2.5-VL's
# presets, overrides included.
MU_OVERRIDES[("qwen3_vl", "norm")] = MU_OVERRIDES[("qwen2_5_vl", "norm")]

# (backbone, method) -> parameter overrides. VisionZip's tokens-per-frame table and its base of
# 196 were set for SigLIP's pooled tokens; on Qwen2.5-VL / Qwen3-VL (any grid) the budget is
# int(S * r) per frame.
PARAM_OVERRIDES: dict[tuple[str, str], dict[str, object]] = {
    ("qwen2_5_vl", "visionzip"): {"spatial_tokens_table": (), "budget_base_grids": ()},
    ("qwen3_vl", "visionzip"): {"spatial_tokens_table": (), "budget_base_grids": ()},
}

DEFAULT_GAMMA = 1.1


def stop_strengths(method: str, backbone: str, scorer: str = "attention") -> tuple[float, float]:
    """``(mu_s, mu_t)`` the paper code uses for ``method`` on ``backbone`` (0, 0 if none)."""
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; known: {list(SCORERS)}")
    override = MU_OVERRIDES.get((backbone, scorer), {})
    if method in override:
        return override[method]
    return MU_DEFAULTS.get(method, (0.0, 0.0))

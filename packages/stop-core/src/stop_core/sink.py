"""The SToP sink score and the STSP adjustment, shared by every method."""

from __future__ import annotations

import torch

from stop_core.errors import check_finite_number, check_tensor
from stop_core.presets import DEFAULT_GAMMA

MINMAX_EPS = 1e-12
# Where the sink score and the STSP scores are computed: "float32" (default) or "input", the
# attention's own dtype as in the official fp16 runs (DESIGN.md §4, ALGORITHMS.md §5.20).
SCORE_DTYPES: tuple[str, ...] = ("float32", "input")


def check_score_dtype(owner: str, value: object) -> None:
    """Raise ``ValueError`` naming ``owner`` unless ``value`` is one of ``SCORE_DTYPES``."""
    if value not in SCORE_DTYPES:
        raise ValueError(f"{owner}.score_dtype must be one of {list(SCORE_DTYPES)}, got {value!r}")


def minmax_normalize(x: torch.Tensor, dim: int = -1, eps: float = MINMAX_EPS) -> torch.Tensor:
    """``(x - min) / (max - min + eps)`` along ``dim`` (the reference's normalisation)."""
    lo = x.amin(dim=dim, keepdim=True)
    hi = x.amax(dim=dim, keepdim=True)
    return (x - lo) / (hi - lo + eps)


def sink_score_rows(
    attention: torch.Tensor, gamma: float = DEFAULT_GAMMA, *, input_dtype: bool = False
) -> torch.Tensor:
    """The sink score repeated per frame, ``[F, S]``, computed exactly as the reference does.

    The reference raises the temporal mean *repeated over frames* to ``gamma``; the vectorised
    ``pow`` of an ``[F, S]`` tensor can round differently in the last bit from that of an
    ``[S]`` vector, and exact ties decide top-k selections. Float32 unless ``input_dtype``:
    then the mean, power and min-max stay in the attention's dtype, as in the official fp16
    runs (the eps underflows in fp16).
    """
    check_tensor("attention", attention, ndim=2)
    gamma = check_finite_number("gamma", gamma)
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    frames, positions = attention.shape
    if frames == 0 or positions == 0:
        raise ValueError(f"attention must be non-empty, got shape {tuple(attention.shape)}")
    mean = (attention if input_dtype else attention.float()).mean(dim=0)
    powered = mean.expand(frames, positions).contiguous().pow(gamma)
    return minmax_normalize(powered, dim=1)


def sink_score(attention: torch.Tensor, gamma: float = DEFAULT_GAMMA) -> torch.Tensor:
    """Per-position sink score ``[S]`` in [0, 1] from attention ``[F, S]`` (float32).

    A sink is a position that receives high attention in every frame: the temporal mean of
    the attention, raised to ``gamma``, min-max normalised over the positions.
    """
    return sink_score_rows(attention, gamma)[0]


def stsp_importance(attention: torch.Tensor, sink: torch.Tensor, mu_s: float) -> torch.Tensor:
    """STSP: the importance ``A - mu_s * s`` that spatial selection ranks instead of ``A``."""
    return attention - mu_s * sink

"""Input checks shared by the configuration, the token containers and the methods."""

from __future__ import annotations

import math

import torch


def check_finite_number(name: str, value: float, *, minimum: float | None = None) -> float:
    """Return ``value`` as a float, raising ``ValueError`` if it is NaN/inf or below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_tensor(
    name: str, x: object, *, ndim: int, floating: bool = True, finite: bool = True
) -> torch.Tensor:
    """Check that ``x`` is a tensor of rank ``ndim`` (floating, finite) and return it.

    Finiteness is tested with one reduction (a finite sum proves there is no NaN/inf) and the
    element-wise test only runs when that sum is not finite, so the check stays cheap.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if finite and floating and x.numel() > 0:
        total = x.sum(dtype=torch.float64)
        if not torch.isfinite(total):
            bad = ~torch.isfinite(x)
            if bool(bad.any()):
                where = tuple(int(i) for i in bad.nonzero()[0])
                kind = "NaN" if bool(torch.isnan(x).any()) else "inf"
                raise ValueError(
                    f"{name} contains {kind} values "
                    f"(first at index {where}, shape {tuple(x.shape)})"
                )
    return x

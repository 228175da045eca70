"""``PruningConfig``: the one frozen, validated object that says how to prune a video."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from stop_core.errors import check_finite_number
from stop_core.params import MethodParams
from stop_core.presets import DEFAULT_GAMMA, PARAM_OVERRIDES, stop_strengths
from stop_core.registry import get_method

Variant = Literal["reference", "fixed"]
VARIANTS: tuple[str, ...] = ("reference", "fixed")


@dataclass(frozen=True)
class PruningConfig:
    """Method, budget and SToP strengths for one pruning call.

    ``retention_ratio`` in (0, 1] is the share of visual tokens to keep (1.0 keeps all);
    ``mu_s``/``mu_t`` are the STSP/STTP strengths (0 = SToP off), ``gamma`` the sink-score
    power. ``variant="reference"`` reproduces the official SToP code, quirks included;
    ``"fixed"`` corrects its documented bugs. ``params`` holds the method's own knobs
    (defaults filled in from the method's parameter class). ``exact_count=True`` makes
    ``prune`` fill or trim the method's output to ``planned_tokens`` (ALGORITHMS.md §9), so the
    count is known from the shapes alone; ``False`` leaves every method's output as it is.
    """

    method: str
    retention_ratio: float = 0.1
    mu_s: float = 0.0
    mu_t: float = 0.0
    gamma: float = DEFAULT_GAMMA
    variant: Variant = "reference"
    params: MethodParams | None = None
    exact_count: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a string, got {type(self.method).__name__}")
        spec = get_method(self.method)
        ratio = check_finite_number("retention_ratio", self.retention_ratio)
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"retention_ratio must be in (0, 1], got {ratio}")
        object.__setattr__(self, "retention_ratio", ratio)
        object.__setattr__(self, "mu_s", check_finite_number("mu_s", self.mu_s, minimum=0.0))
        object.__setattr__(self, "mu_t", check_finite_number("mu_t", self.mu_t, minimum=0.0))
        gamma = check_finite_number("gamma", self.gamma)
        if gamma <= 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        object.__setattr__(self, "gamma", gamma)
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {list(VARIANTS)}, got {self.variant!r}")
        if self.params is None:
            object.__setattr__(self, "params", spec.params_type())
        elif not isinstance(self.params, spec.params_type):
            raise TypeError(
                f"params for method {self.method!r} must be {spec.params_type.__name__}, "
                f"got {type(self.params).__name__}"
            )
        if not isinstance(self.exact_count, bool):
            raise TypeError(
                f"exact_count must be a bool, got {type(self.exact_count).__name__} "
                f"({self.exact_count!r})"
            )

    @property
    def use_stop(self) -> bool:
        """Whether any SToP term is active (``mu_s > 0`` or ``mu_t > 0``)."""
        return self.mu_s > 0.0 or self.mu_t > 0.0

    @classmethod
    def preset(
        cls,
        method: str,
        *,
        backbone: str = "llava_ov",
        retention_ratio: float = 0.1,
        use_stop: bool = True,
        variant: Variant = "reference",
        scorer: str = "attention",
        gamma: float = DEFAULT_GAMMA,
        exact_count: bool = False,
        **params: Any,  # noqa: ANN401 - method-specific knobs
    ) -> PruningConfig:
        """The paper's setting for ``method`` on ``backbone``; ``use_stop=False`` gives μ = 0.

        Extra keyword arguments override fields of the method's parameter dataclass;
        ``exact_count`` is passed on to the config.
        """
        spec = get_method(method)
        mu_s, mu_t = stop_strengths(method, backbone, scorer) if use_stop else (0.0, 0.0)
        params = {**PARAM_OVERRIDES.get((backbone, method), {}), **params}
        try:
            method_params = spec.params_type(**params)
        except TypeError as exc:
            names = [f.name for f in dataclasses.fields(spec.params_type)]
            raise ValueError(f"bad parameters for {method!r}: {exc}; known: {names}") from None
        return cls(
            method=method,
            retention_ratio=retention_ratio,
            mu_s=mu_s,
            mu_t=mu_t,
            gamma=gamma,
            variant=variant,
            params=method_params,
            exact_count=exact_count,
        )

    def replace(self, **changes: Any) -> PruningConfig:  # noqa: ANN401 - dataclass fields
        """A copy with some fields changed (re-validated); a new method resets ``params``."""
        if "method" in changes and changes["method"] != self.method and "params" not in changes:
            changes["params"] = None
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict; ``PruningConfig.from_dict(cfg.to_dict()) == cfg``."""
        assert self.params is not None
        return {
            "method": self.method,
            "retention_ratio": self.retention_ratio,
            "mu_s": self.mu_s,
            "mu_t": self.mu_t,
            "gamma": self.gamma,
            "variant": self.variant,
            "params": self.params.to_dict(),
            "exact_count": self.exact_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PruningConfig:
        """Inverse of ``to_dict``; unknown keys raise ``ValueError`` naming them.

        Missing keys take their defaults (dicts written before ``exact_count`` existed load
        with ``exact_count=False``).
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown PruningConfig fields: {unknown} (known: {sorted(known)})")
        if "method" not in data:
            raise ValueError("PruningConfig.from_dict needs a 'method' entry")
        fields = dict(data)
        raw = fields.pop("params", None)
        params = None
        if raw is not None:
            params = get_method(fields["method"]).params_type.from_dict(raw)
        return cls(**fields, params=params)

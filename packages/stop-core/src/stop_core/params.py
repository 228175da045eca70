"""Base class of the per-method parameter dataclasses (each method file defines its own)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class MethodParams:
    """Frozen knobs of one pruning method; subclasses list every field with its paper default.

    Numeric fields are checked to be finite (and non-negative unless a subclass says
    otherwise in ``validate``); ``to_dict``/``from_dict`` round-trip through JSON types.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{type(self).__name__}.{f.name} must be finite, got {value}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{type(self).__name__}.{f.name} must be >= 0, got {value}")
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` for values outside the method's domain (override as needed)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of every field (tuples become lists)."""
        return {f.name: _to_json(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from ``to_dict`` output; unknown keys raise ``ValueError`` naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {unknown} (known: {sorted(names)})")
        return cls(**{k: _from_json(v) for k, v in data.items()})


@dataclass(frozen=True)
class NoParams(MethodParams):
    """Parameters of a method that has no knobs of its own."""


def _to_json(value: Any) -> Any:  # noqa: ANN401 - generic value conversion
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:  # noqa: ANN401 - generic value conversion
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value

"""The backbone registry: one unique name per backbone entry, in registration order."""

from __future__ import annotations

from stop_eval.backbones.base import Backbone

_REGISTRY: dict[str, Backbone] = {}


def register_backbone(entry: Backbone) -> Backbone:
    """Add ``entry``; a second, different entry with the same name is an error."""
    if entry.name in _REGISTRY and _REGISTRY[entry.name] is not entry:
        raise ValueError(f"a backbone named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def get_backbone(name: str) -> Backbone:
    """The entry of ``name``, raising ``ValueError`` listing the known backbones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {list(_REGISTRY)}") from None


def available_backbones() -> tuple[str, ...]:
    """Names of every registered backbone, in registration order."""
    return tuple(_REGISTRY)


def registered() -> tuple[Backbone, ...]:
    """Every registered entry, in registration order."""
    return tuple(_REGISTRY.values())

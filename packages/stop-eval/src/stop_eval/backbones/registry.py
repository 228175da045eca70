"""The backbone registry: one unique name per entry, in registration order, loaded on first use.

An entry is registered either as a ``Backbone`` or as a ``"module:attr"`` reference to one;
a reference is imported the first time its entry is looked up, and must name a ``Backbone``
of that name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stop_eval.backbones.base import Backbone

_REGISTRY: dict[str, Backbone | str] = {}


def register_backbone(entry: Backbone | str, *, name: str | None = None) -> Backbone | str:
    """Add ``entry``, or a ``"module:attr"`` reference to it under ``name``.

    The same entry (or reference) again is fine; a different one with the same name is an error.
    """
    if isinstance(entry, str):
        if name is None:
            raise TypeError(f"the lazy backbone reference {entry!r} needs name=")
        key = name
    else:
        key = entry.name
        if name is not None and name != key:
            raise ValueError(f"backbone entry {key!r} registered under another name {name!r}")
    if key in _REGISTRY:
        current = _REGISTRY[key]
        if current == entry or (not isinstance(entry, str) and get_backbone(key) is entry):
            return entry
        raise ValueError(f"a backbone named {key!r} is already registered")
    _REGISTRY[key] = entry
    return entry


def _load(name: str, reference: str) -> Backbone:
    """Import the entry a ``"module:attr"`` reference names and check that it is ``name``'s."""
    from stop_eval.backbones.base import Backbone

    module, _, attr = reference.partition(":")
    entry = getattr(importlib.import_module(module), attr)
    if not isinstance(entry, Backbone) or entry.name != name:
        raise TypeError(f"{reference} is not the Backbone entry named {name!r}")
    return entry


def get_backbone(name: str) -> Backbone:
    """The entry of ``name``, raising ``ValueError`` listing the known backbones."""
    try:
        entry = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {list(_REGISTRY)}") from None
    if isinstance(entry, str):
        entry = _REGISTRY[name] = _load(name, entry)
    return entry


def available_backbones() -> tuple[str, ...]:
    """Names of every registered backbone, in registration order (nothing is imported)."""
    return tuple(_REGISTRY)


def registered() -> tuple[Backbone, ...]:
    """Every registered entry, in registration order (lazy ones are imported now)."""
    return tuple(get_backbone(name) for name in _REGISTRY)

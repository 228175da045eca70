"""The method registry: one unique name per pruning method, its parameters and its function.

Importing this module registers the built-in methods (``stop_core.methods``); a method of
another package registers itself with ``register_method`` when that package is imported.
"""

from __future__ import annotations

import stop_core.methods  # noqa: F401  (registers the built-in methods)
from stop_core.spec import REGISTERED, MethodSpec, register_method

__all__ = ["MethodSpec", "available_methods", "get_method", "register_method"]


def get_method(name: str) -> MethodSpec:
    """Look up a method by name, raising ``ValueError`` listing the known ones."""
    try:
        return REGISTERED[name]
    except KeyError:
        raise ValueError(
            f"unknown pruning method {name!r}; available: {sorted(REGISTERED)}"
        ) from None


def available_methods() -> list[str]:
    """Names of every registered method, sorted."""
    return sorted(REGISTERED)

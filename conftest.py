"""Suite-wide settings: a seeded hypothesis profile and the ``cuda`` marker's skip."""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings

# Property tests draw the same examples on every run and machine (no flaky CI).
settings.register_profile("seeded", derandomize=True, print_blob=True)
settings.load_profile("seeded")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``cuda`` where no CUDA device is available, saying why."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)

"""Shared fixtures of the stop-core tests: one torch thread, seeded hypothesis, the goldens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

from golden_support import DEFAULT_GOLDEN_DIR  # noqa: E402

torch.set_num_threads(1)
# Property tests draw the same examples on every run and machine (no flaky CI).
settings.register_profile("seeded", derandomize=True, print_blob=True)
settings.load_profile("seeded")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--golden-dir",
        default=str(DEFAULT_GOLDEN_DIR),
        help="folder with the reference outputs (inputs_D64.pt, pooled_D64.pt, <method>_*.pt)",
    )


@pytest.fixture(scope="session")
def golden_dir(request: pytest.FixtureRequest) -> Path:
    path = Path(request.config.getoption("--golden-dir"))
    if not (path / "pooled_D64.pt").is_file():
        pytest.fail(f"golden reference files not found in {path} (pass --golden-dir)")
    return path


@pytest.fixture(scope="session")
def golden_inputs(golden_dir: Path) -> dict[str, torch.Tensor]:
    raw = torch.load(golden_dir / "inputs_D64.pt", weights_only=True)
    pooled = torch.load(golden_dir / "pooled_D64.pt", weights_only=True)
    return {**raw, **pooled}

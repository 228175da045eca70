"""stop-vllm's suite, run in its own locked environment (vLLM pins another transformers/torch).

The README's single test command (``uv run pytest``) reaches it through this test: it syncs
``packages/stop-vllm`` from its lock and runs its tests there, failing with their output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "packages" / "stop-vllm"
TIMEOUT = 3600


def uv_command() -> str:
    """The uv that runs this suite (``uv run`` exports it as ``UV``), else uv on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("stop-vllm's suite needs uv (run the tests with `uv run pytest`)")
    return found


@pytest.mark.slow
def test_stop_vllm_suite_passes_in_its_own_environment() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["HF_HUB_OFFLINE"] = "1"
    command = [uv_command(), "run", "--locked", "--directory", str(PROJECT), "pytest", "-q"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False
    )
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"stop-vllm suite failed ({result.returncode}):\n{tail}"
    assert " passed" in result.stdout, tail

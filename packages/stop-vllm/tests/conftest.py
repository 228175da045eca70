"""Shared fixtures: tiny checkpoints on disk (once per session) and in-process vLLM engines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# In-process engines (vLLM's engine core in the test process) so that tests can read what
# the model receives; the `vllm serve` test starts the real multiprocess server instead.
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault(
    "VLLM_CPU_KVCACHE_SPACE", "1"
)  # GiB per engine; the default reserves far more

import checkpoints  # noqa: E402


@pytest.fixture(scope="session")
def qwen2_5_vl_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkpoints.save_checkpoint("qwen2_5_vl", tmp_path_factory.mktemp("qwen2_5_vl"))


@pytest.fixture(scope="session")
def qwen3_vl_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkpoints.save_checkpoint("qwen3_vl", tmp_path_factory.mktemp("qwen3_vl"))

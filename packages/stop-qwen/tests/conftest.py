"""Fixtures of the stop-qwen tests (builders live in ``qwen_testkit``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from qwen_testkit import build_model, build_processor, build_tokenizer  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def processor(tokenizer):
    return build_processor(tokenizer)


@pytest.fixture(scope="session")
def model(tokenizer):
    return build_model(tokenizer)


@pytest.fixture(scope="session")
def qwen3_tokenizer():
    import qwen3_testkit

    return qwen3_testkit.build_tokenizer()


@pytest.fixture(scope="session")
def qwen3_processor(qwen3_tokenizer):
    import qwen3_testkit

    return qwen3_testkit.build_processor(qwen3_tokenizer)


@pytest.fixture(scope="session")
def qwen3_model(qwen3_tokenizer):
    import qwen3_testkit

    return qwen3_testkit.build_model(qwen3_tokenizer)

"""Fixtures of the stop-llava tests (builders live in ``llava_testkit``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from llava_testkit import build_model, build_processor, build_tokenizer  # noqa: E402


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def processor(tokenizer):
    return build_processor(tokenizer)


@pytest.fixture(scope="session")
def model(tokenizer):
    return build_model(tokenizer)

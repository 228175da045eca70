"""The package imports and sees the pinned transformers LLaVA-OneVision classes."""

import transformers
from packaging.version import Version

import stop_llava


def test_imports_and_transformers_version() -> None:
    assert stop_llava.__version__
    assert Version(transformers.__version__) >= Version("5.23")
    assert hasattr(transformers, "LlavaOnevisionForConditionalGeneration")

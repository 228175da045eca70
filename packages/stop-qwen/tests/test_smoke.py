"""The package imports and sees the pinned transformers Qwen2.5-VL classes."""

import transformers
from packaging.version import Version

import stop_qwen


def test_imports_and_transformers_version() -> None:
    assert stop_qwen.__version__
    assert Version(transformers.__version__) >= Version("5.23")
    assert hasattr(transformers, "Qwen2_5_VLForConditionalGeneration")

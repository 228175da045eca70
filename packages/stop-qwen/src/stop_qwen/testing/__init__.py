"""Tiny random Qwen2.5-VL and Qwen3-VL models for tests and demos, built in-process.

Nothing is downloaded: ``train_tokenizer`` trains a byte-level BPE with the Qwen-VL special
tokens on a few sentences, the models have random weights, and the processors are the real
classes (Qwen3-VL's configured from the bundled checkpoint files, ``stop_qwen.checkpoints``).
One builder per backbone, at any size: ``tiny_qwen2_5_vl`` / ``Qwen25VLSizes`` and
``tiny_qwen3_vl`` / ``Qwen3VLSizes``.
"""

from stop_qwen.testing.qwen2_5_vl import (
    Qwen25VLSizes,
    qwen2_5_vl_config,
    qwen2_5_vl_processor,
    tiny_qwen2_5_vl,
)
from stop_qwen.testing.qwen3_vl import (
    Qwen3VLSizes,
    qwen3_vl_processor,
    qwen3_vl_tokenizer,
    random_qwen3_vl,
    scale_mrope_section,
    scaled_config,
    tiny_qwen3_vl,
)
from stop_qwen.testing.tokenizer import train_tokenizer

__all__ = [
    "Qwen25VLSizes",
    "Qwen3VLSizes",
    "qwen2_5_vl_config",
    "qwen2_5_vl_processor",
    "qwen3_vl_processor",
    "qwen3_vl_tokenizer",
    "random_qwen3_vl",
    "scale_mrope_section",
    "scaled_config",
    "tiny_qwen2_5_vl",
    "tiny_qwen3_vl",
    "train_tokenizer",
]

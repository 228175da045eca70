"""stop_qwen: SToP pruning for Qwen2.5-VL (adapter in progress)."""

__version__ = "0.1.0"

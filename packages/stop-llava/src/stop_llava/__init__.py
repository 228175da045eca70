"""stop_llava: SToP pruning for LLaVA-OneVision and LLaVA-Video (adapter in progress)."""

__version__ = "0.1.0"

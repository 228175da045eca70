"""Built-in pruning methods; importing this package registers each of them (one per file)."""

from stop_core.methods import keep_all, random_keep, uniform

__all__ = ["keep_all", "random_keep", "uniform"]

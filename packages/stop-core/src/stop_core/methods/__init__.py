"""Built-in pruning methods; importing this package registers each of them (one per file)."""

from stop_core.methods import (
    fastvid,
    flashvid,
    holitom,
    keep_all,
    random_keep,
    uniform,
    visionzip,
)

__all__ = ["fastvid", "flashvid", "holitom", "keep_all", "random_keep", "uniform", "visionzip"]

"""The backbones ``stop-bench prefill`` covers: one session module each, in registration order."""

from __future__ import annotations

from stop_eval.bench.prefill import llava_ov, qwen3_vl
from stop_eval.bench.prefill.base import PrefillBench

# the backbones with a prefill session, in backbone registration order
PREFILL_BENCHES: dict[str, PrefillBench] = {
    bench.backbone: bench for bench in (llava_ov.BENCH, qwen3_vl.BENCH)
}


def prefill_backbones() -> tuple[str, ...]:
    """Backbones with a ``stop-bench prefill`` session."""
    return tuple(PREFILL_BENCHES)


def prefill_sizes() -> tuple[str, ...]:
    """Every size preset of any prefill backbone (each backbone checks its own)."""
    sizes = [s for bench in PREFILL_BENCHES.values() for s in bench.sizes]
    return tuple(dict.fromkeys(sizes))


def prefill_bench(backbone: str, size: str) -> PrefillBench:
    """The prefill bench of ``backbone``, checking that it has ``size``."""
    bench = PREFILL_BENCHES.get(backbone)
    if bench is None:
        raise ValueError(
            f"backbone {backbone!r} has no prefill benchmark; known: {list(prefill_backbones())}"
        )
    if size not in bench.sizes:
        raise ValueError(f"backbone {backbone!r} has no size {size!r}; known: {list(bench.sizes)}")
    return bench

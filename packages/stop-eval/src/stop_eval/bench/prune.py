"""``stop-bench prune``: latency of ``stop_core.prune`` per method at model-sized shapes.

Inputs are random tensors shaped like a backbone's pooled video tokens (laid out channel-major,
as LLaVA's bilinear pooling leaves them, unless ``layout="contiguous"``), or a video the caller
builds per width (``make_tokens``); each setting is timed with ``time.perf_counter`` (CUDA:
synchronised) after one warm-up call, median of ``repeats``. One more call is counted
(``stop_core.testing.count_ops``): aten ops and host synchronisations per call.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from stop_core import PruningConfig, VideoTokens, available_methods, prune
from stop_core.testing import LAYOUTS, OpCounts, count_ops, synthetic_tokens
from stop_eval.bench.report import Column, text_table


@dataclass(frozen=True)
class PruneTiming:
    """One measured setting: shapes, threads, SToP on/off and the latency statistics."""

    method: str
    use_stop: bool
    frames: int
    tokens_per_frame: int
    hidden: int
    retention_ratio: float
    threads: int
    device: str
    dtype: str
    kept: int
    median_ms: float
    min_ms: float
    runs_ms: tuple[float, ...]
    syncs: int = 0
    ops: int = 0
    variant: str = "reference"
    layout: str = "pooled"


def time_prune(
    tokens: VideoTokens, cfg: PruningConfig, repeats: int = 5, warmup: int = 1
) -> tuple[list[float], int]:
    """Latencies (ms) of ``repeats`` ``prune`` calls after ``warmup`` calls, and the kept count."""
    cuda = tokens.features.is_cuda
    kept = 0
    times: list[float] = []
    for i in range(warmup + repeats):
        gen = torch.Generator().manual_seed(i)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = prune(tokens, cfg, generator=gen)
        if cuda:
            torch.cuda.synchronize()
        elapsed = (time.perf_counter() - start) * 1e3
        kept = out.kept
        if i >= warmup:
            times.append(elapsed)
    return times, kept


def count_prune(tokens: VideoTokens, cfg: PruningConfig) -> OpCounts:
    """Aten ops and host synchronisations of one ``prune`` call (seed 0)."""
    return count_ops(lambda: prune(tokens, cfg, generator=torch.Generator().manual_seed(0)))


def calibration_ms(repeats: int = 7) -> float:
    """Median ms of a fixed kernel mixing what pruning spends time on, at the current threads.

    A channel-major ``[8, 196, 3584]`` block copied token-major, its row norms and its batched
    Gram product: method times divided by this compare across machines and load (the guard).
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3584, 196, generator=g).transpose(1, 2)

    def kernel() -> None:
        rows = x.contiguous()
        rows.norm(dim=-1)
        torch.bmm(rows, rows.transpose(1, 2))

    kernel()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kernel()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def run_prune_benchmark(
    methods: list[str] | None = None,
    frames: int = 32,
    grid: tuple[int, int] = (14, 14),
    hiddens: tuple[int, ...] = (3584, 896),
    threads: tuple[int, ...] = (1, 2),
    retention_ratio: float = 0.1,
    repeats: int = 5,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    variants: tuple[str, ...] = ("reference",),
    layout: str = "pooled",
    make_tokens: Callable[[int], VideoTokens] | None = None,
) -> list[PruneTiming]:
    """Time every method x variant x SToP on/off x width x thread count; restores the threads.

    ``make_tokens(hidden)`` replaces the synthetic video; it honours ``layout``, ``dtype`` and
    ``device``, and the rows read frames and grid from what it returns.
    """
    methods = methods or [m for m in available_methods() if m != "none"]
    previous = torch.get_num_threads()
    rows: list[PruneTiming] = []
    try:
        for hidden in hiddens:
            if make_tokens is not None:
                tokens = make_tokens(hidden)
            else:
                tokens = synthetic_tokens(
                    frames, grid, hidden, dtype=dtype, device=device, layout=layout
                )
            for n_threads in threads:
                torch.set_num_threads(n_threads)
                for variant, method, use_stop in itertools.product(
                    variants, methods, (False, True)
                ):
                    cfg = PruningConfig.preset(
                        method, retention_ratio=retention_ratio, use_stop=use_stop, variant=variant
                    )
                    runs, kept = time_prune(tokens, cfg, repeats=repeats)
                    counts = count_prune(tokens, cfg)
                    rows.append(
                        PruneTiming(
                            method=method,
                            use_stop=use_stop,
                            frames=tokens.num_frames,
                            tokens_per_frame=tokens.tokens_per_frame,
                            hidden=hidden,
                            retention_ratio=retention_ratio,
                            threads=n_threads,
                            device=device,
                            dtype=str(dtype).removeprefix("torch."),
                            kept=kept,
                            median_ms=statistics.median(runs),
                            min_ms=min(runs),
                            runs_ms=tuple(runs),
                            syncs=counts.num_syncs,
                            ops=counts.num_ops,
                            variant=variant,
                            layout=layout,
                        )
                    )
    finally:
        torch.set_num_threads(previous)
    return rows


PRUNE_COLUMNS: tuple[Column, ...] = (
    Column("method", "<10", lambda r: r.method),
    Column("variant", "<9", lambda r: r.variant),
    Column("SToP", "<5", lambda r: "on" if r.use_stop else "off"),
    Column("D", ">5", lambda r: r.hidden),
    Column("thr", ">3", lambda r: r.threads),
    Column("kept", ">5", lambda r: r.kept),
    Column("median ms", ">10.2f", lambda r: r.median_ms),
    Column("min ms", ">8.2f", lambda r: r.min_ms),
    Column("syncs", ">6", lambda r: r.syncs),
    Column("ops", ">6", lambda r: r.ops),
)


def format_table(rows: list[PruneTiming]) -> str:
    """One line per setting: latency median and min (ms), host syncs and aten ops per call."""
    return text_table(PRUNE_COLUMNS, rows)


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a benchmark run, for its JSON (output paths and subcommand left out)."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "out", "plot")}


def add_prune_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the prune benchmark (shared with ``stop-bench prune``)."""
    parser.add_argument("--methods", nargs="+", default=None, help="default: all but 'none'")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--grid", type=int, nargs=2, default=(14, 14), metavar=("H", "W"))
    parser.add_argument("--hidden", type=int, nargs="+", default=[3584, 896])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--retention", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--out", default=None, help="JSON file to write")
    parser.add_argument(
        "--variants", nargs="+", default=["reference"], choices=["reference", "fixed"]
    )
    parser.add_argument(
        "--layout",
        default="pooled",
        choices=list(LAYOUTS),
        help="features channel-major as pooling leaves them (what adapters pass) or token-major",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check in seconds: the smallest --hidden only, 1 thread, 2 repeats",
    )


QUICK_REPEATS = 2
LEGEND = (
    "columns: variant reference/fixed; SToP off/on; D feature width; thr CPU threads; kept "
    "tokens returned (the method's budget rule); median/min ms wall time of one prune call "
    "over --repeats runs after a warm-up; syncs host synchronisations per call (.item(), "
    "nonzero, boolean-mask indexing, ...: each would stall a CUDA stream; fewer is better); "
    "ops aten operators dispatched per call (each is a kernel launch on a GPU)"
)


def apply_quick(args: argparse.Namespace) -> argparse.Namespace:
    """With ``--quick``: one width (the smallest), one thread, ``QUICK_REPEATS`` repeats."""
    if getattr(args, "quick", False):
        args.hidden = [min(args.hidden)]
        args.threads = [1]
        args.repeats = QUICK_REPEATS
    return args


def run_from_args(
    args: argparse.Namespace, make_tokens: Callable[[int], VideoTokens] | None = None
) -> list[PruneTiming]:
    """Run the prune benchmark with parsed ``add_prune_arguments`` options."""
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")
    return run_prune_benchmark(
        methods=args.methods,
        frames=args.frames,
        grid=tuple(args.grid),
        hiddens=tuple(args.hidden),
        threads=tuple(args.threads),
        retention_ratio=args.retention,
        repeats=args.repeats,
        device=args.device,
        dtype=getattr(torch, args.dtype),
        variants=tuple(args.variants),
        layout=args.layout,
        make_tokens=make_tokens,
    )

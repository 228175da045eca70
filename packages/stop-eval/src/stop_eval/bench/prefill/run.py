"""End-to-end prefill benchmark: vision, capture, pruning and LLM prefill timed separately.

One tower pass (with every capture hook) is shared by all configurations; each configuration
then prunes, lays out, rebuilds the sequence and runs the language-model prefill (and a short
greedy decode). Random weights at real sizes (e.g. LLaVA-OV-0.5B: SigLIP-so400m + Qwen2-0.5B,
Qwen3-VL-8B from its own config). What is backbone-specific (the model of a size, its video
inputs, its adapter) is that backbone's session (``registry``); this module times it.
On CUDA stages are timed with CUDA events after a warm-up; on CPU with ``perf_counter``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from stop_core import PAPER_METHODS, PruningConfig
from stop_eval.backbones import DEFAULT_BACKBONE, get_backbone
from stop_eval.bench.flops import decoder_shape, prefill_flops
from stop_eval.bench.prefill.base import PrefillSpec
from stop_eval.bench.prefill.registry import prefill_backbones, prefill_bench, prefill_sizes
from stop_eval.progress import track

METHODS: tuple[str, ...] = PAPER_METHODS
RETENTIONS: tuple[float, ...] = (0.25, 0.15, 0.1)


@dataclass
class PrefillRow:
    """One configuration's tokens, stage times (ms), FLOPs and speedups."""

    method: str
    retention: float
    use_stop: bool
    frames: int
    visual_before: int
    visual_kept: int
    sequence: int
    vision_ms: float
    capture_ms: float
    tower_delta_ms: float
    prune_ms: float
    prefill_ms: float
    ttft_ms: float
    decode_tok_s: float
    prefill_gflops: float
    capture_gflops: float = 0.0
    prefill_speedup: float = 1.0
    ideal_speedup: float = 1.0
    efficiency: float = 1.0
    overhead_share: float = 0.0
    capture_flop_share: float = 0.0  # capture FLOPs / pruned prefill FLOPs: the hardware floor
    peak_mb: float = 0.0


@dataclass
class PrefillRun:
    """A run's rows and what was fed: backbone, size and the video's inputs description."""

    backbone: str
    size: str
    inputs: dict[str, Any]
    rows: list[PrefillRow]


class StageClock:
    """Times a callable: CUDA events on GPU (after synchronising), ``perf_counter`` on CPU."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def __call__(self, fn: Callable[[], Any]) -> tuple[Any, float]:  # noqa: ANN401
        """Run ``fn`` once; return its result and the elapsed seconds."""
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            out = fn()
            end.record()
            torch.cuda.synchronize()
            return out, start.elapsed_time(end) / 1e3
        begin = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - begin


class StepClock(LogitsProcessor):
    """Time stamps of every generation step (the logits processor runs once per new token)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.stamps: list[float] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Record the time this step's logits are ready; the scores pass through unchanged."""
        if self.cuda:
            torch.cuda.synchronize()
        self.stamps.append(time.perf_counter())
        return scores

    def decode_rate(self) -> float:
        """Tokens per second between the first and the last step (prefill excluded)."""
        if len(self.stamps) < 2:
            raise ValueError("decode rate needs at least 2 generated tokens")
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


def median_time(
    clock: StageClock, fn: Callable[[], Any], repeats: int, warmup: int = 1
) -> tuple[Any, float]:
    """Median seconds over ``repeats`` runs after ``warmup`` runs; returns the last result."""
    out = None
    for _ in range(warmup):
        out, _ = clock(fn)
    times = []
    for _ in range(repeats):
        out, seconds = clock(fn)
        times.append(seconds)
    return out, statistics.median(times)


def peak_memory_mb(device: torch.device) -> float:
    """Peak allocated memory (CUDA) or the process's peak resident set (CPU, monotonic)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@torch.no_grad()
def run_prefill_benchmark(
    size: str = "tiny",
    frames: int = 8,
    methods: tuple[str, ...] = METHODS,
    retentions: tuple[float, ...] = RETENTIONS,
    use_stop: bool = True,
    repeats: int = 3,
    new_tokens: int = 8,
    text_tokens: int = 32,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    model: torch.nn.Module | None = None,
    capture_dtype: torch.dtype | None = None,
    backbone: str = DEFAULT_BACKBONE,
) -> PrefillRun:
    """Time every method x retention (plus the unpruned model) on one random video."""
    dev = torch.device(device)
    spec = PrefillSpec(backbone, size, frames, text_tokens, dev, dtype, capture_dtype)
    session = prefill_bench(backbone, size).session(spec, model)
    model = session.model
    clock = StageClock(dev)

    _, vision_s = median_time(clock, session.vision, repeats)
    in_hooks: list[float] = []

    def hooked() -> Any:  # noqa: ANN401
        encoded, seconds = session.encode()
        in_hooks.append(seconds)
        return encoded

    encoded, hooked_s = median_time(clock, hooked, repeats)
    # the capture's cost is the work done in its hooks, timed directly; the hooked-minus-plain
    # tower difference is kept too, but it is within the tower's own run-to-run noise
    capture_s = statistics.median(in_hooks[-repeats:])
    tower_delta_s = hooked_s - vision_s
    shape = decoder_shape(model.config.text_config)
    capture_gflops = session.capture_gflops
    presets = get_backbone(backbone).presets_backbone  # the backbone's own SToP presets

    settings = [("none", 1.0)] + [(m, r) for m in methods for r in retentions]
    rows: list[PrefillRow] = []
    for method, ratio in track(settings, "prefill bench", lambda s: f"{s[0]} r={s[1]:g}"):
        cfg = (
            PruningConfig("none")
            if method == "none"
            else PruningConfig.preset(
                method, backbone=presets, retention_ratio=ratio, use_stop=use_stop
            )
        )
        prune = session.pruner(cfg)
        (prepared, record), prune_s = median_time(
            clock, lambda prune=prune: prune(encoded), repeats
        )
        _, prefill_s = median_time(clock, lambda p=prepared: model(**p, logits_to_keep=1), repeats)

        steps = StepClock(dev)
        rates = []
        for _ in range(repeats):
            steps.stamps.clear()
            model.generate(
                **prepared,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                do_sample=False,
                logits_processor=LogitsProcessorList([steps]),
            )
            rates.append(steps.decode_rate())
        length = int(prepared["input_ids"].shape[1])
        needs_capture = method != "none"
        rows.append(
            PrefillRow(
                method=method,
                retention=ratio,
                use_stop=cfg.use_stop,
                frames=frames,
                visual_before=record.tokens_before,
                visual_kept=record.sequence_tokens,
                sequence=length,
                vision_ms=vision_s * 1e3,
                capture_ms=capture_s * 1e3 if needs_capture else 0.0,
                tower_delta_ms=tower_delta_s * 1e3 if needs_capture else 0.0,
                prune_ms=prune_s * 1e3,
                prefill_ms=prefill_s * 1e3,
                ttft_ms=(vision_s + (capture_s if needs_capture else 0.0) + prune_s + prefill_s)
                * 1e3,
                decode_tok_s=statistics.median(rates),
                prefill_gflops=prefill_flops(shape, length) / 1e9,
                capture_gflops=capture_gflops if needs_capture else 0.0,
                peak_mb=peak_memory_mb(dev),
            )
        )
    base = rows[0]
    for row in rows:
        row.prefill_speedup = base.prefill_ms / row.prefill_ms
        row.ideal_speedup = base.sequence / row.sequence
        row.efficiency = row.prefill_speedup / row.ideal_speedup
        row.overhead_share = (row.capture_ms + row.prune_ms) / row.prefill_ms
        row.capture_flop_share = row.capture_gflops / row.prefill_gflops
    return PrefillRun(backbone=backbone, size=size, inputs=dict(session.inputs), rows=rows)


def format_prefill_table(run: PrefillRun) -> Any:  # noqa: ANN401 - rich Table
    """A rich table of the run's rows, titled with the backbone, size and video fed."""
    from rich.table import Table

    rows = run.rows
    height, width = run.inputs["frame_size"]
    table = Table(
        title=f"LLM prefill with pruning: {run.backbone} {run.size}, {rows[0].frames} frames "
        f"of {height}x{width}, {run.inputs['visual_tokens']} visual tokens"
    )
    cols = (
        "method",
        "r",
        "seq",
        "vision ms",
        "capture ms",
        "prune ms",
        "prefill ms",
        "TTFT ms",
        "decode tok/s",
        "GFLOPs",
        "speedup",
        "ideal",
        "eff.",
        "overhead",
        "capture FLOP share",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "method" else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.method,
            f"{r.retention:g}",
            str(r.sequence),
            f"{r.vision_ms:.1f}",
            f"{r.capture_ms:.1f}",
            f"{r.prune_ms:.1f}",
            f"{r.prefill_ms:.1f}",
            f"{r.ttft_ms:.1f}",
            f"{r.decode_tok_s:.1f}",
            f"{r.prefill_gflops:.1f}",
            f"{r.prefill_speedup:.2f}x",
            f"{r.ideal_speedup:.2f}x",
            f"{r.efficiency:.2f}",
            f"{100 * r.overhead_share:.1f}%",
            f"{100 * r.capture_flop_share:.1f}%",
        )
    return table


def plot_speedup(rows: list[PrefillRow], path: Path) -> None:
    """PNG of measured (solid) and ideal (dashed) prefill speedup vs retention per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method in sorted({r.method for r in rows if r.method != "none"}):
        pts = sorted(
            (r.retention, r.prefill_speedup, r.ideal_speedup) for r in rows if r.method == method
        )
        line = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)[0]
        ax.plot([p[0] for p in pts], [p[2] for p in pts], ls="--", color=line.get_color())
    ax.set_xlabel("retention ratio")
    ax.set_ylabel("LLM prefill speedup vs unpruned")
    ax.set_title("measured (solid) vs token-count ideal (dashed)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def add_prefill_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stop-bench prefill``."""
    parser.add_argument(
        "--backbone",
        default=DEFAULT_BACKBONE,
        choices=prefill_backbones(),
        help="the backbone registry entry whose random-weight model is run",
    )
    parser.add_argument(
        "--size", default="tiny", choices=prefill_sizes(), help="the backbone's size preset"
    )
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--retentions", type=float, nargs="+", default=list(RETENTIONS))
    parser.add_argument("--stop", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument(
        "--capture-dtype",
        default="model",
        choices=["model", "float32"],
        help="dtype of LLaVA's SigLIP attention reduction (model = the tower's, as the "
        "reference); the Qwen-VL captures always reduce in float32",
    )
    parser.add_argument("--out", default=None, help="JSON file to write")
    parser.add_argument("--plot", default=None, help="PNG of speedup vs retention")


def run_from_args(args: argparse.Namespace) -> PrefillRun:
    """Run with parsed ``add_prefill_arguments`` options."""
    if args.frames < 1 or args.repeats < 1 or args.new_tokens < 2:
        raise SystemExit("--frames and --repeats must be >= 1 and --new-tokens >= 2")
    try:
        prefill_bench(args.backbone, args.size)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    return run_prefill_benchmark(
        backbone=args.backbone,
        size=args.size,
        frames=args.frames,
        methods=tuple(args.methods),
        retentions=tuple(args.retentions),
        use_stop=args.stop,
        repeats=args.repeats,
        new_tokens=args.new_tokens,
        device=args.device,
        dtype=getattr(torch, args.dtype),
        capture_dtype=None if args.capture_dtype == "model" else torch.float32,
    )

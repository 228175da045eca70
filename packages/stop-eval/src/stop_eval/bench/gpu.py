"""``stop-bench gpu-check``: every method on CUDA against the CPU, adapter timings, peak memory.

On a CUDA machine each method x variant x SToP prunes the same synthetic video on the CPU and
on the GPU (one CPU generator, so the same noise); the kept global indices must be equal and
the features within ``FEATURE_TOLERANCE``. The LLaVA and Qwen2.5-VL adapters then run tiny
random-weight models on a bundled clip, timed with CUDA events. Without CUDA it prints
``NO_CUDA_LINE`` and does nothing else.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from stop_core import PAPER_METHODS, PruningConfig, prune
from stop_core.registry import available_methods
from stop_core.testing import synthetic_tokens
from stop_core.tokens import PrunedVideo
from stop_eval.bench.report import Column, text_table, write_json

FEATURE_TOLERANCE = 1e-4
NO_CUDA_LINE = "gpu-check skipped: no CUDA device (torch.cuda.is_available() is False)"


@dataclass(frozen=True)
class MethodCheck:
    """One method x variant x SToP setting pruned on CPU and CUDA."""

    method: str
    variant: str
    use_stop: bool
    kept: int
    same_indices: bool
    max_feature_diff: float
    cuda_ms: float
    passed: bool


@dataclass(frozen=True)
class AdapterTiming:
    """One adapter forward pass on CUDA: CUDA-event time, the adapter's stages, peak memory."""

    backbone: str
    method: str
    tokens_before: int
    kept: int
    forward_ms: float
    vision_ms: float
    prune_ms: float
    peak_mb: float


def add_gpu_check_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stop-bench gpu-check``."""
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--grid", type=int, nargs=2, default=(14, 14), metavar=("H", "W"))
    parser.add_argument("--hidden", type=int, default=896)
    parser.add_argument("--retention", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3, help="timed adapter forwards")
    parser.add_argument("--no-adapters", action="store_true", help="check the methods only")
    parser.add_argument("--out", default=None, help="JSON file to write")


@contextmanager
def _elapsed_ms(device: str) -> Iterator[Callable[[], float]]:
    """Time the body: CUDA events on a CUDA device, ``perf_counter`` elsewhere (tests)."""
    result: list[float] = []
    if device.startswith("cuda"):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        yield lambda: result[0]
        end.record()
        torch.cuda.synchronize()
        result.append(start.elapsed_time(end))
    else:
        begin = time.perf_counter()
        yield lambda: result[0]
        result.append((time.perf_counter() - begin) * 1e3)


def _peak_mb(device: str) -> float:
    """``torch.cuda.max_memory_allocated`` in MiB (0 off CUDA)."""
    return torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else 0.0


def _max_diff(a: PrunedVideo, b: PrunedVideo) -> float:
    """Largest absolute feature difference (inf when the shapes differ)."""
    if a.features.shape != b.features.shape:
        return float("inf")
    diff = (a.features.float() - b.features.float().cpu()).abs()
    return float(diff.max()) if diff.numel() else 0.0


def check_methods(
    frames: int, grid: tuple[int, int], hidden: int, retention: float, device: str = "cuda"
) -> list[MethodCheck]:
    """Prune on CPU and ``device`` with the same CPU generator seed; compare the outputs."""
    cpu_tokens = synthetic_tokens(frames, grid, hidden)
    gpu_tokens = synthetic_tokens(frames, grid, hidden, device=device)
    rows = []
    for method in [m for m in available_methods() if m != "none"]:
        for variant in ("reference", "fixed"):
            for use_stop in (False, True):
                cfg = PruningConfig.preset(
                    method, retention_ratio=retention, use_stop=use_stop, variant=variant
                )
                ref = prune(cpu_tokens, cfg, generator=torch.Generator().manual_seed(0))
                prune(gpu_tokens, cfg, generator=torch.Generator().manual_seed(0))  # warm-up
                with _elapsed_ms(device) as elapsed:
                    out = prune(gpu_tokens, cfg, generator=torch.Generator().manual_seed(0))
                same = torch.equal(out.global_index.cpu(), ref.global_index)
                diff = _max_diff(ref, out)
                rows.append(
                    MethodCheck(
                        method=method,
                        variant=variant,
                        use_stop=use_stop,
                        kept=out.kept,
                        same_indices=same,
                        max_feature_diff=diff,
                        cuda_ms=elapsed(),
                        passed=same
                        and diff <= FEATURE_TOLERANCE
                        and out.features.device.type == torch.device(device).type,
                    )
                )
    return rows


def time_adapters(
    retention: float,
    repeats: int,
    device: str = "cuda",
    methods: tuple[str, ...] = PAPER_METHODS,
) -> list[AdapterTiming]:
    """Forward passes of every registered backbone's demo model with SToP on ``device``."""
    from stop_eval.backbones import available_backbones, get_backbone
    from stop_eval.demo.data import demo_questions
    from stop_eval.eval.model import VideoModel
    from stop_eval.media.video import load_video

    item = demo_questions()[0]
    frames, meta = load_video(item["video"], num_frames=8)
    rows = []
    for backbone in available_backbones():
        model, processor = get_backbone(backbone).build_demo()
        model = model.to(device)
        for method in methods:
            cfg = PruningConfig.preset(method, backbone=backbone, retention_ratio=retention)
            vm = VideoModel(model, processor, backbone, cfg, max_new_tokens=1, random_weights=True)
            try:
                batch = vm.inputs([(frames, meta, item["question"])])
                times, vision, pruning = [], [], []
                if device.startswith("cuda"):
                    torch.cuda.reset_peak_memory_stats()
                for _ in range(repeats + 1):  # the first call warms up
                    with torch.no_grad(), _elapsed_ms(device) as elapsed:
                        model(**batch)
                    record = vm.adapter.accounting[0]
                    times.append(elapsed())
                    vision.append(record.vision_seconds * 1e3)
                    pruning.append(record.prune_seconds * 1e3)
                rows.append(
                    AdapterTiming(
                        backbone=backbone,
                        method=method,
                        tokens_before=record.tokens_before,
                        kept=record.kept,
                        forward_ms=statistics.median(times[1:]),
                        vision_ms=statistics.median(vision[1:]),
                        prune_ms=statistics.median(pruning[1:]),
                        peak_mb=_peak_mb(device),
                    )
                )
            finally:
                vm.close()
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return rows


CHECK_COLUMNS: tuple[Column, ...] = (
    Column("method", "<10", lambda r: r.method),
    Column("variant", "<9", lambda r: r.variant),
    Column("SToP", "<4", lambda r: "on" if r.use_stop else "off"),
    Column("kept", ">5", lambda r: r.kept),
    Column("same idx", ">8", lambda r: "yes" if r.same_indices else "NO"),
    Column("max |diff|", ">10.2e", lambda r: r.max_feature_diff),
    Column("cuda ms", ">8.2f", lambda r: r.cuda_ms),
    Column("ok", ">3", lambda r: "ok" if r.passed else "BAD"),
)
ADAPTER_COLUMNS: tuple[Column, ...] = (
    Column("backbone", "<11", lambda r: r.backbone),
    Column("method", "<10", lambda r: r.method),
    Column("before", ">6", lambda r: r.tokens_before),
    Column("kept", ">5", lambda r: r.kept),
    Column("forward ms", ">10.2f", lambda r: r.forward_ms),
    Column("vision ms", ">9.2f", lambda r: r.vision_ms),
    Column("prune ms", ">8.2f", lambda r: r.prune_ms),
    Column("peak MiB", ">8.1f", lambda r: r.peak_mb),
)


def format_checks(rows: list[MethodCheck]) -> str:
    """One line per setting: kept count, index equality, feature difference, CUDA time."""
    return text_table(CHECK_COLUMNS, rows)


def format_adapters(rows: list[AdapterTiming]) -> str:
    """One line per backbone x method: CUDA-event forward time, stages and peak memory."""
    return text_table(ADAPTER_COLUMNS, rows)


def run_gpu_check(args: argparse.Namespace) -> int:
    """Run the check; 0 when every method matches (or without CUDA), 1 otherwise."""
    if not torch.cuda.is_available():
        print(NO_CUDA_LINE)
        return 0
    torch.cuda.reset_peak_memory_stats()
    checks = check_methods(args.frames, tuple(args.grid), args.hidden, args.retention)
    method_peak = torch.cuda.max_memory_allocated() / 2**20
    print(format_checks(checks))
    print(f"peak CUDA memory of the method checks: {method_peak:.1f} MiB")
    adapters = [] if args.no_adapters else time_adapters(args.retention, args.repeats)
    if adapters:
        print(format_adapters(adapters))
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)}/{len(checks)} settings match the CPU")
    if args.out:
        settings = {k: v for k, v in vars(args).items() if k not in ("command", "out")}
        write_json(
            Path(args.out), settings, method_peak_mb=method_peak, methods=checks, adapters=adapters
        )
        print(f"wrote {args.out}")
    return 1 if failed else 0

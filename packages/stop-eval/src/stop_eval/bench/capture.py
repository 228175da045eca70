"""Attention-capture overhead: an unhooked vision tower vs the capture hooks (vs eager).

Each variant runs in its own process (CPU peak memory is the process's maximum resident set;
on CUDA, ``max_memory_allocated``); time is the median of ``repeats`` after one warm-up. Towers
have random weights at real sizes: SigLIP-so400m as LLaVA runs it (26 layers; variants
``tower``, ``hooks`` on q/k, ``eager`` with ``output_attentions``) or a backbone's own tower
(``towers``; Qwen2.5-VL: the 7B vision transformer at 448x448, a pre-hook on the
last full-attention block; Qwen3-VL: the 8B vision transformer from its bundled config at
512x512, 256 merged tokens per temporal group, a pre-hook on the last block; both have
variants ``tower`` and ``hooks`` only: their attention modules return no weights).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import torch

from stop_eval.bench.report import Column, text_table
from stop_eval.bench.towers import SIGLIP, tower_bench, towers
from stop_eval.progress import track

VARIANTS: tuple[str, ...] = ("tower", "hooks", "eager")


@dataclass(frozen=True)
class CaptureTiming:
    """One variant: wall time of a tower forward (+ reduction) and the peak memory it needed."""

    tower: str
    variant: str
    frames: int
    layers: int
    hidden: int
    threads: int
    device: str
    median_s: float
    runs_s: tuple[float, ...]
    peak_mb: float
    peak_over_start_mb: float


def run_variant(
    tower: str,
    variant: str,
    frames: int,
    layers: int,
    repeats: int,
    device: str,
    dtype: torch.dtype,
) -> CaptureTiming:
    """Build the tower, then time ``variant`` in this process."""
    bench = tower_bench(tower)
    once, hidden = bench.runner(variant, frames, layers, device, dtype), bench.hidden
    start_mb = _peak_mb(device, reset=True)
    runs: list[float] = []
    for i in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        once()
        _sync(device)
        if i:
            runs.append(time.perf_counter() - start)
    peak = _peak_mb(device)
    return CaptureTiming(
        tower=tower,
        variant=variant,
        frames=frames,
        layers=layers,
        hidden=hidden,
        threads=torch.get_num_threads(),
        device=device,
        median_s=statistics.median(runs),
        runs_s=tuple(runs),
        peak_mb=peak,
        peak_over_start_mb=peak - start_mb,
    )


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def _peak_mb(device: str, reset: bool = False) -> float:
    """Peak memory so far in MB (CUDA allocator, else the process's maximum resident set)."""
    if device.startswith("cuda"):
        if reset:
            torch.cuda.reset_peak_memory_stats(device)
            return torch.cuda.memory_allocated(device) / 2**20
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_in_subprocess(variant: str, args: argparse.Namespace) -> CaptureTiming:
    """Run one variant in a fresh interpreter so that its peak memory is its own."""
    cmd = [
        sys.executable,
        "-m",
        "stop_eval.bench.capture",
        "--variant",
        variant,
        "--tower",
        args.tower,
        "--frames",
        str(args.frames),
        "--repeats",
        str(args.repeats),
        "--device",
        args.device,
        "--dtype",
        args.dtype,
        "--threads",
        str(args.threads),
    ]
    if args.layers:
        cmd += ["--layers", str(args.layers)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"capture benchmark variant {variant!r} failed:\n{res.stderr[-2000:]}")
    data = json.loads(res.stdout.strip().splitlines()[-1])
    data["runs_s"] = tuple(data["runs_s"])
    return CaptureTiming(**data)


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the capture benchmark (shared with ``stop-bench capture``)."""
    parser.add_argument("--tower", choices=towers(), default=SIGLIP)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument(
        "--layers",
        type=int,
        default=None,
        help="default: the tower's real depth (26: SigLIP as LLaVA runs it, 32: Qwen2.5-VL-7B, "
        "27: Qwen3-VL-8B)",
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", default=None, help="JSON file to write")


def format_capture_table(rows: list[CaptureTiming]) -> str:
    """Plain-text table with time and memory relative to the unhooked tower."""
    base = next((r for r in rows if r.variant == "tower"), rows[0])
    columns = (
        Column("tower", "<11", lambda r: r.tower),
        Column("variant", "<7", lambda r: r.variant),
        Column("frames", ">6", lambda r: r.frames),
        Column("median s", ">9.2f", lambda r: r.median_s),
        Column("x tower", ">8.3f", lambda r: r.median_s / base.median_s),
        Column("peak MB", ">9.0f", lambda r: r.peak_mb),
        Column("over start MB", ">14.0f", lambda r: r.peak_over_start_mb),
    )
    return text_table(columns, rows)


def run_capture_benchmark(args: argparse.Namespace) -> list[CaptureTiming]:
    """All variants of the chosen tower, each in its own process."""
    if args.frames < 1 or args.repeats < 1:
        raise SystemExit("--frames and --repeats must be >= 1")
    variants = tower_bench(args.tower).variants
    return [measure_in_subprocess(v, args) for v in track(variants, "capture bench", str)]


def main(argv: list[str] | None = None) -> None:
    """Child-process entry: run one ``--variant`` and print its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    add_capture_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    layers = args.layers or tower_bench(args.tower).layers
    row = run_variant(
        args.tower,
        args.variant,
        args.frames,
        layers,
        args.repeats,
        args.device,
        getattr(torch, args.dtype),
    )
    print(json.dumps(asdict(row)))


if __name__ == "__main__":
    main()

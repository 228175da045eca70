"""``stop-bench``: efficiency benchmarks of SToP pruning and a CUDA check.

Subcommands: ``prune`` (``--check`` guards against regressions), ``scaling`` (time and peak
memory vs frames), ``capture``, ``prefill`` and ``gpu-check`` (methods on CUDA vs CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from stop_core import VideoTokens
from stop_eval.bench.capture import (
    add_capture_arguments,
    format_capture_table,
    run_capture_benchmark,
)
from stop_eval.bench.golden import golden_style_tokens
from stop_eval.bench.gpu import add_gpu_check_arguments, run_gpu_check
from stop_eval.bench.guard import (
    DEFAULT_BASELINE,
    calibrate,
    compare,
    format_guard,
    load_baseline,
    save_baseline,
)
from stop_eval.bench.prefill.run import (
    add_prefill_arguments,
    format_prefill_table,
    plot_speedup,
)
from stop_eval.bench.prefill.run import run_from_args as run_prefill
from stop_eval.bench.prune import (
    LEGEND,
    add_prune_arguments,
    apply_quick,
    format_table,
    run_from_args,
    run_settings,
)
from stop_eval.bench.report import write_json
from stop_eval.bench.scaling import (
    add_scaling_arguments,
    format_scaling,
    run_scaling,
    write_scaling,
)
from stop_eval.cli.common import HelpWithDefaults, fail


def build_parser() -> argparse.ArgumentParser:
    """The ``stop-bench`` argument parser with one sub-parser per benchmark."""
    parser = argparse.ArgumentParser(
        prog="stop-bench", description=__doc__, formatter_class=HelpWithDefaults
    )
    sub = parser.add_subparsers(dest="command", required=True)
    prune = sub.add_parser(
        "prune",
        help="latency of stop_core.prune per method, SToP off/on",
        formatter_class=HelpWithDefaults,
    )
    add_prune_arguments(prune)
    prune.add_argument(
        "--check",
        nargs="?",
        const=str(DEFAULT_BASELINE),
        default=None,
        metavar="BASELINE",
        help=f"fail (exit 1) when a setting is over its baseline ratio to the calibration "
        f"kernel by the guard's tolerance (default file: {DEFAULT_BASELINE})",
    )
    prune.add_argument(
        "--save-baseline", default=None, metavar="PATH", help="write this run as a baseline"
    )
    prune.add_argument(
        "--golden-inputs",
        default=None,
        metavar="INPUTS_D64_PT",
        help="time the golden video (inputs_D64.pt) projected to each --hidden instead",
    )
    capture = sub.add_parser(
        "capture",
        help="attention-capture overhead vs an unhooked (and, for SigLIP, an eager) tower",
        formatter_class=HelpWithDefaults,
    )
    add_capture_arguments(capture)
    prefill = sub.add_parser(
        "prefill",
        help="vision / capture / pruning / LLM prefill and decode per method x retention",
        formatter_class=HelpWithDefaults,
    )
    add_prefill_arguments(prefill)
    scaling = sub.add_parser(
        "scaling", help="prune time and peak memory vs frames, each in a fresh process"
    )
    add_scaling_arguments(scaling)
    gpu = sub.add_parser(
        "gpu-check",
        help="every method on CUDA vs the CPU, adapter CUDA timings, peak memory",
        formatter_class=HelpWithDefaults,
    )
    add_gpu_check_arguments(gpu)
    return parser


def run_prune(args: argparse.Namespace) -> None:
    """Time ``prune``; with ``--check``/``--save-baseline``, against the calibration kernel."""
    try:  # fail before timing
        baseline = load_baseline(Path(args.check)) if args.check else None
    except (OSError, ValueError) as exc:
        raise SystemExit(str(exc)) from exc
    guarded = baseline is not None or args.save_baseline
    before = calibrate(args.threads) if guarded else {}
    make_tokens = None
    if args.golden_inputs:
        path, dtype = Path(args.golden_inputs), getattr(torch, args.dtype)
        if not path.is_file():
            raise SystemExit(f"--golden-inputs {path}: no such file")

        def make_tokens(hidden: int) -> VideoTokens:
            return golden_style_tokens(
                path, hidden, layout=args.layout, dtype=dtype, device=args.device
            )

    rows = run_from_args(apply_quick(args), make_tokens)
    print(format_table(rows))
    print(LEGEND)
    if args.out:
        write_json(Path(args.out), run_settings(args), results=rows)
        print(f"wrote {args.out}")
    if not guarded:
        return
    after = calibrate(args.threads)
    calibration = {n: (before[n] + after[n]) / 2 for n in before}
    if args.save_baseline:
        settings = {k: v for k, v in run_settings(args).items() if k not in ("check",)}
        save_baseline(Path(args.save_baseline), rows, calibration, settings)
        print(f"wrote {args.save_baseline}")
    if baseline is not None:
        results = compare(rows, calibration, baseline)
        print(format_guard(results, calibration))
        if any(r.failed for r in results):
            raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """``stop-bench``: a bad option value is one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        run_command(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):  # the benches' option checks
            fail(f"stop-bench {args.command}", exc.code)
        raise


def run_command(args: argparse.Namespace) -> None:
    """Run the chosen benchmark, print its table and write JSON when ``--out`` is given."""
    if args.command == "prune":
        run_prune(args)
    elif args.command == "prefill":
        from rich.console import Console

        run = run_prefill(args)
        Console(width=180).print(format_prefill_table(run))
        if args.out:
            write_json(
                Path(args.out), {**run_settings(args), "inputs": run.inputs}, results=run.rows
            )
            print(f"wrote {args.out}")
        if args.plot:
            plot_speedup(run.rows, Path(args.plot))
            print(f"wrote {args.plot}")
    elif args.command == "scaling":
        rows = run_scaling(args)
        print(format_scaling(rows))
        if args.out:
            write_scaling(rows, Path(args.out), run_settings(args))
            print(f"wrote {args.out}")
    elif args.command == "gpu-check":
        status = run_gpu_check(args)
        if status:
            raise SystemExit(status)
    elif args.command == "capture":
        timings = run_capture_benchmark(args)
        print(format_capture_table(timings))
        if args.out:
            write_json(Path(args.out), run_settings(args), results=timings)
            print(f"wrote {args.out}")

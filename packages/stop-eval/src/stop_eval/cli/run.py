"""``stop-eval run`` (the default command): evaluate SToP-pruned video LLMs.

``stop-eval --backbone <name>`` runs the embedded random-weight demo on the bundled clips;
``--model <hub id or path>`` loads a real checkpoint; ``--benchmark <name> --data-root <dir>``
runs a real, resumable evaluation that writes per-sample JSONL and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.cli.common import HelpWithDefaults, fail, one_line_warnings

if TYPE_CHECKING:  # imported where used: `list`, `--help` and errors stay fast
    import torch
    from rich.console import Console

    from stop_core import PruningConfig

DEMO_MAX_NEW_TOKENS = 16


def build_parser() -> argparse.ArgumentParser:
    """Options of an evaluation run."""
    from stop_core import available_methods
    from stop_eval.backbones import DEFAULT_BACKBONE, available_backbones
    from stop_eval.benchmarks import BENCHMARKS
    from stop_eval.eval.run_config import PRESETS

    p = argparse.ArgumentParser(
        prog="stop-eval",
        description=__doc__,
        formatter_class=HelpWithDefaults,
        epilog="other commands: stop-eval download ..., stop-eval check ..., stop-eval list, "
        "stop-eval visualize ..., stop-eval inspect ...",
    )
    p.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=available_backbones())
    p.add_argument(
        "--model",
        default=None,
        help="hub id or local path (default: the embedded random-weight demo model)",
    )
    p.add_argument("--method", default="holitom", help=f"one of {available_methods()}")
    p.add_argument("--retention", type=float, default=0.1)
    p.add_argument(
        "--stop",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SToP on (mu from presets) or off",
    )
    p.add_argument("--mu-s", type=float, default=None, help="override the preset mu_s")
    p.add_argument("--mu-t", type=float, default=None, help="override the preset mu_t")
    p.add_argument("--gamma", type=float, default=1.1)
    p.add_argument("--variant", default="reference", choices=["reference", "fixed"])
    p.add_argument(
        "--preset",
        default=None,
        choices=sorted(PRESETS),
        help="the official scripts: no_pruning, baseline, stop_spatial, stop_spatial_temporal",
    )
    p.add_argument(
        "--scorer",
        default="attention",
        choices=["attention", "norm"],
        help="Qwen2.5-VL token scores (norm = the official proxy, mu_s 3.7)",
    )
    p.add_argument("--benchmark", default=None, choices=sorted(BENCHMARKS))
    p.add_argument("--data-root", type=Path, default=None)
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--protocol", default="reference", choices=["reference", "fixed"])
    p.add_argument("--limit", type=int, default=None, help="first N samples only")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--out", type=Path, default=None, help="results folder")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=None)
    p.add_argument("--dtype", default="auto", choices=["auto", "float16", "bfloat16", "float32"])
    p.add_argument("--device-map", default="auto")
    p.add_argument("--judge-model", default=None, help="override the benchmarks' judge models")
    p.add_argument("--judge-base-url", default=None, help="any OpenAI-compatible endpoint")
    p.add_argument(
        "--judge-api-key-env",
        default="OPENAI_API_KEY",
        help="environment variable holding the judge key (never logged)",
    )
    p.add_argument("--retry-errors", action="store_true", help="redo samples that errored")
    return p


def pruning_config(args: argparse.Namespace) -> PruningConfig:
    """The ``PruningConfig`` the options describe (presets first, explicit mu last)."""
    from stop_eval.eval.run_config import make_config

    return make_config(
        args.backbone,
        args.method,
        args.retention,
        use_stop=args.stop,
        variant=args.variant,
        scorer=args.scorer,
        gamma=args.gamma,
        mu_s=args.mu_s,
        mu_t=args.mu_t,
        preset=args.preset,
    )


def load_model(args: argparse.Namespace) -> tuple[torch.nn.Module, Any, bool]:
    """(model, processor, random_weights): a real checkpoint or the embedded demo."""
    from stop_eval.eval.model import load_backbone

    return load_backbone(
        args.backbone, args.model, dtype=args.dtype, device_map=args.device_map, seed=args.seed
    )


def main(argv: list[str] | None = None) -> None:
    """``stop-eval [run]``: the demo or a benchmark evaluation; bad options exit with 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    one_line_warnings("stop-eval")
    try:
        run(args)
    except (ValueError, FileNotFoundError) as exc:
        fail("stop-eval", str(exc))
    except RuntimeError as exc:
        from stop_eval.benchmarks.judge import JudgeError  # a judge error means the judge is loaded

        if isinstance(exc, JudgeError):
            fail("stop-eval", str(exc))
        raise


def run(args: argparse.Namespace) -> None:
    """Validate options, then run the demo or a benchmark evaluation."""
    import torch
    from rich.console import Console

    console = Console()
    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    cfg = pruning_config(args)
    torch.manual_seed(args.seed)
    if args.benchmark is None:
        from stop_eval.demo.run import run_demo

        methods = (cfg.method,) if args.preset == "no_pruning" else None
        run_demo(
            lambda: load_model(args)[:2],
            args.backbone,
            retention=args.retention,
            variant=args.variant,
            frames=args.frames,
            max_new_tokens=args.max_new_tokens or DEMO_MAX_NEW_TOKENS,
            random_weights=args.model is None,
            console=console,
            **({"methods": ()} if methods == ("none",) else {}),
        )
        return
    evaluate_benchmark(args, cfg, console)


def evaluate_benchmark(args: argparse.Namespace, cfg: PruningConfig, console: Console) -> None:
    """Resumable (and sharded) evaluation of one benchmark; rank 0 writes the summary."""
    from stop_eval.backbones import get_backbone
    from stop_eval.benchmarks import get_benchmark, resolve_root
    from stop_eval.benchmarks.judge import Judge
    from stop_eval.eval.answer import make_answer_fn
    from stop_eval.eval.model import VideoModel
    from stop_eval.eval.run_config import default_max_new_tokens
    from stop_eval.eval.runner import (
        RunSettings,
        check_config,
        merge_records,
        print_summary,
        run_shard,
        summarize,
    )

    if args.data_root is None:
        raise ValueError(
            f"--benchmark {args.benchmark} needs --data-root (get the data with "
            f"`stop-eval download --benchmark {args.benchmark} --data-root <dir>`)"
        )
    benchmark = get_benchmark(args.benchmark)
    root = resolve_root(args.data_root, args.benchmark)
    samples = benchmark.load(root, args.protocol)
    if args.limit is not None:
        samples = samples[: args.limit]
    out = args.out or Path("stop-results") / args.backbone / args.benchmark / (
        f"{cfg.method}_r{cfg.retention_ratio:g}_{'stop' if cfg.use_stop else 'base'}"
    )
    judge = None
    if benchmark.judged:
        judge = Judge(
            model=args.judge_model,
            base_url=args.judge_base_url,
            api_key_env=args.judge_api_key_env,
            cache_dir=out / "judge-cache",
        )
        judge.check_key((args.benchmark,))
    max_new = args.max_new_tokens or default_max_new_tokens(args.backbone)
    settings = RunSettings(
        backbone=args.backbone,
        model=args.model or "demo-random",
        method=cfg.method,
        retention=cfg.retention_ratio,
        use_stop=cfg.use_stop,
        mu_s=cfg.mu_s,
        mu_t=cfg.mu_t,
        gamma=cfg.gamma,
        variant=cfg.variant,
        benchmark=args.benchmark,
        protocol=args.protocol,
        frames=args.frames,
        seed=args.seed,
        max_new_tokens=max_new,
        judge_model=args.judge_model,
        judge_base_url=args.judge_base_url,
        limit=args.limit,
        batch_size=args.batch_size,
        out=str(out),
    )
    shard = current_shard()
    if shard.rank == 0:
        check_config(out, settings)
    barrier(shard)
    check_config(out, settings)
    if shard.rank == 0:  # what `stop-eval check` says, once the options are known to be good
        from stop_eval.eval.data_check import check_samples, print_report

        report = check_samples(benchmark, root, args.protocol, samples, limit=args.limit)
        print_report(report, sys.stderr)
    model, processor, random_weights = load_model(args)
    vm = VideoModel(
        model,
        processor,
        args.backbone,
        cfg,
        max_new_tokens=max_new,
        seed=args.seed,
        random_weights=random_weights,
        adapter_options=get_backbone(args.backbone).adapter_options(args.scorer),
    )
    answer = make_answer_fn(vm, benchmark, judge, args.frames, args.protocol)
    run_shard(
        samples,
        answer,
        out,
        shard,
        batch_size=args.batch_size,
        retry_errors=args.retry_errors,
        console=console,
    )
    barrier(shard)
    if shard.rank != 0:
        return
    records = merge_records(out, samples, shard.world)
    summary = summarize(settings, benchmark, records, len(samples), judge)
    if random_weights:
        summary["note"] = "random-weight demo model: the metrics mean nothing"
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print_summary(summary, console)
    console.print(f"results in {out}")
    errors = summary["counts"]["errors"]
    if errors:  # counted, not fatal (exit 0): the summary says which and why
        sys.stderr.write(
            f"stop-eval: {errors} of {summary['counts']['done']} samples errored (their "
            f"messages are in {out / 'summary.json'}); --retry-errors redoes them\n"
        )


def current_shard() -> Any:  # noqa: ANN401 - runner.Shard
    """Rank and world size set by ``torchrun``/``accelerate launch`` (1 process otherwise)."""
    import torch

    from stop_eval.eval.runner import Shard

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return Shard(rank=rank, world=world)


def barrier(shard: Any) -> None:  # noqa: ANN401 - runner.Shard
    """Wait for every rank (no-op in a single process)."""
    import torch

    if shard.world > 1 and torch.distributed.is_initialized():
        torch.distributed.barrier()

"""The offline default of ``stop-eval``: every method x SToP off/on on the bundled clips.

It prints, per setting, the visual tokens before and kept, the language-model prefill time
and its speedup over no pruning, and the answers. With the embedded demo model the weights
are random, so answers are gibberish and accuracy means nothing; the numbers show the
pruning machinery at work.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from stop_core import PruningConfig
from stop_eval.backbones import get_backbone
from stop_eval.demo_data import demo_questions
from stop_eval.models import VideoModel
from stop_eval.video import load_video

DEMO_METHODS: tuple[str, ...] = ("visionzip", "fastvid", "holitom", "flashvid")
YESNO_SUFFIX = "\nPlease answer yes or no:"


@dataclass
class DemoRow:
    """One setting of the demo: tokens, timings and answers."""

    method: str
    use_stop: bool
    before: int
    kept: int
    prefill_s: float
    answers: list[str]


def demo_prompt(item: dict) -> str:
    """EventHallusion-style yes/no prompt or MVBench-style multiple choice."""
    if item["kind"] == "yesno":
        return item["question"] + YESNO_SUFFIX
    options = "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(item["candidates"]))
    return f"Question: {item['question']}\nOptions:\n{options}\nOnly give the best option."


def run_demo(
    build: object,
    backbone: str,
    *,
    retention: float,
    variant: str,
    frames: int,
    max_new_tokens: int,
    methods: tuple[str, ...] = DEMO_METHODS,
    random_weights: bool,
    console: Console | None = None,
) -> list[DemoRow]:
    """Run the demo with ``build() -> (model, processor)``; print and return the table rows."""
    console = console or Console()
    model, processor = build()  # type: ignore[operator]
    clips = [(item, *load_video(item["video"], num_frames=frames)) for item in demo_questions()]
    settings = [("none", False)] + [(m, s) for m in methods for s in (False, True)]
    presets = get_backbone(backbone).presets_backbone
    rows: list[DemoRow] = []
    for method, use_stop in settings:
        cfg = (
            PruningConfig("none")
            if method == "none"
            else PruningConfig.preset(
                method,
                backbone=presets,
                retention_ratio=retention,
                use_stop=use_stop,
                variant=variant,
            )
        )
        vm = VideoModel(
            model,
            processor,
            backbone,
            cfg,
            max_new_tokens=max_new_tokens,
            random_weights=random_weights,
        )
        try:
            prefill, answers, before, kept = [], [], 0, 0
            for item, video, meta in clips:
                prompt = demo_prompt(item)
                start = time.perf_counter()
                first = vm.answer(video, meta, prompt, max_new_tokens=1)
                ttft = time.perf_counter() - start
                prefill.append(max(ttft - first.timings["vision"] - first.timings["prune"], 0.0))
                before, kept = before + first.tokens["before"], kept + first.tokens["kept"]
                answers.append(vm.answer(video, meta, prompt).text)
        finally:
            vm.close()
        rows.append(DemoRow(method, use_stop, before, kept, statistics.median(prefill), answers))
    print_demo(rows, backbone, random_weights, console)
    return rows


def printable(text: str) -> str:
    """One line of plain ASCII (random models emit arbitrary bytes)."""
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in " ".join(text.split()))


def print_demo(rows: list[DemoRow], backbone: str, random_weights: bool, console: Console) -> None:
    """The demo table, the answers, and the plain warning about random weights."""
    base = next(r for r in rows if r.method == "none")
    table = Table(title=f"SToP demo on {backbone} ({len(base.answers)} bundled clips)")
    for col in ("method", "SToP", "visual tokens", "kept", "LLM prefill ms", "speedup"):
        table.add_column(
            col, no_wrap=True, justify="left" if col in ("method", "SToP") else "right"
        )
    for r in rows:
        table.add_row(
            r.method,
            "on" if r.use_stop else "off",
            str(r.before),
            str(r.kept),
            f"{r.prefill_s * 1e3:.1f}",
            f"{base.prefill_s / max(r.prefill_s, 1e-9):.2f}x",
        )
    console.print(table)
    console.print("answers (one per clip):")
    for r in rows:
        label = f"{r.method}/{'on' if r.use_stop else 'off'}"
        console.print(
            f"  {label:<14} " + " | ".join(printable(a)[:16] for a in r.answers),
            markup=False,
            highlight=False,
        )
    if random_weights:
        note = get_backbone(backbone).demo_note
        console.print(
            "[bold yellow]These are random-weight demo models built in-process: the answers are "
            f"gibberish and accuracy means nothing.[/] {note}Pass --model <hub id or path> "
            "for a real model and --benchmark/--data-root for a real evaluation."
        )

"""The offline default of ``stop-eval``: every method x SToP off/on on the bundled clips.

It prints the retention, per setting the tokens requested (``round(r * T * S)``), kept (what
the method's official budget rule delivers, with its one-line reason when they differ) and fed
to the LLM (kept + newline tokens), the language-model prefill time and its speedup over no
pruning, and the answers; progress goes to stderr. With the embedded demo model the weights
are random, so answers are gibberish and accuracy means nothing; the numbers show the
pruning machinery at work.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from stop_core import PAPER_METHODS, PruningConfig
from stop_eval.backbones import get_backbone
from stop_eval.demo.data import demo_questions
from stop_eval.eval.model import VideoModel
from stop_eval.media.video import load_video
from stop_eval.progress import progress_bar

YESNO_SUFFIX = "\nPlease answer yes or no:"


@dataclass
class DemoRow:
    """One setting of the demo: tokens (summed over the clips), timings, answers, budget.

    ``requested`` is ``round(r * T * S)`` per clip, ``kept`` the video tokens the method's own
    budget rule delivered, ``llm_tokens`` what the LLM received (kept + newline tokens) and
    ``budget`` the method's one-line explanation when kept and requested differ.
    """

    method: str
    use_stop: bool
    requested: int
    kept: int
    llm_tokens: int
    prefill_s: float
    answers: list[str]
    budget: str = ""
    layout: str = ""


class PrefillTimer:
    """Times the language model's first forward of one ``generate`` call: the prefill alone.

    Vision encoding, pruning and the decode steps are left out, so the speedup compares only
    what pruning shortens: the LLM's pass over the (pruned) prompt.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        inner = getattr(model, "model", model)
        self.llm: torch.nn.Module = getattr(inner, "language_model", None) or model.get_decoder()
        self.seconds = 0.0
        self._start: float | None = None
        self._handles: list[Any] = []

    def __enter__(self) -> PrefillTimer:
        """Hook the language model's first call."""
        self._handles = [
            self.llm.register_forward_pre_hook(self._before),
            self.llm.register_forward_hook(self._after),
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        """Remove the hooks."""
        for handle in self._handles:
            handle.remove()

    def _before(self, *_: object) -> None:
        if self._start is None:
            self._start = time.perf_counter()

    def _after(self, *_: object) -> None:
        if self._start is not None and self.seconds == 0.0:
            self.seconds = time.perf_counter() - self._start


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
    methods: tuple[str, ...] = PAPER_METHODS,
    random_weights: bool,
    console: Console | None = None,
) -> list[DemoRow]:
    """Run the demo with ``build() -> (model, processor)``; print and return the table rows."""
    console = console or Console()
    clips_items = demo_questions()
    settings = [("none", False)] + [(m, s) for m in methods for s in (False, True)]
    presets = get_backbone(backbone).presets_backbone
    rows: list[DemoRow] = []
    with progress_bar(transient=True) as progress:  # the table follows
        task = progress.add_task(f"demo {backbone}: building the model", total=None)
        model, processor = build()  # type: ignore[operator]
        progress.update(task, description=f"demo {backbone}: decoding {len(clips_items)} clips")
        clips = [(item, *load_video(item["video"], num_frames=frames)) for item in clips_items]
        progress.update(task, total=len(settings) * len(clips), completed=0)
        for method, use_stop in settings:
            label = f"demo {backbone}: {method}, SToP {'on' if use_stop else 'off'}"
            progress.update(task, description=label)
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
            row = DemoRow(method, use_stop, 0, 0, 0, 0.0, [])
            try:
                prefill = []
                for item, video, meta in clips:
                    with PrefillTimer(model) as timer:
                        answer = vm.answer(video, meta, demo_prompt(item))
                    prefill.append(timer.seconds)
                    row.requested += answer.tokens["requested"]
                    row.kept += answer.tokens["kept"]
                    row.llm_tokens += answer.tokens["sequence"]
                    notes = [r.notes for r in vm.adapter.accounting]
                    row.budget = row.budget or next(
                        (n["budget"] for n in notes if "budget" in n), ""
                    )
                    row.layout = row.layout or next(
                        (n["layout"] for n in notes if "layout" in n), ""
                    )
                    row.answers.append(answer.text)
                    progress.advance(task)
            finally:
                vm.close()
            row.prefill_s = statistics.median(prefill)
            rows.append(row)
    print_demo(rows, backbone, retention, random_weights, console)
    return rows


def printable(text: str) -> str:
    """One line of plain ASCII (random models emit arbitrary bytes)."""
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in " ".join(text.split()))


NEWLINE_LAYOUTS = {
    "one_token": "one newline token after each video",
    "grid": "one newline token after each row of every frame",
    "frame": "one newline token after each frame",
}


def budget_lines(rows: list[DemoRow], retention: float) -> list[str]:
    """Why ``requested`` and ``kept`` differ: the budget rule, one line per method that differs."""
    base = next(r for r in rows if r.method == "none")
    clips = len(base.answers)
    lines = [
        f"retention {retention:g}: each method is asked for requested = round({retention:g} x T x "
        f"S) tokens per clip ({base.kept // clips:,} video tokens each, T frames x S tokens per "
        "frame); kept is what its own official budget rule delivers. Why they differ, for the "
        "first clip:"
    ]
    seen: set[str] = set()
    for r in rows:
        if r.method == "none" or r.method in seen:
            continue
        seen.add(r.method)
        if r.kept == r.requested or not r.budget:
            lines.append(f"  {r.method}: keeps exactly the requested count")
        else:
            lines.append(f"  {r.method}: {r.budget}")
    return lines


def none_line(base: DemoRow, clips: int) -> str:
    """What ``none``'s two counts mean: every video token, plus the layout's newline tokens."""
    newlines = base.llm_tokens - base.kept
    if newlines == 0:
        return f"none keeps all {base.kept:,} video tokens; the LLM receives exactly those."
    layout = NEWLINE_LAYOUTS.get(base.layout, f"the {base.layout!r} newline layout")
    return (
        f"none keeps all {base.kept:,} video tokens; the LLM receives {base.llm_tokens:,}: "
        f"{newlines:,} newline tokens ({layout}, {clips} clips) are added and never pruned."
    )


def print_demo(
    rows: list[DemoRow],
    backbone: str,
    retention: float,
    random_weights: bool,
    console: Console,
) -> None:
    """The demo table, the budget rule, the answers, and the plain warning about random weights."""
    base = next(r for r in rows if r.method == "none")
    table = Table(
        title=f"SToP demo on {backbone} ({len(base.answers)} bundled clips, "
        f"retention {retention:g})"
    )
    columns = ("method", "SToP", "requested", "kept", "to LLM", "prefill ms", "speedup")
    for col in columns:
        table.add_column(
            col, no_wrap=True, justify="left" if col in ("method", "SToP") else "right"
        )
    for r in rows:
        table.add_row(
            r.method,
            "on" if r.use_stop else "off",
            "all" if r.method == "none" else str(r.requested),
            str(r.kept),
            str(r.llm_tokens),
            f"{r.prefill_s * 1e3:.1f}",
            f"{base.prefill_s / max(r.prefill_s, 1e-9):.2f}x",
        )
    console.print(table)
    console.print(
        "requested/kept: video tokens asked for / delivered; to LLM: kept + newline tokens; "
        "prefill: the language model's first forward (vision and pruning excluded)",
        highlight=False,
    )
    console.print(none_line(base, len(base.answers)), highlight=False)
    if len(rows) > 1:
        for line in budget_lines(rows, retention):
            console.print(line, markup=False, highlight=False)
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

"""The offline demo says what it measures: grids, budgets, newline tokens, its model, progress."""

from __future__ import annotations

import math

import pytest

from stop_eval.backbones import get_backbone
from stop_eval.cli import main
from stop_eval.demo.data import demo_questions
from stop_eval.demo.run import run_demo

FRAMES = 2
RETENTION = 0.1
# the real checkpoints' token grids (README, "What the model sees"): LLaVA-OneVision pools
# SigLIP's 27 x 27 patches bilinearly to 14 x 14 and appends one newline per video;
# LLaVA-Video average-pools them to 13 x 13 and appends a newline after every row
REAL_GRID = {"llava_ov": 14, "llava_video": 13}


def official_request(frames: int, per_frame: int, retention: float) -> int:
    """The documented budget rule: round(r * T * S), half up, at least one token."""
    return max(1, math.floor(retention * frames * per_frame + 0.5))


@pytest.fixture(scope="module", params=["llava_ov", "llava_video"])
def demo_rows(request):
    backbone = request.param
    rows = run_demo(
        lambda: get_backbone(backbone).build_demo(0),
        backbone,
        retention=RETENTION,
        variant="reference",
        frames=FRAMES,
        max_new_tokens=1,
        methods=("visionzip", "holitom"),
        random_weights=True,
    )
    return backbone, rows


def test_demo_grid_is_the_real_models(demo_rows) -> None:
    backbone, rows = demo_rows
    clips = len(demo_questions())
    side = REAL_GRID[backbone]
    none = rows[0]
    assert none.method == "none"
    assert none.kept == clips * FRAMES * side * side
    newlines = clips if backbone == "llava_ov" else clips * FRAMES * side
    assert none.llm_tokens == none.kept + newlines


def test_demo_requested_follows_the_budget_rule(demo_rows) -> None:
    backbone, rows = demo_rows
    clips = len(demo_questions())
    side = REAL_GRID[backbone]
    for row in rows[1:]:
        assert row.requested == clips * official_request(FRAMES, side * side, RETENTION)
        assert row.kept > 0
        if row.kept != row.requested:
            assert row.budget, f"{row.method}: kept {row.kept} != requested without a reason"


def test_llava_video_has_its_own_demo_layout() -> None:
    ov_model, _ = get_backbone("llava_ov").build_demo(0)
    video_model, _ = get_backbone("llava_video").build_demo(0)
    assert getattr(ov_model.config, "mm_spatial_pool_mode", None) in (None, "bilinear")
    assert video_model.config.mm_spatial_pool_mode == "average"
    assert video_model.config.mm_newline_position == "grid"
    assert "LLaVA-Video" in get_backbone("llava_video").demo_note


def test_demo_prints_budget_and_progress_on_stderr(capsys, monkeypatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws its bar as in a terminal
    main(["--backbone", "llava_ov", "--frames", str(FRAMES), "--max-new-tokens", "1"])
    captured = capsys.readouterr()
    out = " ".join(captured.out.split())
    assert "retention 0.1" in out
    assert "requested" in out and "kept" in out
    assert "3 newline tokens" in out  # one per clip, llava_ov's layout
    for method in ("visionzip", "fastvid", "holitom", "flashvid"):
        assert f"{method}:" in out  # its budget line
    assert "demo llava_ov" in captured.err  # the progress bar
    assert "demo llava_ov:" not in captured.out


def test_demo_progress_leaves_no_trace_outside_a_terminal(capsys) -> None:
    run_demo(
        lambda: get_backbone("llava_ov").build_demo(0),
        "llava_ov",
        retention=RETENTION,
        variant="reference",
        frames=1,
        max_new_tokens=1,
        methods=(),
        random_weights=True,
    )
    assert capsys.readouterr().err == ""


def test_synthetic_demo_finds_its_planted_sinks(capsys: pytest.CaptureFixture[str]) -> None:
    from stop_core import PAPER_METHODS
    from stop_eval.demo.synthetic import main, planted_sink_video

    _, sinks = planted_sink_video()
    planted = sorted(sinks.tolist())
    main(["--retention", "0.1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"planted sinks at positions {planted}; sink score top-4: {planted}"
    rows = [line.split() for line in lines[2:]]
    assert [(r[0], r[1]) for r in rows] == [(m, s) for m in PAPER_METHODS for s in ("off", "on")]
    assert all(0 <= int(r[-1]) <= int(r[-2]) for r in rows)  # tokens on sinks <= tokens kept

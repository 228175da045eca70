"""Newline layouts (ALGORITHMS.md §1, §3.5) through the one layout function."""

from __future__ import annotations

import pytest
import torch

from stop_core import PrunedVideo, lay_out, layout_order


def _pruned(
    frame: list[int],
    pos: list[int],
    grid_newlines: str = "nonempty_rows",
    layout_position: list[int] | None = None,
    t: int = 2,
    grid: tuple = (2, 3),
) -> PrunedVideo:
    n = len(frame)
    feats = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 4)
    return PrunedVideo(
        features=feats,
        frame_index=torch.tensor(frame),
        position=torch.tensor(pos),
        requested=n,
        kept=n,
        grid=grid,
        num_frames=t,
        method="test",
        variant="fixed",
        grid_newlines=grid_newlines,  # type: ignore[arg-type]
        layout_position=None if layout_position is None else torch.tensor(layout_position),
    )


def test_one_token_and_no_token() -> None:
    out = _pruned([0, 0, 1], [4, 1, 0])
    assert layout_order(out, "one_token").tolist() == [0, 1, 2, -1]
    assert layout_order(out, "no_token").tolist() == [0, 1, 2]


def test_frame_mode_newline_per_frame_even_empty() -> None:
    out = _pruned([0, 0, 2], [4, 1, 0], t=3)
    assert layout_order(out, "frame").tolist() == [0, 1, -1, -1, 2, -1]


def test_grid_nonempty_rows() -> None:
    # grid 2x3: frame 0 positions 4 (row 1), 1 (row 0); frame 1 position 0 (row 0)
    out = _pruned([0, 0, 1], [4, 1, 0])
    assert layout_order(out, "grid").tolist() == [1, -1, 0, -1, 2, -1]


def test_grid_every_row_and_none() -> None:
    out = _pruned([0, 0, 1], [4, 1, 0], grid_newlines="every_row")
    assert layout_order(out, "grid").tolist() == [1, -1, 0, -1, 2, -1, -1]
    out = _pruned([0, 0, 1], [4, 1, 0], grid_newlines="none")
    assert layout_order(out, "grid").tolist() == [1, 0, 2]


def test_grid_uses_layout_position_when_given() -> None:
    out = _pruned([0, 0], [1, 4], layout_position=[4, 1], t=1)
    assert layout_order(out, "grid").tolist() == [1, -1, 0, -1]


def test_full_grid_equals_llava_video_layout() -> None:
    t, h, w = 2, 3, 4
    frame = torch.arange(t).repeat_interleave(h * w).tolist()
    pos = torch.arange(h * w).repeat(t).tolist()
    out = _pruned(frame, pos, grid_newlines="every_row", t=t, grid=(h, w))
    seq = lay_out(out, torch.full((4,), -7.0), mode="grid")
    assert seq.shape == (t * h * (w + 1), 4)
    rows = seq.view(t, h, w + 1, 4)
    assert torch.all(rows[:, :, -1] == -7.0)
    assert torch.equal(rows[:, :, :-1, 0].flatten(), torch.arange(t * h * w, dtype=torch.float32))


def test_lay_out_errors() -> None:
    out = _pruned([0], [0])
    with pytest.raises(ValueError, match="pass newline"):
        lay_out(out, None, "one_token")
    with pytest.raises(ValueError, match="newline must have shape"):
        lay_out(out, torch.zeros(3), "one_token")
    with pytest.raises(ValueError, match="unknown layout mode 'rows'"):
        layout_order(out, "rows")  # type: ignore[arg-type]
    assert lay_out(out, None, "no_token").shape == (1, 4)

"""Placeholder runs of a prompt: how many slots a video gets, and resizing them in token ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from stop_vllm.settings import StopSettings


def planned_run(settings: StopSettings, grid_thw: Any, merge: int) -> int:  # noqa: ANN401
    """Placeholders of one video: the exact count ``prune`` keeps for its merged grid."""
    from stop_core import planned_tokens

    t, h, w = (int(x) for x in torch.as_tensor(grid_thw).reshape(-1).tolist())
    return planned_tokens(settings.cfg, t, (h // merge, w // merge))


def resize_runs(ids: list[int], token: int, counts: list[int]) -> list[int]:
    """``ids`` with its k-th run of ``token`` made ``counts[k]`` long (one run per video).

    Raises ``ValueError`` when the number of runs differs from the number of videos.
    """
    out: list[int] = []
    runs = 0
    i = 0
    while i < len(ids):
        if ids[i] != token:
            out.append(ids[i])
            i += 1
            continue
        while i < len(ids) and ids[i] == token:
            i += 1
        if runs >= len(counts):
            raise ValueError(f"the prompt has more runs of token {token} than {len(counts)} videos")
        out.extend([token] * counts[runs])
        runs += 1
    if runs != len(counts):
        raise ValueError(f"the prompt has {runs} runs of token {token} for {len(counts)} videos")
    return out


def with_video_replacement(
    updates: Sequence[Any],
    replacement: Callable[[int], Any],
) -> list[Any]:
    """VLLM's prompt updates with the video one's replacement swapped (others as they are)."""
    from vllm.multimodal.processing import PromptReplacement

    return [
        PromptReplacement(modality="video", target=update.target, replacement=replacement)
        if update.modality == "video"
        else update
        for update in updates
    ]

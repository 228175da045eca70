"""A video as the processor receives it (``PreparedVideo``), and the protocols that prepare it.

Each backbone family's official input rule (``stop_eval.backbones.<family>.inputs``) turns a
file or frame folder into a ``PreparedVideo``: ``protocol="reference"`` as the official SToP
evaluation feeds it, ``"fixed"`` with its documented bugs corrected (docs/spec/EVAL.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from stop_eval.media.video import VideoMeta

PROTOCOLS = ("reference", "fixed")


@dataclass(frozen=True)
class PreparedVideo:
    """One video as the processor receives it, with where its frames came from.

    ``frames``: LLaVA and Qwen3-VL ``fixed`` uint8 ``[T, H, W, 3]`` at the decoded size (the
    processor resizes, ``processor_resizes``); Qwen reference float32 ``[T, 3, H, W]`` with values
    0..255, already at the ``smart_resize`` size. ``fps`` is the sample fps handed to the Qwen
    processor (None for LLaVA); ``rule`` names the rule in one line.
    """

    frames: np.ndarray | torch.Tensor
    frame_indices: list[int]
    fps: float | None
    meta: VideoMeta
    rule: str
    processor_resizes: bool = False


def check_protocol(protocol: str) -> None:
    """Raise ``ValueError`` for a protocol other than ``reference`` and ``fixed``."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def frame_range(meta: VideoMeta) -> tuple[int, int]:
    """(first, last) frame of the sampled range."""
    return meta.window if meta.window is not None else (0, meta.total_frames - 1)


def range_text(meta: VideoMeta) -> str:
    """``frames first..last`` of the sampled range, for the rule text."""
    first, last = frame_range(meta)
    return f"frames {first}..{last}"


def number_text(value: float) -> str:
    """An integer-valued number without decimals, others to 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"

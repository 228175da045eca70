"""The video input the official SToP evaluation feeds the LLaVA backbones, from a file or folder.

The official ``load_video``: 32 frames at ``torch.linspace(0, n-1, 32).round()`` over the whole
file, uint8 RGB; the checkpoint's SigLIP processor does the rest (resize to 384, normalise).
Frame folders: the official folder rule (3 fps assumed, floor, all images when there are at
most 32). ``protocol="fixed"`` keeps the frame count but honours ``start``/``end``.
"""

from __future__ import annotations

from pathlib import Path

from stop_eval.media.prepared import PreparedVideo, check_protocol, range_text
from stop_eval.media.video import load_video


def llava_video(
    path: str | Path,
    *,
    num_frames: int = 32,
    start: float | None = None,
    end: float | None = None,
    protocol: str = "reference",
) -> PreparedVideo:
    """The official LLaVA-OV / LLaVA-Video frames: uint8 ``[T, H, W, 3]`` and their indices.

    Under ``reference`` the clip bounds are ignored, as the official harness never passes them;
    ``fixed`` samples within ``start``/``end`` (seconds).
    """
    check_protocol(protocol)
    if protocol == "reference":
        start = end = None
    frames, meta = load_video(path, num_frames, start, end, rounding="round")
    if meta.kind == "frames":
        rule = (
            f"frame folder at 3 fps: np.linspace(first, last, {num_frames}, dtype=int) "
            f"(all images when at most {num_frames}), {range_text(meta)}"
        )
    else:
        rule = f"load_video: torch.linspace(first, last, {num_frames}).round(), {range_text(meta)}"
    return PreparedVideo(frames, list(meta.indices), None, meta, f"{protocol}: {rule}")

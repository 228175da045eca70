"""The video inputs the official SToP evaluation feeds the Qwen backbones, from a file or folder.

Qwen2.5-VL (the official ``qwen_vl_utils.process_vision_info`` call with ``nframes=32``,
``min_pixels=4*28*28``, ``max_pixels=256*28*28``): the frame count from qwen-vl-utils'
``smart_nframes``, the same rounded indices decoded by our PyAV reader, each frame resized to
qwen-vl-utils' ``smart_resize`` size with torchvision's bicubic antialiased resize (uint8 in,
rounded back to uint8, then float 0..255, as qwen-vl-utils does), and the sample fps
``nframes / total_frames * video_fps`` that the processor turns into M-RoPE temporal ids.
``qwen_processor_kwargs`` gives the processor call what it needs to use exactly these.

``protocol="fixed"`` keeps the same frame count and pixel budget (so a retention ratio means
the same experiment) but honours ``start``/``end`` and samples a clip shorter than ``nframes``
with repeats instead of failing (docs/spec/EVAL.md, section 1.1b). Qwen3-VL's ``fixed`` rule
is instead its own checkpoint's (``qwen3_fixed_video``): the frames its video processor samples
at its fps, decoded by our PyAV reader, resized by the processor itself.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stop_eval.media.prepared import (
    PreparedVideo,
    check_protocol,
    frame_range,
    number_text,
    range_text,
)
from stop_eval.media.video import VideoError, load_frames, load_video

QWEN_FACTOR = 28  # Qwen2.5-VL: patch 14 x merge 2 (Qwen3-VL: 32)
# qwen-vl-utils' default sequence budget (its MODEL_SEQ_LEN without the environment override):
# the per-frame cap is min(768 tokens, 0.9 * MODEL_SEQ_LEN / nframes * 2 tokens).
QWEN_MODEL_SEQ_LEN = 128_000


def qwen_max_pixels(max_pixels: int, min_pixels: int, factor: int, nframes: int) -> int | float:
    """The per-frame pixel cap qwen-vl-utils' ``fetch_video`` applies to a given ``max_pixels``.

    ``min(max_pixels, max(min(768 * factor**2, total_pixels / nframes * 2),
    int(min_pixels * 1.05)))`` with ``total_pixels = 0.9 * 128000 * factor**2``.
    """
    from qwen_vl_utils.vision_process import FRAME_FACTOR, VIDEO_MAX_TOKEN_NUM

    total_pixels = QWEN_MODEL_SEQ_LEN * factor * factor * 0.9
    cap = max(
        min(VIDEO_MAX_TOKEN_NUM * factor * factor, total_pixels / nframes * FRAME_FACTOR),
        int(min_pixels * 1.05),
    )
    return min(max_pixels, cap)


def resize_like_qwen(frames: np.ndarray, height: int, width: int) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float32 ``[T, 3, height, width]`` as qwen-vl-utils resizes.

    torchvision's bicubic antialiased resize on the uint8 frames (float internally, clamped and
    rounded back to uint8), then ``.float()``; one frame at a time to bound memory.
    """
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as tvf

    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    out = torch.empty((video.shape[0], 3, height, width), dtype=torch.float32)
    for i, frame in enumerate(video):
        resized = tvf.resize(
            frame, [height, width], interpolation=InterpolationMode.BICUBIC, antialias=True
        )
        out[i] = resized.float()
    return out


def qwen_video(
    path: str | Path,
    *,
    nframes: int = 32,
    factor: int = QWEN_FACTOR,
    min_pixels: int = 4 * 28 * 28,
    max_pixels: int = 256 * 28 * 28,
    start: float | None = None,
    end: float | None = None,
    protocol: str = "reference",
) -> PreparedVideo:
    """The official Qwen2.5-VL video input: resized float frames, indices and sample fps.

    ``factor`` 28 for Qwen2.5-VL (patch 14 x merge 2), 32 for Qwen3-VL (with ``min_pixels``
    ``4*32*32`` and ``max_pixels`` ``256*32*32``). Under ``reference`` a video with fewer than
    ``nframes`` frames is an error, as in qwen-vl-utils; ``fixed`` repeats frames instead and
    honours ``start``/``end``. Frame folders (which qwen-vl-utils cannot read) use the folder rule,
    padded to an even count by repeating the last image.
    """
    from qwen_vl_utils.vision_process import (
        FRAME_FACTOR,
        ceil_by_factor,
        round_by_factor,
        smart_nframes,
        smart_resize,
    )

    check_protocol(protocol)
    if protocol == "reference":
        start = end = None
    count = round_by_factor(nframes, FRAME_FACTOR)
    if count < FRAME_FACTOR:
        raise ValueError(f"nframes must round to at least {FRAME_FACTOR}, got {nframes}")
    frames, meta = load_video(path, count, start, end, rounding="round")
    first, last = frame_range(meta)
    span = last - first + 1
    indices = list(meta.indices)
    if meta.kind == "frames":
        pad = ceil_by_factor(len(indices), FRAME_FACTOR) - len(indices)
        if pad:
            frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
            indices += [indices[-1]] * pad
            meta = dataclasses.replace(meta, indices=indices)
    elif protocol == "reference":
        try:
            smart_nframes({"nframes": nframes}, total_frames=span, video_fps=meta.fps)
        except ValueError as exc:
            raise VideoError(f"{path}: {exc} (qwen-vl-utils with nframes={nframes})") from exc
    sample_fps = len(indices) / max(span, 1e-6) * meta.fps
    height, width = int(frames.shape[1]), int(frames.shape[2])
    cap = qwen_max_pixels(max_pixels, min_pixels, factor, len(indices))
    try:
        new_h, new_w = smart_resize(
            height, width, factor=factor, min_pixels=min_pixels, max_pixels=cap
        )
    except ValueError as exc:
        raise VideoError(f"{path}: {exc}") from exc
    resized = resize_like_qwen(frames, new_h, new_w)
    if meta.kind == "frames":
        sampling = (
            f"frame folder at 3 fps: np.linspace(first, last, {count}, dtype=int) (all images "
            f"when at most {count}), padded to {len(indices)}"
        )
    else:
        sampling = f"torch.linspace(first, last, {count}).round()"
    rule = (
        f"{protocol}: qwen-vl-utils nframes={nframes}: {sampling}, {range_text(meta)}; "
        f"smart_resize({height}x{width}, factor={factor}, min_pixels={min_pixels}, "
        f"max_pixels={number_text(cap)}) -> {new_h}x{new_w}, bicubic antialias; "
        f"fps={sample_fps:.6g}"
    )
    return PreparedVideo(resized, indices, sample_fps, meta, rule)


def qwen_processor_kwargs(video: PreparedVideo) -> dict[str, Any]:
    """Extra kwargs for a Qwen processor call so it uses exactly these frames and this fps.

    transformers 5.x reads the sample fps from the video metadata (``sampled_fps`` =
    ``len(frames_indices) / total_num_frames * fps``, which sets ``second_per_grid_ts`` and, for
    Qwen3-VL, the frame timestamps from ``frames_indices`` / ``fps``); ``do_sample_frames=False``
    keeps every frame. The metadata is that of the source video (the clip's frame count).
    """
    if video.fps is None:
        raise ValueError(f"not a Qwen video input (no sample fps): {video.rule}")
    first, last = frame_range(video.meta)
    metadata = {
        "fps": video.meta.fps,
        "total_num_frames": last - first + 1,
        "frames_indices": list(video.frame_indices),
    }
    return {"video_metadata": [metadata], "do_sample_frames": False}


def qwen3_fixed_video(
    path: str | Path,
    *,
    video_processor: Any,  # noqa: ANN401 - a transformers Qwen3VLVideoProcessor
    start: float | None = None,
    end: float | None = None,
) -> PreparedVideo:
    """Qwen3-VL's own rule: the frames its video processor samples, uint8 at the decoded size.

    The indices come from ``video_processor.sample_frames`` (its ``fps``, ``min_frames``,
    ``max_frames``) on the clip's metadata (``start``/``end`` honoured), so the frame count
    follows the clip's duration, not ``nframes``; only those frames are decoded (PyAV, or the
    folder's images at 3 fps). The processor resizes them by its own ``size`` budget.
    """
    from transformers.video_utils import VideoMetadata

    _, meta = load_video(path, 1, start, end)  # metadata and clip window (one frame decoded)
    first, last = frame_range(meta)
    span = last - first + 1
    sampled = video_processor.sample_frames(VideoMetadata(total_num_frames=span, fps=meta.fps))
    indices = [first + int(i) for i in sampled]
    if meta.kind == "frames":  # every image of the window, then the sampled ones
        everything, _ = load_video(path, span, start, end)
        frames = everything[[i - first for i in indices]]
    else:
        frames = load_frames(path, indices, meta.fps)
    meta = dataclasses.replace(meta, indices=indices)
    sample_fps = len(indices) / span * meta.fps
    rule = (
        f"fixed: Qwen3-VL video processor sample_frames(fps={video_processor.fps}, "
        f"min_frames={video_processor.min_frames}, max_frames={video_processor.max_frames}) "
        f"-> {len(indices)} frames, {range_text(meta)}; resized by the processor "
        f"(size {dict(video_processor.size)}, patch {video_processor.patch_size}, merge "
        f"{video_processor.merge_size}); fps={sample_fps:.6g}"
    )
    return PreparedVideo(frames, indices, sample_fps, meta, rule, processor_resizes=True)

"""Video reading for the benchmarks: uniform frame indices and PyAV / frame-folder decoding.

``sample_indices`` reproduces the reference sampling, ``torch.linspace(first, last, n).round()``
(float32, round half to even) without importing torch; ``rounding="floor"`` gives the
lmms-eval variant (``np.linspace(..., dtype=int)``).

``load_video`` returns ``[T, H, W, 3]`` uint8 RGB frames and a :class:`VideoMeta`. Files are
decoded with PyAV keeping only the sampled frames in memory and seeking over long gaps; a
directory is read as a folder of images at an assumed 3 fps (MVBench tvqa frames) with the
official folder rule: file names in natural order (the same as ``sorted`` for zero-padded
names such as MVBench's), ``np.linspace(first, last, n, dtype=int)`` (floor)
when the range holds more than ``n`` images, every image otherwise.

All failures (missing path, unreadable or corrupt file, no decodable frame) raise
:class:`VideoError`, a subclass of ``OSError`` whose message names the path, so a runner can
record an error for that one sample.
"""

from __future__ import annotations

import bisect
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

FRAME_DIR_FPS = 3.0
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
SEEK_GAP_SECONDS = 10.0
ROUNDINGS = ("round", "floor")


class VideoError(OSError):
    """A video (file or frame folder) is missing, unreadable, or has no decodable frame."""


@dataclass(frozen=True)
class VideoMeta:
    """How the frames were obtained.

    ``fps`` is the average frame rate (3.0 for frame folders), ``total_frames`` and
    ``duration`` (seconds) describe the whole video, ``indices`` are the returned frames'
    indices into it (repeats possible), ``source`` is the path and ``kind`` ``"video"`` or
    ``"frames"``.
    """

    fps: float
    total_frames: int
    duration: float
    indices: list[int]
    source: str
    kind: str = "video"
    window: tuple[int, int] | None = field(default=None)  # (first, last) frame after start/end


def _linspace_f32(first: float, last: float, num: int) -> np.ndarray:
    """``torch.linspace(first, last, num)`` in float32, computed the same way (two halves)."""
    start = np.float32(first)
    end = np.float32(last)
    if num == 1:
        return np.array([start], dtype=np.float32)
    step = np.float32((end - start) / np.float32(num - 1))
    idx = np.arange(num)
    low = start + step * idx.astype(np.float32)
    high = end - step * (num - 1 - idx).astype(np.float32)
    return np.where(idx < num // 2, low, high).astype(np.float32)


def sample_indices(
    total_frames: int,
    num: int,
    first: int = 0,
    last: int | None = None,
    rounding: str = "round",
) -> list[int]:
    """``num`` uniform frame indices from ``first`` to ``last`` (default the last frame), both kept.

    ``rounding="round"`` is the reference (float32 linspace, round half to even, as
    ``torch.linspace(...).round()``); ``"floor"`` truncates like ``np.linspace(..., dtype=int)``.
    A range shorter than ``num`` still yields ``num`` indices, with repeats (as the reference
    does), so the model always sees ``num`` frames.
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    if total_frames <= 0:
        raise ValueError(f"total_frames must be positive, got {total_frames}")
    if num <= 0:
        raise ValueError(f"num must be positive, got {num}")
    if last is None:
        last = total_frames - 1
    if not 0 <= first <= last < total_frames:
        raise ValueError(
            f"need 0 <= first <= last < total_frames, got first={first}, last={last}, "
            f"total_frames={total_frames}"
        )
    if rounding == "round":
        values = np.round(_linspace_f32(first, last, num))  # half to even, like torch.round
    else:
        values = np.floor(np.linspace(first, last, num))
    return [min(last, max(first, int(v))) for v in values]


def _window(
    total: int, fps: float, start: float | None, end: float | None, duration: float
) -> tuple[int, int]:
    """(first, last) frame for ``start``/``end`` seconds, clamped to the video (last inclusive).

    ``start`` maps to ``round(start * fps)``, ``end`` to the frame before ``round(end * fps)``;
    an empty or reversed range collapses to the single frame at ``start``.
    """
    first, last = 0, total - 1
    if start is None and end is None:
        return first, last
    if fps <= 0:
        fps = total / duration if duration > 0 else 1.0
    if start is not None:
        first = min(total - 1, max(0, round(max(0.0, start) * fps)))
    if end is not None:
        last = min(total, max(0, round(max(0.0, end) * fps))) - 1
    return first, max(first, last)


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def load_video(
    path: str | Path,
    num_frames: int = 32,
    start: float | None = None,
    end: float | None = None,
    rounding: str = "round",
    *,
    seek_gap: float = SEEK_GAP_SECONDS,
) -> tuple[np.ndarray, VideoMeta]:
    """Decode ``num_frames`` uniformly sampled RGB frames (``[T, H, W, 3]`` uint8) and metadata.

    ``start``/``end`` (seconds, None = video bound) restrict sampling to that clip. Frame
    folders always use the official folder rule (floor; all frames of the range when it has at
    most ``num_frames`` of them), whatever ``rounding`` says; ``rounding`` applies to files.
    ``seek_gap`` (seconds): a gap to the next wanted frame longer than this is skipped by seeking.
    """
    if num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    path = Path(path)
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if path.is_dir():
        return _load_frame_dir(path, num_frames, start, end)
    return _load_file(path, num_frames, start, end, rounding, seek_gap)


def _load_frame_dir(
    path: Path, num_frames: int, start: float | None, end: float | None
) -> tuple[np.ndarray, VideoMeta]:
    """Images of a folder at an assumed 3 fps: the official folder rule (floor, all if few)."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(
        (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
        key=_natural_key,
    )
    if not files:
        raise VideoError(
            f"frame folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))}): {path}"
        )
    total = len(files)
    duration = total / FRAME_DIR_FPS
    first, last = _window(total, FRAME_DIR_FPS, start, end, duration)
    count = last - first + 1
    if count <= num_frames:
        indices = list(range(first, last + 1))
    else:
        indices = sample_indices(total, num_frames, first, last, "floor")
    loaded: dict[int, np.ndarray] = {}
    for i in indices:
        if i in loaded:
            continue
        try:
            with Image.open(files[i]) as image:
                loaded[i] = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise VideoError(f"cannot read frame image {files[i]}: {exc}") from exc
    frames = _stack([loaded[i] for i in indices], path)
    meta = VideoMeta(FRAME_DIR_FPS, total, duration, indices, str(path), "frames", (first, last))
    return frames, meta


def _stack(frames: list[np.ndarray], path: Path) -> np.ndarray:
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise VideoError(f"frames of {path} differ in size: {sorted(shapes)}")
    return np.stack(frames)


def _load_file(
    path: Path,
    num_frames: int,
    start: float | None,
    end: float | None,
    rounding: str,
    seek_gap: float,
) -> tuple[np.ndarray, VideoMeta]:
    """PyAV decoding of the sampled frames only."""
    import av

    try:
        container = av.open(str(path))
        try:
            if not container.streams.video:
                raise VideoError(f"no video stream in {path}")
            stream = container.streams.video[0]
            fps, total, duration, start_time = _probe(container, stream)
            if total <= 0:  # no count in the header (e.g. mkv/webm): count packets, reopen
                total = _count_packets(container, stream)
                if total <= 0:
                    raise VideoError(f"no decodable video frames in {path}")
                container.close()
                container = av.open(str(path))
                stream = container.streams.video[0]
            if fps <= 0:
                fps = total / duration if duration > 0 else 1.0
            if duration <= 0:
                duration = total / fps
            first, last = _window(total, fps, start, end, duration)
            indices = sample_indices(total, num_frames, first, last, rounding)
            frames, used = _frames_at(container, stream, indices, fps, start_time, seek_gap, path)
        finally:
            container.close()
    except VideoError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        raise VideoError(f"cannot decode video {path}: {exc}") from exc
    meta = VideoMeta(fps, total, duration, used, str(path), "video", (first, last))
    return frames, meta


def load_frames(
    path: str | Path, indices: list[int], fps: float, *, seek_gap: float = SEEK_GAP_SECONDS
) -> np.ndarray:
    """uint8 ``[T, H, W, 3]``: the frames ``indices`` of a video file at ``fps``, nothing else.

    For callers whose sampling rule chose the indices itself; decoding, seeking and the
    short-stream fallback are ``load_video``'s.
    """
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"no video stream in {path}")
            stream = container.streams.video[0]
            start_time = _probe(container, stream)[3]
            frames, _ = _frames_at(container, stream, indices, fps, start_time, seek_gap, path)
    except VideoError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        raise VideoError(f"cannot decode video {path}: {exc}") from exc
    return frames


def _frames_at(
    container: Any,  # noqa: ANN401 - a PyAV container
    stream: Any,  # noqa: ANN401 - its video stream
    indices: list[int],
    fps: float,
    start_time: float,
    seek_gap: float,
    path: Path,
) -> tuple[np.ndarray, list[int]]:
    """The frames at ``indices`` and the indices actually used (seeking over long gaps).

    Frames past a short stream's real end reuse the last decodable one.
    """
    stream.thread_type = "AUTO"
    gap = max(1, round(seek_gap * fps))
    got = _decode_selected(container, stream, sorted(set(indices)), fps, start_time, gap)
    if not got:
        raise VideoError(f"no decodable video frames in {path}")
    available = sorted(got)
    used = [i if i in got else _nearest_before(available, i) for i in indices]
    if used != indices:
        missing = sum(i not in got for i in indices)
        logger.warning("%s: %d sampled frames were not decodable; reused neighbours", path, missing)
    return _stack([got[i] for i in used], path), used


def _nearest_before(available: list[int], index: int) -> int:
    """The largest decoded index <= ``index`` (else the smallest one)."""
    pos = bisect.bisect_right(available, index)
    return available[max(0, pos - 1)]


def _probe(container: Any, stream: Any) -> tuple[float, int, float, float]:
    """(average fps, header frame count, duration in seconds, stream start time in seconds)."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    total = int(stream.frames or 0)
    time_base = stream.time_base
    duration = 0.0
    if stream.duration and time_base:
        duration = float(stream.duration * time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    start_time = 0.0
    if stream.start_time is not None and time_base:
        start_time = float(stream.start_time * time_base)
    return fps, total, duration, start_time


def _count_packets(container: Any, stream: Any) -> int:
    """Frame count from the demuxer when the header has none (no decoding)."""
    return sum(1 for p in container.demux(stream) if p.size)


def _decode_selected(
    container: Any,
    stream: Any,
    wanted: list[int],
    fps: float,
    start_time: float,
    gap: int,
) -> dict[int, np.ndarray]:
    """RGB arrays for the (sorted, unique) ``wanted`` indices; only those are kept.

    Frames are counted in presentation order; after a seek the count restarts from the first
    decoded frame's timestamp. A seek landing past its target (broken index) uses that frame.
    """
    out: dict[int, np.ndarray] = {}
    pos = 0  # wanted[pos] is the next index to fill
    seek = wanted[0] > gap
    while pos < len(wanted):
        if seek:
            _seek(container, stream, wanted[pos], fps, start_time)
        index: int | None = None if seek else -1
        may_seek = not seek  # no second seek before the target of this one is reached
        seek = False
        for frame in container.decode(stream):
            index = _frame_index(frame, fps, start_time) if index is None else index + 1
            if index >= wanted[pos]:
                image = frame.to_ndarray(format="rgb24")
                while pos < len(wanted) and wanted[pos] <= index:
                    out[wanted[pos]] = image
                    pos += 1
                if pos == len(wanted):
                    break
                may_seek = True
            if may_seek and wanted[pos] - index > gap:
                seek = True
                break
        if not seek:
            break  # all wanted frames filled, or end of stream
    return out


def _frame_index(frame: Any, fps: float, start_time: float) -> int:
    time = frame.time
    if time is None:
        raise ValueError("decoded frame has no timestamp after a seek")
    return max(0, round((time - start_time) * fps))


def _seek(container: Any, stream: Any, index: int, fps: float, start_time: float) -> None:
    """Seek to the keyframe at or before frame ``index``."""
    time_base = stream.time_base
    offset = math.floor((start_time + index / fps) / time_base)
    container.seek(offset, stream=stream, backward=True, any_frame=False)

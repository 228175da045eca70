"""Frame index arithmetic and decoding of synthetic videos written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import stop_eval.media.video as video
from stop_eval.media.video import VideoError, VideoMeta, load_video, sample_indices

W, H = 64, 48


def colour(i: int) -> tuple[int, int, int]:
    """Frame i's colour: red and green steps of 6 encode i (up to 999), blue constant."""
    return 10 + 6 * (i % 40), 10 + 6 * (i // 40), 128


def frame_ids(frames: np.ndarray) -> list[int]:
    """Recover each frame's index from its mean colour (tolerates codec rounding)."""
    out = []
    for f in frames:
        r, g = f[..., 0].mean(), f[..., 1].mean()
        out.append(round((r - 10) / 6) + 40 * round((g - 10) / 6))
    return out


def write_video(
    path: Path, n: int = 40, fps: int = 10, gop: int = 8, codec: str = "libx264"
) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "0", "g": str(gop)}  # near-lossless, keyframe every `gop`
        for i in range(n):
            image = np.empty((H, W, 3), np.uint8)
            image[...] = colour(i)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 frames at 10 fps (4 s), 64x48."""
    return write_video(tmp_path_factory.mktemp("videos") / "clip.mp4")


# ------------------------------------------------------------------------- indices
@pytest.mark.parametrize(
    ("total", "num", "kwargs", "expected"),
    [
        # linspace(0, 39, 8) = 0, 5.57, 11.14, 16.71, 22.29, 27.86, 33.43, 39
        (40, 8, {}, [0, 6, 11, 17, 22, 28, 33, 39]),
        (40, 8, {"rounding": "floor"}, [0, 5, 11, 16, 22, 27, 33, 39]),
        # exact halves round to even: 2.5 -> 2, 3.5 -> 4
        (6, 3, {}, [0, 2, 5]),
        (8, 3, {}, [0, 4, 7]),
        (8, 3, {"rounding": "floor"}, [0, 3, 7]),
        # fewer frames than requested: num indices with repeats (0 .5 1 1.5 2 2.5 3)
        (4, 7, {}, [0, 0, 1, 2, 2, 2, 3]),
        (4, 7, {"rounding": "floor"}, [0, 0, 1, 1, 2, 2, 3]),
        (3, 5, {}, [0, 0, 1, 2, 2]),
        (1, 4, {}, [0, 0, 0, 0]),
        # a window: linspace(10, 29, 5) = 10, 14.75, 19.5, 24.25, 29
        (40, 5, {"first": 10, "last": 29}, [10, 15, 20, 24, 29]),
        (40, 5, {"first": 10, "last": 29, "rounding": "floor"}, [10, 14, 19, 24, 29]),
        (100, 4, {"first": 10, "last": 19}, [10, 13, 16, 19]),
        (40, 1, {}, [0]),
        (40, 2, {}, [0, 39]),
        (32, 32, {}, list(range(32))),
    ],
)
def test_sample_indices(total: int, num: int, kwargs: dict, expected: list[int]) -> None:
    assert sample_indices(total, num, **kwargs) == expected


def test_sample_indices_match_torch_linspace_round() -> None:
    torch = pytest.importorskip("torch")
    for num in (1, 2, 3, 7, 16, 32, 33):
        for total in range(1, 300):
            ref = torch.linspace(0, total - 1, num).round().long().tolist()
            assert sample_indices(total, num) == ref, (total, num)
            lo = total // 3
            ref = torch.linspace(lo, total - 1, num).round().long().tolist()
            assert sample_indices(total, num, first=lo) == ref, (total, num, lo)
    # the floor variant is lmms-eval's np.linspace(..., dtype=int)
    for total in range(1, 300):
        assert sample_indices(total, 32, rounding="floor") == list(
            np.linspace(0, total - 1, 32, dtype=int)
        )


@pytest.mark.parametrize(
    "args",
    [
        {"total_frames": 0, "num": 4},
        {"total_frames": 10, "num": 0},
        {"total_frames": 10, "num": 4, "first": 5, "last": 3},
        {"total_frames": 10, "num": 4, "last": 10},
        {"total_frames": 10, "num": 4, "rounding": "ceil"},
    ],
)
def test_sample_indices_rejects_bad_arguments(args: dict) -> None:
    with pytest.raises(ValueError):
        sample_indices(**args)


# --------------------------------------------------------------------------- files
def test_load_video_shapes_and_meta(clip: Path) -> None:
    frames, meta = load_video(clip, num_frames=8)
    assert frames.shape == (8, H, W, 3) and frames.dtype == np.uint8
    assert isinstance(meta, VideoMeta)
    assert meta.indices == [0, 6, 11, 17, 22, 28, 33, 39]
    assert frame_ids(frames) == meta.indices
    assert meta.fps == pytest.approx(10.0)
    assert meta.total_frames == 40
    assert meta.duration == pytest.approx(4.0)
    assert meta.source == str(clip) and meta.kind == "video"
    # colours come back as RGB (not BGR)
    assert abs(float(frames[0][..., 2].mean()) - 128) < 4


def test_load_video_default_32_frames_and_floor(clip: Path) -> None:
    frames, meta = load_video(clip)
    assert frames.shape == (32, H, W, 3)
    assert meta.indices == sample_indices(40, 32)
    assert meta.indices[0] == 0 and meta.indices[-1] == 39
    assert frame_ids(frames) == meta.indices
    frames, meta = load_video(clip, 8, rounding="floor")
    assert meta.indices == [0, 5, 11, 16, 22, 27, 33, 39]
    assert frame_ids(frames) == meta.indices


def test_fewer_frames_than_requested(tmp_path: Path) -> None:
    path = write_video(tmp_path / "short.mp4", n=12)
    frames, meta = load_video(path, num_frames=16)
    assert frames.shape == (16, H, W, 3)
    assert meta.indices == sample_indices(12, 16)
    assert len(set(meta.indices)) == 12
    assert frame_ids(frames) == meta.indices


@pytest.mark.parametrize(
    ("start", "end", "window", "indices"),
    [
        (1.0, 3.0, (10, 29), [10, 15, 20, 24, 29]),
        (None, 2.0, (0, 19), [0, 5, 10, 14, 19]),  # 4.75 -> 5, 9.5 -> 10, 14.25 -> 14
        (2.0, None, (20, 39), [20, 25, 30, 34, 39]),
        (-5.0, 100.0, (0, 39), [0, 10, 20, 29, 39]),  # clamped to the video
        (10.0, 12.0, (39, 39), [39] * 5),  # past the end: the last frame
        (3.0, 1.0, (30, 30), [30] * 5),  # reversed: the frame at start
    ],
)
def test_start_end(clip: Path, start, end, window, indices) -> None:
    frames, meta = load_video(clip, num_frames=5, start=start, end=end)
    assert meta.window == window
    assert meta.indices == indices
    assert frame_ids(frames) == indices
    assert meta.total_frames == 40  # meta describes the whole video


def test_seeking_gives_the_same_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / "long.mp4", n=300, fps=25, gop=25)
    seeks: list[int] = []
    real_seek = video._seek

    def counting_seek(container, stream, index, fps, start_time) -> None:
        seeks.append(index)
        real_seek(container, stream, index, fps, start_time)

    monkeypatch.setattr(video, "_seek", counting_seek)
    for start, end in [(None, None), (5.3, 11.1)]:
        seeks.clear()
        slow, meta_slow = load_video(path, 16, start=start, end=end, seek_gap=100.0)
        assert seeks == []
        fast, meta_fast = load_video(path, 16, start=start, end=end, seek_gap=0.5)
        assert seeks  # the gaps were skipped by seeking
        assert meta_fast.indices == meta_slow.indices
        assert frame_ids(fast) == frame_ids(slow) == meta_slow.indices
        np.testing.assert_array_equal(fast, slow)
    # a far start seeks once with the default gap, then decodes sequentially
    seeks.clear()
    frames, meta = load_video(path, 4, start=11.0)
    assert seeks == [275]
    assert frame_ids(frames) == meta.indices == [275, 283, 291, 299]


def test_container_without_frame_count(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mkv", n=24)
    frames, meta = load_video(path, num_frames=4)
    assert meta.total_frames == 24
    assert meta.indices == [0, 8, 15, 23]
    assert frame_ids(frames) == meta.indices


def test_header_overstating_frame_count(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_probe = video._probe

    def lying_probe(container, stream):
        fps, _, duration, start_time = real_probe(container, stream)
        return fps, 50, duration, start_time

    monkeypatch.setattr(video, "_probe", lying_probe)
    frames, meta = load_video(clip, num_frames=6)  # wants 0 10 20 29 39 49; 49 is past the end
    assert meta.indices == [0, 10, 20, 29, 39, 39]
    assert frame_ids(frames) == meta.indices


# -------------------------------------------------------------------- frame folders
def write_frames(folder: Path, n: int, suffix: str = ".png") -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        image = np.empty((H, W, 3), np.uint8)
        image[...] = colour(i)
        Image.fromarray(image).save(folder / f"{i + 1}{suffix}")  # 1..n: natural order matters
    (folder / "notes.txt").write_text("not a frame")
    return folder


def test_frame_folder_all_frames_when_few(tmp_path: Path) -> None:
    folder = write_frames(tmp_path / "frames_fps3_hq" / "clip_1", 12)
    frames, meta = load_video(folder, num_frames=32)
    assert frames.shape == (12, H, W, 3) and frames.dtype == np.uint8
    assert meta.indices == list(range(12))
    assert frame_ids(frames) == list(range(12))
    assert meta.kind == "frames" and meta.fps == 3.0
    assert meta.total_frames == 12 and meta.duration == pytest.approx(4.0)


def test_frame_folder_sampled(tmp_path: Path) -> None:
    folder = write_frames(tmp_path / "clip", 40, suffix=".jpg")
    # the official folder rule floors: linspace(0, 39, 8) = 0 5.57 11.14 16.71 22.29 ...
    for rounding in ("round", "floor"):  # `rounding` applies to files only
        frames, meta = load_video(folder, num_frames=8, rounding=rounding)
        assert meta.indices == [0, 5, 11, 16, 22, 27, 33, 39]
        assert frame_ids(frames) == meta.indices
    # start/end at 3 fps: 2 s..5 s -> frames 6..14 (9 frames, more than 4: sampled)
    # linspace(6, 14, 4) = 6, 8.67, 11.33, 14
    frames, meta = load_video(folder, num_frames=4, start=2.0, end=5.0)
    assert meta.window == (6, 14)
    assert meta.indices == [6, 8, 11, 14]
    assert frame_ids(frames) == meta.indices
    frames, meta = load_video(folder, num_frames=32, start=2.0, end=5.0)
    assert meta.indices == list(range(6, 15))


def test_frame_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(VideoError, match="no images"):
        load_video(empty)
    folder = write_frames(tmp_path / "bad", 3)
    (folder / "2.png").write_bytes(b"not a png")
    with pytest.raises(VideoError, match="2.png"):
        load_video(folder)


# --------------------------------------------------------------------------- errors
def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "v_missing.mp4"
    with pytest.raises(VideoError, match="v_missing.mp4") as info:
        load_video(path)
    assert isinstance(info.value, OSError)
    assert str(path) in str(info.value)


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(VideoError) as info:
        load_video(path)
    message = str(info.value)
    assert str(path) in message
    assert len(message) > len(str(path)) + 25  # carries the decoder's message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(VideoError, match="empty.mp4"):
        load_video(path)


@pytest.mark.parametrize(
    ("name", "message"), [("zero.avi", "no decodable video frames"), ("zero.mp4", "no video")]
)
def test_video_without_frames(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    with av.open(str(path), "w") as container:  # header only, no frame
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        container.start_encoding()
    assert path.stat().st_size > 0
    with pytest.raises(VideoError, match=f"{message}.*{name}"):
        load_video(path)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 800), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(VideoError, match="no video stream.*sound.wav"):
        load_video(path)


def test_bad_arguments(clip: Path) -> None:
    with pytest.raises(ValueError):
        load_video(clip, num_frames=0)
    with pytest.raises(ValueError):
        load_video(clip, rounding="ceil")

"""Qwen3-VL under ``--protocol fixed``: exactly what its own processor does with the whole video.

Oracle: the real Qwen3-VL processor built from the bundled Qwen3-VL-8B-Instruct configuration,
given ALL frames of the file (decoded here with PyAV) and the video's metadata with
``do_sample_frames=True``, so it samples, resizes and writes the timestamps itself. Our rule
must feed the same frames, grid, pixels and prompt text while decoding only the sampled frames.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from transformers import AutoProcessor

from stop_eval.backbones import get_backbone
from stop_eval.backbones.demo import DEMO_TOKENIZER
from stop_eval.cli import main
from stop_qwen.checkpoints import checkpoint_dir
from stop_qwen.testing import train_tokenizer

FIXTURE = checkpoint_dir("Qwen3-VL-8B-Instruct")
QUESTION = "What happens in the video?"
# name: (width, height, frames, fps)
CLIPS = {"landscape": (640, 360, 60, 10), "portrait": (270, 480, 36, 12)}
TIMESTAMP = re.compile(r"<(\d+\.\d) seconds>")


def encode(path: Path, width: int, height: int, frames: int, fps: int) -> Path:
    """A moving block on a changing background, H.264 in an .mp4."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}
        for t in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = (t * 7) % 256
            image[..., 2] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
            x = t * (width - 40) // max(frames - 1, 1)
            image[height // 4 : height // 2, x : x + 40] = (230, 200, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def all_frames(path: Path) -> tuple[np.ndarray, float]:
    """Every frame of the file, decoded in order by PyAV, and its average fps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return np.stack(frames), fps


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("qwen3_fixed")
    return {name: encode(folder / f"{name}.mp4", *spec) for name, spec in CLIPS.items()}


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a Qwen3VLProcessor
    """The real processor from the bundled configuration files plus a tiny local tokenizer."""
    target = tmp_path_factory.mktemp("qwen3_proc") / "Qwen3-VL-8B-Instruct"
    shutil.copytree(FIXTURE, target)
    for file in target.iterdir():
        file.chmod(0o644)
    train_tokenizer(**DEMO_TOKENIZER).save_pretrained(target)
    return AutoProcessor.from_pretrained(target)


def processor_alone(processor, path: Path, text: str | None):  # noqa: ANN001, ANN201
    """The processor sampling and resizing all of the file's frames by itself."""
    frames, fps = all_frames(path)
    metadata = [{"fps": fps, "total_num_frames": len(frames)}]
    options = {"video_metadata": metadata, "do_sample_frames": True, "return_metadata": True}
    if text is None:
        return processor.video_processor(videos=[frames], return_tensors="pt", **options)
    return processor(text=[text], videos=[frames], return_tensors="pt", videos_kwargs=options)


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_fixed_matches_the_processor_on_all_frames(name: str, clips, processor) -> None:  # noqa: ANN001
    entry = get_backbone("qwen3_vl")
    video = entry.prepare(clips[name], frames=32, protocol="fixed")
    expected = processor_alone(processor, clips[name], None)
    sampled = [int(i) for i in expected["video_metadata"][0].frames_indices]
    width, height, count, fps = CLIPS[name]
    assert len(sampled) == int(count / fps * 2)  # 2 fps over the whole clip
    assert video.frame_indices == sampled
    assert video.frames.dtype == np.uint8
    assert video.frames.shape == (len(sampled), height, width, 3)
    ours = entry.processor_inputs(processor.video_processor, None, [video])
    assert ours["video_grid_thw"].tolist() == expected["video_grid_thw"].tolist()
    torch.testing.assert_close(
        ours["pixel_values_videos"], expected["pixel_values_videos"], rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_fixed_prompt_has_the_processors_timestamps(name: str, clips, processor) -> None:  # noqa: ANN001
    entry = get_backbone("qwen3_vl")
    text, _ = entry.prompt(processor, QUESTION)
    video = entry.prepare(clips[name], frames=32, protocol="fixed")
    ours = entry.processor_inputs(processor, [text], [video])
    expected = processor_alone(processor, clips[name], text)
    assert ours["input_ids"].tolist() == expected["input_ids"].tolist()
    decoded = processor.tokenizer.decode(ours["input_ids"][0])
    stamps = TIMESTAMP.findall(decoded)
    assert stamps == TIMESTAMP.findall(processor.tokenizer.decode(expected["input_ids"][0]))
    groups = int(expected["video_grid_thw"][0, 0])
    assert len(stamps) == groups > 1
    _, _, _, fps = CLIPS[name]
    sampled = processor_alone(processor, clips[name], None)["video_metadata"][0].frames_indices
    first_pair = (sampled[0] / fps + sampled[1] / fps) / 2
    assert stamps[0] == f"{first_pair:.1f}"


def test_fixed_honours_the_clip_bounds(clips, processor) -> None:  # noqa: ANN001
    # frames 10..39 of the 10 fps clip: the processor samples that 3-second clip on its own
    entry = get_backbone("qwen3_vl")
    video = entry.prepare(clips["landscape"], frames=32, protocol="fixed", start=1.0, end=4.0)
    frames, fps = all_frames(clips["landscape"])
    clip = frames[10:40]
    metadata = [{"fps": fps, "total_num_frames": len(clip)}]
    expected = processor.video_processor(
        videos=[clip], video_metadata=metadata, return_tensors="pt", return_metadata=True
    )
    relative = [int(i) for i in expected["video_metadata"][0].frames_indices]
    assert video.frame_indices == [10 + i for i in relative]
    ours = entry.processor_inputs(processor.video_processor, None, [video])
    assert ours["video_grid_thw"].tolist() == expected["video_grid_thw"].tolist()
    torch.testing.assert_close(
        ours["pixel_values_videos"], expected["pixel_values_videos"], rtol=0, atol=1e-6
    )


def test_inspect_fixed_reports_the_processors_inputs(
    clips,  # noqa: ANN001
    processor,  # noqa: ANN001
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = clips["landscape"]
    args = ["inspect", "--backbone", "qwen3_vl", "--video", str(path), "--protocol", "fixed"]
    main(args)
    main([*args, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    expected = processor_alone(processor, path, None)
    t, h, w = expected["video_grid_thw"][0].tolist()
    assert report["frame_indices"] == [int(i) for i in expected["video_metadata"][0].frames_indices]
    assert report["grid_thw"] == [t, h, w]
    assert report["frame_size"] == [h * 16, w * 16]
    assert report["visual_tokens"] == t * h * w // 4
    assert report["fps"] == pytest.approx(12 / 60 * 10)
    assert any(line.startswith("  frame_size: ") for line in out[:-1])

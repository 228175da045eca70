"""``stop-eval inspect``: frames, sizes and token counts of real encoded videos and frame folders.

Oracles: the official rules as EVAL.md states them (indices ``torch.linspace(0, n-1, 32).round()``
for files, ``np.linspace(0, n-1, 32, dtype=int)`` for folders; Qwen2.5-VL 4,032 tokens for a
32-frame 720p video, 19,136 with the checkpoint's own pixel range; LLaVA-OV 14 x 14 per frame
+ 1 newline, LLaVA-Video 13 rows of 13 + 1 newline per frame).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from stop_eval.cli import main
from stop_qwen.checkpoints import checkpoint_dir

FRAMES, FPS = 40, 25


def write_video(path: Path, frames: int, height: int, width: int, fps: int = FPS) -> Path:
    """A moving bar on a changing background, H.264 in an .mp4."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for t in range(frames):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[..., 2] = (t * 5) % 256
            x = t * (width - 64) // max(frames - 1, 1)
            frame[height // 4 : height // 2, x : x + 64] = (230, 200, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_folder(path: Path, n: int, height: int = 48, width: int = 64) -> Path:
    """``n`` PNG frames named so that a plain string sort would misorder them."""
    path.mkdir(parents=True)
    for i in range(n):
        image = np.full((height, width, 3), (i * 2) % 256, np.uint8)
        Image.fromarray(image).save(path / f"frame_{i + 1}.png")
    return path


@pytest.fixture(scope="module")
def video_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("v") / "clip720.mp4", FRAMES, 720, 1280)


def inspect_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    main(["inspect", *args, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return json.loads(out[0])


def rounded(n: int, k: int = 32) -> list[int]:
    return torch.linspace(0, n - 1, k).round().long().tolist()


def floored(n: int, k: int = 32) -> list[int]:
    return np.linspace(0, n - 1, k, dtype=int).tolist() if n > k else list(range(n))


def test_qwen_720p_gets_the_official_4032_tokens(
    video_720p: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = inspect_json(capsys, "--backbone", "qwen2_5_vl", "--video", str(video_720p))
    assert set(report) == {"frame_indices", "frame_size", "visual_tokens", "grid_thw", "fps"}
    assert report["frame_indices"] == rounded(FRAMES)
    assert report["frame_size"] == [336, 588]  # smart_resize(720, 1280, 28, 4*28^2, 256*28^2)
    assert report["grid_thw"] == [16, 24, 42]
    assert report["visual_tokens"] == 4032
    assert report["fps"] == pytest.approx(32 / FRAMES * FPS, rel=1e-6)


def test_qwen_checkpoint_default_feeds_19136_tokens(
    video_720p: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = inspect_json(
        capsys, "--backbone", "qwen2_5_vl", "--video", str(video_720p), "--checkpoint-default"
    )
    assert report["frame_size"] == [728, 1288]
    assert report["visual_tokens"] == 19136


@pytest.mark.parametrize(
    ("backbone", "tokens"),
    [("llava_ov", 32 * 14 * 14 + 1), ("llava_video", 32 * 13 * (13 + 1))],
)
def test_llava_720p_tokens_include_newlines(
    video_720p: Path, capsys: pytest.CaptureFixture[str], backbone: str, tokens: int
) -> None:
    report = inspect_json(capsys, "--backbone", backbone, "--video", str(video_720p))
    assert set(report) == {"frame_indices", "frame_size", "visual_tokens"}
    assert report["frame_indices"] == rounded(FRAMES)
    assert report["frame_size"] == [384, 384]
    assert report["visual_tokens"] == tokens


@pytest.mark.parametrize("n", [20, 33, 100])
def test_llava_frame_folders_use_the_floor_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], n: int
) -> None:
    folder = write_folder(tmp_path / "frames", n)
    report = inspect_json(capsys, "--backbone", "llava_ov", "--video", str(folder))
    assert report["frame_indices"] == floored(n)
    assert report["visual_tokens"] == min(n, 32) * 196 + 1


def test_qwen_frame_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_folder(tmp_path / "frames", 100)
    report = inspect_json(capsys, "--backbone", "qwen2_5_vl", "--video", str(folder))
    assert report["frame_indices"] == floored(100)
    assert report["frame_size"] == [56, 56]  # 48 x 64 rounds to 2 x 2 patches of 28
    assert report["grid_thw"] == [16, 4, 4]
    assert report["visual_tokens"] == 16 * 2 * 2
    assert report["fps"] == pytest.approx(32 / 100 * 3.0, rel=1e-6)


@pytest.mark.parametrize(
    ("backbone", "budget"), [("qwen2_5_vl", int(0.1 * 4032)), ("llava_ov", int(0.1 * 32 * 196))]
)
def test_method_budget_is_reported(
    video_720p: Path, capsys: pytest.CaptureFixture[str], backbone: str, budget: int
) -> None:
    report = inspect_json(
        capsys, "--backbone", backbone, "--video", str(video_720p), "--method", "holitom"
    )
    assert report["requested_tokens"] == budget


def test_text_output_names_the_fields(video_720p: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["inspect", "--backbone", "qwen2_5_vl", "--video", str(video_720p)])
    out = capsys.readouterr().out
    assert "visual_tokens: 4032" in out and "grid_thw: [16, 24, 42]" in out


def test_save_inputs_roundtrip_qwen(
    video_720p: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from transformers import Qwen2VLVideoProcessor

    from stop_eval.backbones.qwen.inputs import qwen_video

    path = tmp_path / "inputs.safetensors"
    report = inspect_json(
        capsys, "--backbone", "qwen2_5_vl", "--video", str(video_720p), "--save-inputs", str(path)
    )
    saved = load_file(str(path))
    assert set(saved) == {"pixel_values_videos", "video_grid_thw"}
    assert saved["video_grid_thw"].tolist() == [report["grid_thw"]]
    assert saved["pixel_values_videos"].shape == (16 * 24 * 42, 3 * 2 * 14 * 14)
    # the same frames through a processor built here with the checkpoint's mean/std, no resize
    video = qwen_video(video_720p)
    clip = torch.as_tensor(video.frames)
    expected = Qwen2VLVideoProcessor(
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
        do_resize=False,
    )(videos=[clip], return_tensors="pt", do_sample_frames=False)
    assert torch.allclose(saved["pixel_values_videos"], expected["pixel_values_videos"], atol=1e-5)


def test_save_inputs_roundtrip_llava(
    video_720p: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "inputs.safetensors"
    inspect_json(
        capsys, "--backbone", "llava_ov", "--video", str(video_720p), "--save-inputs", str(path)
    )
    saved = load_file(str(path))
    assert set(saved) == {"pixel_values_videos"}
    pixels = saved["pixel_values_videos"]
    assert pixels.shape == (1, 32, 3, 384, 384)
    # mean/std 0.5: values span [-1, 1]; the yellow bar (230, 200, 40) reaches near +0.8 in red
    assert pixels.min() >= -1.0 - 1e-5 and pixels.max() <= 1.0 + 1e-5
    assert pixels[0, :, 0].max() > 0.7


def error_line(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["inspect", *args])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("stop-eval inspect: error:")
    assert captured.out == ""
    return lines[0]


def test_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.mp4"
    assert str(missing) in error_line(capsys, "--backbone", "qwen2_5_vl", "--video", str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    assert str(empty) in error_line(capsys, "--backbone", "llava_ov", "--video", str(empty))
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(4096))
    assert str(corrupt) in error_line(capsys, "--backbone", "qwen2_5_vl", "--video", str(corrupt))
    line = error_line(capsys, "--backbone", "nope_vl", "--video", str(corrupt))
    assert "nope_vl" in line and "qwen2_5_vl" in line
    assert "--video" in error_line(capsys, "--backbone", "llava_ov")
    folder = write_folder(tmp_path / "frames", 4)
    line = error_line(
        capsys, "--backbone", "llava_ov", "--video", str(folder), "--save-inputs", "x.pt"
    )
    assert "x.pt" in line
    assert "--frames" in error_line(
        capsys, "--backbone", "llava_ov", "--video", str(folder), "--frames", "0"
    )


def test_model_folder_settings_are_used(
    video_720p: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a checkpoint folder (configs only) whose processor caps frames at 128 * 28^2 pixels
    source = checkpoint_dir("Qwen2.5-VL-7B-Instruct")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for name in ("config.json", "preprocessor_config.json"):
        (folder / name).write_text((source / name).read_text())
    settings = json.loads((folder / "preprocessor_config.json").read_text())
    settings["max_pixels"] = 128 * 28 * 28
    (folder / "preprocessor_config.json").write_text(json.dumps(settings))
    args = ["--backbone", "qwen2_5_vl", "--video", str(video_720p), "--model", str(folder)]
    # the official inputs do not depend on the checkpoint's pixel range ...
    assert inspect_json(capsys, *args)["visual_tokens"] == 4032
    # ... the checkpoint default does: smart_resize(720, 1280, 28, max 128*28^2) = 224 x 420
    report = inspect_json(capsys, *args, "--checkpoint-default")
    assert report["frame_size"] == [224, 420]
    assert report["visual_tokens"] == 16 * (224 // 28) * (420 // 28)


def test_qwen3_720p_gets_the_reference_4032_tokens(
    video_720p: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # factor 32, 4 to 256 merged tokens per frame: smart_resize(720, 1280, 32, 4*32^2, 256*32^2)
    report = inspect_json(capsys, "--backbone", "qwen3_vl", "--video", str(video_720p))
    assert set(report) == {"frame_indices", "frame_size", "visual_tokens", "grid_thw", "fps"}
    assert report["frame_indices"] == rounded(FRAMES)
    assert report["frame_size"] == [384, 672]
    assert report["grid_thw"] == [16, 24, 42]
    assert report["visual_tokens"] == 4032
    assert report["fps"] == pytest.approx(32 / FRAMES * FPS, rel=1e-6)


def test_qwen3_checkpoint_default_feeds_11520_tokens(
    video_720p: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Qwen3-VL-8B's video_preprocessor_config: 4096 .. 25,165,824 pixels, patch 16, merge 2
    report = inspect_json(
        capsys, "--backbone", "qwen3_vl", "--video", str(video_720p), "--checkpoint-default"
    )
    assert report["frame_size"] == [640, 1152]
    assert report["grid_thw"] == [16, 40, 72]
    assert report["visual_tokens"] == 16 * 20 * 36

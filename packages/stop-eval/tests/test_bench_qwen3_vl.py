"""``stop-bench prefill`` and ``capture`` on Qwen3-VL: tiny runs, the 8B preset's config."""

from __future__ import annotations

import json

import pytest
import torch

from stop_core import PruningConfig
from stop_eval.bench.capture import run_variant
from stop_eval.bench.prefill.base import PrefillSpec
from stop_eval.bench.prefill.qwen3_vl import Qwen3VLPrefillSession, frame_side, model_config
from stop_eval.bench.towers import QWEN3_VL_SIDE, tower_bench, towers
from stop_eval.cli.bench import main
from stop_qwen import make_adapter
from stop_qwen.checkpoints import checkpoint_dir

CONFIG = checkpoint_dir("Qwen3-VL-8B-Instruct")


def real_config() -> dict:
    """Qwen3-VL-8B-Instruct's config.json, read here without the code under test."""
    return json.loads((CONFIG / "config.json").read_text(encoding="utf-8"))


def test_prefill_tiny_writes_rows_settings_and_inputs(tmp_path, capsys) -> None:
    out = tmp_path / "prefill.json"
    main(
        [
            "prefill",
            "--backbone",
            "qwen3_vl",
            "--size",
            "tiny",
            "--frames",
            "4",
            "--retentions",
            "0.5",
            "--repeats",
            "1",
            "--new-tokens",
            "3",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    data = json.loads(out.read_text())
    settings, rows = data["settings"], data["results"]
    assert settings["backbone"] == "qwen3_vl" and settings["size"] == "tiny"
    assert settings["frames"] == 4 and settings["stop"] is True
    # tiny: 128 px frames, patch 16, merge 2 -> 4 x 4 = 16 tokens per group of 2 frames
    assert settings["inputs"]["frame_size"] == [128, 128]
    assert settings["inputs"]["temporal_groups"] == 2
    assert settings["inputs"]["visual_tokens"] == 32
    assert [(r["method"], r["retention"]) for r in rows] == [
        ("none", 1.0),
        ("visionzip", 0.5),
        ("fastvid", 0.5),
        ("holitom", 0.5),
        ("flashvid", 0.5),
    ]
    base = rows[0]
    # 32 text tokens + per group: 6 timestamp tokens, vision start/end, 16 placeholders
    assert base["sequence"] == 32 + 2 * (6 + 2 + 16)
    assert base["visual_before"] == base["visual_kept"] == 32
    assert base["capture_ms"] == 0.0 and base["prefill_speedup"] == 1.0
    for r in rows[1:]:
        assert r["use_stop"] is True
        assert 0 < r["visual_kept"] < 32
        # the text (timestamps included) stays; only placeholders go
        assert r["sequence"] == base["sequence"] - (32 - r["visual_kept"])
        assert r["ideal_speedup"] == base["sequence"] / r["sequence"]
        assert r["capture_ms"] > 0 and r["capture_gflops"] > 0 and r["decode_tok_s"] > 0
        assert r["capture_flop_share"] == r["capture_gflops"] / r["prefill_gflops"]
        assert r["ttft_ms"] >= r["vision_ms"] + r["prefill_ms"]
    assert "qwen3_vl tiny, 4 frames of 128x128, 32 visual tokens" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["visionzip", "fastvid", "holitom", "flashvid"])
def test_reused_tower_pass_prunes_as_the_adapter_does(method: str) -> None:
    # the bench times pruning on one shared hooked tower pass; the adapter's own call must
    # give the same LLM inputs
    spec = PrefillSpec("qwen3_vl", "tiny", 4, 12, torch.device("cpu"), torch.float32)
    session = Qwen3VLPrefillSession(spec)
    encoded, seconds = session.encode()
    assert seconds > 0
    cfg = PruningConfig.preset(method, retention_ratio=0.4, use_stop=True, backbone="qwen3_vl")
    prepared, record = session.pruner(cfg)(encoded)
    own = make_adapter(session.model, cfg, "qwen3_vl").prepare_inputs(dict(session.base_inputs))
    for key in ("input_ids", "attention_mask", "mm_token_type_ids", "position_ids"):
        assert torch.equal(prepared[key], own[key]), key
    mine, theirs = prepared["mm_encoder_outputs"]["video"], own["mm_encoder_outputs"]["video"]
    torch.testing.assert_close(mine.pooler_output, theirs.pooler_output)
    assert len(mine.deepstack_features) == 2
    for a, b in zip(mine.deepstack_features, theirs.deepstack_features, strict=True):
        torch.testing.assert_close(a, b)
    assert record.kept < record.tokens_before == 32


def test_8b_preset_is_the_bundled_config() -> None:
    real, cfg = real_config(), model_config("8b")
    for key in (
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "vocab_size",
    ):
        assert getattr(cfg.text_config, key) == real["text_config"][key], key
    for key in ("depth", "hidden_size", "num_heads", "patch_size", "out_hidden_size"):
        assert getattr(cfg.vision_config, key) == real["vision_config"][key], key
    assert list(cfg.vision_config.deepstack_visual_indexes) == [8, 16, 24]
    assert cfg.video_token_id == real["video_token_id"] == 151656
    assert cfg.text_config.hidden_size == 4096 and cfg.vision_config.depth == 27
    # the reference cap is 256 merged tokens per frame: 16 x 16 tokens of 32 px = 512 px
    assert frame_side("8b", "qwen3_vl") == 512


def test_prefill_rejects_sizes_and_options_of_other_backbones(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["prefill", "--backbone", "qwen3_vl", "--size", "7b", "--device", "cpu"])
    assert exc.value.code == 2  # a usage error: one line on stderr
    err = capsys.readouterr().err
    assert err.startswith("stop-bench prefill: error:") and "no size '7b'" in err
    with pytest.raises(ValueError, match="unknown Qwen3-VL size '7b'"):
        model_config("7b")
    spec = PrefillSpec("qwen3_vl", "tiny", 2, 4, torch.device("cpu"), torch.float32, torch.float32)
    with pytest.raises(ValueError, match="capture-dtype"):
        Qwen3VLPrefillSession(spec)


def test_capture_bench_qwen3_vl_tower_is_the_8b_tower_at_the_reference_cap() -> None:
    # running it is tested with the registry (test_backbones); here: its sizes and frame
    bench = tower_bench("qwen3_vl")
    vision = real_config()["vision_config"]
    assert "qwen3_vl" in towers()
    assert (bench.hidden, bench.layers) == (vision["hidden_size"], vision["depth"]) == (1152, 27)
    assert bench.variants == ("tower", "hooks")
    # 32 patches of 16 px per side = 512 px, 2 x 2 merged: 256 tokens per temporal group
    assert QWEN3_VL_SIDE * vision["patch_size"] == frame_side("8b", "qwen3_vl") == 512
    assert (QWEN3_VL_SIDE // vision["spatial_merge_size"]) ** 2 == 256
    row = run_variant("qwen3_vl", "hooks", 2, 1, 1, "cpu", torch.float32)
    assert (row.tower, row.variant, row.layers, row.hidden) == ("qwen3_vl", "hooks", 1, 1152)

"""``stop_pruning`` parsing: the preset's keys, explicit strengths, scorer, block, clear errors."""

from __future__ import annotations

import pytest

from stop_core import PruningConfig
from stop_vllm.settings import parse_settings


def test_preset_keys_and_retention_from_the_rate() -> None:
    got = parse_settings({"method": "holitom", "variant": "fixed"}, 0.9, "qwen2_5_vl")
    want = PruningConfig.preset(
        "holitom", backbone="qwen2_5_vl", retention_ratio=1 - 0.9, variant="fixed"
    ).replace(exact_count=True)
    assert got.cfg == want
    assert got.scorer == "attention" and got.block is None


def test_norm_scorer_takes_its_own_strengths_and_explicit_mu_wins() -> None:
    norm = parse_settings({"method": "visionzip", "scorer": "norm"}, 0.5, "qwen2_5_vl")
    assert (
        norm.cfg.mu_s
        == PruningConfig.preset("visionzip", backbone="qwen2_5_vl", scorer="norm").mu_s
    )
    explicit = parse_settings({"method": "fastvid", "mu_s": 0.5, "block": 2}, 0.5, "qwen3_vl")
    assert explicit.cfg.mu_s == 0.5 and explicit.block == 2


def test_use_stop_false_turns_the_strengths_off() -> None:
    got = parse_settings({"method": "holitom", "use_stop": False}, 0.9, "qwen2_5_vl")
    assert got.cfg.mu_s == 0.0 and got.cfg.mu_t == 0.0


@pytest.mark.parametrize(
    ("raw", "rate", "needle"),
    [
        ("holitom", 0.9, "must be a mapping"),
        ({"use_stop": True}, 0.9, "needs a 'method'"),
        ({"method": "nope"}, 0.9, "nope"),
        ({"method": "holitom"}, None, "--video-pruning-rate"),
        ({"method": "holitom"}, 0.0, "--video-pruning-rate"),
        ({"method": "holitom", "retention_ratio": 0.2}, 0.9, "contradicts"),
        ({"method": "holitom", "scorer": "grad"}, 0.9, "grad"),
        ({"method": "holitom", "block": "last"}, 0.9, "'last'"),
        ({"method": "holitom", "backbone": "llava_ov"}, 0.9, "backbone"),
        ({"method": "holitom", "mu_s": -1}, 0.9, "mu_s"),
        ({"method": "holitom", "windows": 3}, 0.9, "windows"),
    ],
)
def test_bad_settings_name_the_bad_value(raw, rate, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_settings(raw, rate, "qwen2_5_vl")

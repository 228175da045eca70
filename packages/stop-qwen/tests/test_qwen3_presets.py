"""qwen3_vl presets: Qwen2.5-VL's (no published mu for Qwen3-VL), overrides included."""

from __future__ import annotations

import pytest

from stop_core import PruningConfig

METHODS = ["visionzip", "fastvid", "holitom", "flashvid"]
# the paper code's table for Qwen2.5-VL: attention scores use the LLaVA mu, the norm scorer
# mu_s = 3.7 for VisionZip and no SToP elsewhere
EXPECTED = {
    "attention": {
        "visionzip": (0.03, 0.0),
        "fastvid": (0.02, 0.0),
        "flashvid": (0.02, 0.0),
        "holitom": (0.04, 0.07),
    },
    "norm": {
        "visionzip": (3.7, 0.0),
        "fastvid": (0.0, 0.0),
        "flashvid": (0.0, 0.0),
        "holitom": (0.0, 0.0),
    },
}


@pytest.mark.parametrize("scorer", ["attention", "norm"])
@pytest.mark.parametrize("method", METHODS)
def test_qwen3_vl_presets(method, scorer) -> None:
    cfg = PruningConfig.preset(method, backbone="qwen3_vl", scorer=scorer, retention_ratio=0.1)
    qwen25 = PruningConfig.preset(method, backbone="qwen2_5_vl", scorer=scorer, retention_ratio=0.1)
    assert (cfg.mu_s, cfg.mu_t) == EXPECTED[scorer][method]
    assert cfg == qwen25
    off = PruningConfig.preset(method, backbone="qwen3_vl", scorer=scorer, use_stop=False)
    assert (off.mu_s, off.mu_t) == (0.0, 0.0)


def test_visionzip_budget_is_per_frame_on_qwen3_vl() -> None:
    cfg = PruningConfig.preset("visionzip", backbone="qwen3_vl")
    assert cfg.params.spatial_tokens_table == ()

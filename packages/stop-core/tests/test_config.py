"""PruningConfig: presets, validation, round trip, registry behaviour."""

from __future__ import annotations

import dataclasses
import math

import pytest

from stop_core import MU_DEFAULTS, PruningConfig, available_methods, get_method, stop_strengths
from stop_core.params import NoParams
from stop_core.registry import MethodSpec, register_method

PAPER_METHODS = ("visionzip", "fastvid", "holitom", "flashvid")


def test_builtin_methods_registered() -> None:
    assert set(available_methods()) >= {"none", "uniform", "random", *PAPER_METHODS}


@pytest.mark.parametrize("method", PAPER_METHODS)
def test_preset_uses_paper_mu(method: str) -> None:
    cfg = PruningConfig.preset(method, backbone="llava_ov", retention_ratio=0.1)
    assert (cfg.mu_s, cfg.mu_t) == MU_DEFAULTS[method]
    assert cfg.gamma == 1.1 and cfg.variant == "reference" and cfg.use_stop
    off = PruningConfig.preset(method, use_stop=False)
    assert (off.mu_s, off.mu_t) == (0.0, 0.0) and not off.use_stop


def test_paper_mu_table() -> None:
    assert MU_DEFAULTS == {
        "visionzip": (0.03, 0.0),
        "fastvid": (0.02, 0.0),
        "flashvid": (0.02, 0.0),
        "holitom": (0.04, 0.07),
    }
    assert stop_strengths("visionzip", "qwen2_5_vl", scorer="norm") == (3.7, 0.0)
    assert stop_strengths("holitom", "qwen2_5_vl", scorer="norm") == (0.0, 0.0)
    assert stop_strengths("holitom", "llava_video") == (0.04, 0.07)


@pytest.mark.parametrize("method", available_methods())
def test_round_trip(method: str) -> None:
    cfg = PruningConfig.preset(method, retention_ratio=0.25, variant="fixed")
    data = cfg.to_dict()
    assert PruningConfig.from_dict(data) == cfg
    import json

    assert PruningConfig.from_dict(json.loads(json.dumps(data))) == cfg


@pytest.mark.parametrize("method", available_methods())
def test_params_have_defaults_and_are_frozen(method: str) -> None:
    params = get_method(method).params_type()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.__setattr__("x", 1)


@pytest.mark.parametrize("ratio", [0.0, -0.1, 1.0001, 2, math.nan, math.inf])
def test_bad_retention(ratio: float) -> None:
    with pytest.raises(ValueError, match="retention_ratio"):
        PruningConfig("visionzip", retention_ratio=ratio)


def test_bad_values_are_named() -> None:
    with pytest.raises(ValueError, match="unknown pruning method 'prunevid'"):
        PruningConfig("prunevid")
    with pytest.raises(ValueError, match="mu_s"):
        PruningConfig("visionzip", mu_s=-0.1)
    with pytest.raises(ValueError, match="mu_t"):
        PruningConfig("holitom", mu_t=math.nan)
    with pytest.raises(ValueError, match="gamma"):
        PruningConfig("holitom", gamma=0.0)
    with pytest.raises(ValueError, match="variant"):
        PruningConfig("holitom", variant="official")
    with pytest.raises(TypeError, match="retention_ratio"):
        PruningConfig("holitom", retention_ratio="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="params"):
        PruningConfig("holitom", params=NoParams())
    with pytest.raises(ValueError, match="unknown backbone 'llava'"):
        PruningConfig.preset("holitom", backbone="llava")
    with pytest.raises(ValueError, match="bad parameters for 'holitom'"):
        PruningConfig.preset("holitom", not_a_knob=3)
    with pytest.raises(ValueError, match="unknown PruningConfig fields"):
        PruningConfig.from_dict({"method": "none", "ratio": 0.1})


def test_config_is_frozen_and_replace_revalidates() -> None:
    cfg = PruningConfig.preset("holitom")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.mu_s = 1.0  # type: ignore[misc]
    assert cfg.replace(retention_ratio=0.2).retention_ratio == 0.2
    with pytest.raises(ValueError):
        cfg.replace(retention_ratio=0.0)
    assert isinstance(cfg.replace(method="none").params, NoParams)


def test_registry_names_are_unique() -> None:
    spec = get_method("uniform")
    register_method(spec)  # the same spec again is a no-op
    clone = MethodSpec(name="uniform", params_type=NoParams, run=spec.run)
    with pytest.raises(ValueError, match="already registered"):
        register_method(clone)


def test_backbone_parameter_overrides() -> None:
    ov = PruningConfig.preset("visionzip", backbone="llava_ov")
    qwen = PruningConfig.preset("visionzip", backbone="qwen2_5_vl")
    assert ov.params.spatial_tokens_table and not qwen.params.spatial_tokens_table
    explicit = PruningConfig.preset(
        "visionzip", backbone="qwen2_5_vl", spatial_tokens_table=((0.1, 7),)
    )
    assert explicit.params.spatial_tokens_table == ((0.1, 7),)

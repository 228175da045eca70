"""planned_tokens: the documented per-method formulas, written out here, and its errors."""

from __future__ import annotations

import json
import math

import pytest

from stop_core import PruningConfig, available_methods, count_plan, planned_tokens

CONTENT_DEPENDENT = ("fastvid", "holitom", "flashvid")
SHAPE_FIXED = ("none", "uniform", "random", "visionzip")
SIGLIP_GRIDS = ((14, 14), (13, 13))
VISIONZIP_TABLE = {0.10: 20, 0.15: 30, 0.20: 40, 0.25: 50}


def round_half_up(x: float) -> int:
    return max(1, math.floor(x + 0.5))


def hand_count(method: str, backbone: str, variant: str, r: float, t: int, h: int, w: int) -> int:
    """ALGORITHMS.md §9's table, written out independently of the package."""
    s = h * w
    if method == "none" or r == 1.0:
        return t * s
    if method in ("uniform", "random", "holitom"):
        return round_half_up(r * t * s)
    if method == "visionzip":
        table = VISIONZIP_TABLE if backbone.startswith("llava") else {}
        siglip = backbone.startswith("llava") and variant == "reference" and (h, w) in SIGLIP_GRIDS
        base = 196 if siglip else s
        per = next((n for q, n in table.items() if abs(q - r) < 1e-9), max(1, int(base * r)))
        return t * min(per, s)
    if method == "fastvid":
        return t * min(max(int(s * r), 1), s)
    if method == "flashvid":
        return t * min(math.ceil(s * r * 1.25), s)
    raise AssertionError(method)


SHAPES = [(1, 1, 1), (16, 8, 8), (5, 4, 6), (7, 14, 14), (3, 13, 13), (20, 1, 9), (2, 9, 1)]
RATIOS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.37, 0.5, 0.85, 1.0]


@pytest.mark.parametrize("backbone", ["llava_ov", "qwen3_vl"])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", available_methods())
def test_planned_count_is_the_documented_formula(method, variant, backbone) -> None:
    for use_stop in (False, True):
        for r in RATIOS:
            cfg = PruningConfig.preset(
                method,
                backbone=backbone,
                retention_ratio=r,
                use_stop=use_stop,
                variant=variant,
                exact_count=True,
            )
            for t, h, w in SHAPES:
                expected = hand_count(method, backbone, variant, r, t, h, w)
                assert planned_tokens(cfg, t, (h, w)) == expected, (r, t, h, w)
                assert 1 <= expected <= t * h * w


def test_sixteen_frames_of_8x8_at_ten_percent() -> None:
    """r = 0.1, 16 frames of 8 x 8: the counts a serving engine reserves."""
    expected = {"visionzip": 96, "fastvid": 96, "holitom": 102, "flashvid": 128, "uniform": 102}
    for method, n in expected.items():
        cfg = PruningConfig.preset(method, backbone="qwen3_vl", exact_count=True)
        assert planned_tokens(cfg, 16, (8, 8)) == n
    llava = PruningConfig.preset("visionzip", backbone="llava_ov")  # table entry: 20 per frame
    assert planned_tokens(llava, 16, (8, 8)) == 320


@pytest.mark.parametrize("method", CONTENT_DEPENDENT)
def test_content_dependent_methods_need_exact_count(method) -> None:
    cfg = PruningConfig.preset(method, retention_ratio=0.2)
    with pytest.raises(ValueError, match="depends on the video's content") as err:
        planned_tokens(cfg, 16, (8, 8))
    assert "exact_count=True" in str(err.value)
    assert count_plan(cfg, 16, (8, 8)).content_dependent
    # a full retention runs no method: every token, whatever the method
    assert planned_tokens(cfg.replace(retention_ratio=1.0), 4, (3, 5)) == 60


@pytest.mark.parametrize("method", SHAPE_FIXED)
def test_shape_fixed_methods_need_no_exact_count(method) -> None:
    cfg = PruningConfig.preset(method, retention_ratio=0.2)
    assert not count_plan(cfg, 16, (8, 8)).content_dependent
    assert planned_tokens(cfg, 16, (8, 8)) == planned_tokens(
        cfg.replace(exact_count=True), 16, (8, 8)
    )


def test_bad_arguments_are_named() -> None:
    cfg = PruningConfig.preset("uniform")
    with pytest.raises(TypeError, match="cfg must be a PruningConfig, got dict"):
        planned_tokens({"method": "uniform"}, 4, (2, 2))  # type: ignore[arg-type]
    for bad in (0, -3):
        with pytest.raises(ValueError, match=f"num_frames must be >= 1, got {bad}"):
            planned_tokens(cfg, bad, (2, 2))
    for bad in (1.5, True, "4"):
        with pytest.raises(TypeError, match="num_frames must be an int"):
            planned_tokens(cfg, bad, (2, 2))  # type: ignore[arg-type]
    for bad in ((0, 4), (4, -1)):
        with pytest.raises(ValueError, match=r"grid sides must be >= 1, got \("):
            planned_tokens(cfg, 4, bad)
    for bad in ((4,), "8x8", (1, 2, 3), None):
        with pytest.raises(ValueError, match="grid must be an \\(h, w\\) pair"):
            planned_tokens(cfg, 4, bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"grid sides must be ints, got \(4.0, 4\)"):
        planned_tokens(cfg, 4, (4.0, 4))  # type: ignore[arg-type]
    assert planned_tokens(cfg, 4, [2, 3]) == round_half_up(0.1 * 24)  # a list is a pair too


def test_exact_count_field_validation_and_round_trip() -> None:
    for bad in ("yes", 1, None):
        with pytest.raises(TypeError, match=f"exact_count must be a bool, got .*{bad!r}"):
            PruningConfig("holitom", exact_count=bad)  # type: ignore[arg-type]
    cfg = PruningConfig.preset("flashvid", retention_ratio=0.2, variant="fixed", exact_count=True)
    assert cfg.exact_count is True
    data = json.loads(json.dumps(cfg.to_dict()))
    assert data["exact_count"] is True
    assert PruningConfig.from_dict(data) == cfg
    older = {k: v for k, v in data.items() if k != "exact_count"}  # written before the field
    assert PruningConfig.from_dict(older) == cfg.replace(exact_count=False)
    assert PruningConfig.preset("holitom").exact_count is False
    assert cfg.replace(method="holitom").exact_count is True

"""Reference corners: official outputs beyond the first goldens, and the rules behind them.

Each file in ``golden/corners`` is the official SToP code's output on inputs where an earlier
version of ``prune(variant="reference")`` did not reproduce it (ALGORITHMS.md §8.9, §8.10,
§8.16-§8.18). Beyond the files, each rule is checked on other seeds, ratios and grids against
a loop transcription written here.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
from test_fastvid import assert_matches_naive
from test_fastvid import config as fastvid_config
from test_fastvid import make_tokens as fastvid_tokens
from test_holitom import make_video as holitom_tokens
from test_visionzip import check_against_naive
from test_visionzip import make_tokens as visionzip_tokens

from stop_core import PruningConfig, VideoTokens, lay_out, prune
from stop_core.methods import fastvid as fastvid_module
from stop_core.methods import holitom as holitom_module
from stop_core.methods import visionzip as visionzip_module
from stop_core.registry import get_method

CORNER_DIR = Path(__file__).parent / "golden" / "corners"
CORNERS = (
    "fastvid_p1_r10_stop",
    "fastvid_p2_r02_stop",
    "flashvid_T12_r10_stop",
    "flashvid_T32_r20_base",
    "visionzip_13x13_r30_stop",
)
SIGLIP_TABLE = {0.10: 20, 0.15: 30, 0.20: 40, 0.25: 50}


def load_corner(name: str) -> dict:
    return torch.load(CORNER_DIR / f"{name}.pt", weights_only=True)


def run_corner(gold: dict):
    """Prune a corner file's inputs with its recorded settings (generator seeded as recorded)."""
    case, inputs = gold["case"], gold["inputs"]
    tokens = VideoTokens(
        features=inputs["features"],
        attention=inputs["attention"],
        keys=inputs["keys"],
        frame_embeddings=inputs["frame_embeddings"],
        grid=tuple(case["grid"]),
    )
    cfg = PruningConfig(
        method=case["method"],
        retention_ratio=case["retention_ratio"],
        mu_s=case["mu_s"],
        mu_t=case["mu_t"],
        gamma=case["gamma"],
        variant="reference",
        params=get_method(case["method"]).params_type(**case["params"]),
    )
    assert cfg.use_stop == case["use_stop"]
    return prune(tokens, cfg, generator=torch.Generator().manual_seed(int(case["call_seed"])))


def reproduce(name: str):
    """The official sequence, row for row in order (within 1e-5), newline included."""
    gold = load_corner(name)
    out = run_corner(gold)
    seq = lay_out(out, gold["inputs"]["newline"], mode=gold["case"]["layout"])
    want = gold["reference_output"]
    assert seq.shape == want.shape, f"{name}: {tuple(seq.shape)} rows vs official {want.shape}"
    torch.testing.assert_close(seq, want, atol=1e-5, rtol=0)
    return out


# ---------------------------------------------------------------------------------------------
# The corner files


def test_every_corner_file_has_its_test() -> None:
    assert sorted(p.stem for p in CORNER_DIR.glob("*.pt")) == sorted(CORNERS)
    module = sys.modules[__name__]
    assert all(callable(getattr(module, f"test_{name}", None)) for name in CORNERS)


def test_visionzip_13x13_r30_stop() -> None:
    out = reproduce("visionzip_13x13_r30_stop")
    assert out.info["tokens_per_frame"] == int(196 * 0.3) == 58  # not int(169 * 0.3) = 50
    assert out.info["budget_base"] == 196


def test_fastvid_p1_r10_stop() -> None:
    out = reproduce("fastvid_p1_r10_stop")
    assert out.info["anchor_frames"] == []  # with p = 1 every quota equals n_ctx


def test_fastvid_p2_r02_stop() -> None:
    out = reproduce("fastvid_p2_r02_stop")
    assert out.info["frame_context_num"] == 1


def test_flashvid_T12_r10_stop() -> None:
    reproduce("flashvid_T12_r10_stop")


def test_flashvid_T32_r20_base() -> None:
    out = reproduce("flashvid_T32_r20_base")
    # rows sharing a global index come in the order of torch's default argsort (§8.9)
    assert out.info["num_duplicate_tokens"] > 0


# ---------------------------------------------------------------------------------------------
# VisionZip budget (§8.16) beyond the file: a transcription of the harness table


def siglip_budget(ratio: float, grid: tuple[int, int], variant: str) -> int:
    """Tokens per frame: table entry, else int(196 r) on SigLIP grids (reference) or int(S r)."""
    s = grid[0] * grid[1]
    for table_ratio, count in SIGLIP_TABLE.items():
        if abs(table_ratio - ratio) < 1e-9:
            return min(count, s)
    base = 196 if variant == "reference" and grid in ((14, 14), (13, 13)) else s
    return min(max(1, int(base * ratio)), s)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("grid", [(13, 13), (14, 14), (12, 12), (5, 5), (13, 14)])
@pytest.mark.parametrize("ratio", [0.05, 0.1, 0.25, 0.3, 0.33, 0.45, 0.6, 0.8])
def test_visionzip_budget_base(variant: str, grid: tuple[int, int], ratio: float) -> None:
    tokens = visionzip_tokens(int(ratio * 100) + grid[0], 2, grid[0], grid[1], 8)
    cfg = PruningConfig("visionzip", retention_ratio=ratio, mu_s=0.03, variant=variant)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    want = siglip_budget(ratio, grid, variant)
    assert out.info["tokens_per_frame"] == want
    assert out.kept == 2 * want


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ratio", [0.3, 0.45])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_visionzip_13x13_matches_loop_transcription(seed: int, ratio: float, variant: str) -> None:
    tokens = visionzip_tokens(100 + seed, 3, 13, 13, 12, sharp=2.0)
    cfg = PruningConfig("visionzip", retention_ratio=ratio, mu_s=0.03, variant=variant)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    check_against_naive(tokens, cfg, out)
    assert out.info["tokens_per_frame"] == siglip_budget(ratio, (13, 13), variant)


def test_visionzip_budget_base_follows_the_backbone_preset() -> None:
    tokens = visionzip_tokens(7, 2, 13, 13, 8)
    llava = PruningConfig.preset("visionzip", backbone="llava_video", retention_ratio=0.3)
    qwen = PruningConfig.preset("visionzip", backbone="qwen2_5_vl", retention_ratio=0.3)
    gen = torch.Generator
    assert prune(tokens, llava, generator=gen()).info["tokens_per_frame"] == 58
    assert prune(tokens, qwen, generator=gen()).info["tokens_per_frame"] == int(169 * 0.3)


# ---------------------------------------------------------------------------------------------
# FastVID context paths (§8.10) beyond the files


def context_paths(sizes: list[int], n_ctx: int, p: int) -> tuple[list[int], list[int]]:
    """Frames on the single-frame path (quota == n_ctx) and multi-frame anchors (quota > n_ctx)."""
    quota = []
    for length in sizes:
        per = (n_ctx * length) // math.ceil(length / p)
        quota += [per if (length - 1 - i) % p == 0 else 0 for i in range(length)]
    single = [f for f, q in enumerate(quota) if q == n_ctx and n_ctx > 0]
    multi = [f for f, q in enumerate(quota) if q > n_ctx]
    return single, multi


@pytest.mark.parametrize(
    ("p", "ratio", "c"),
    [(1, 0.1, 2), (1, 0.3, 3), (2, 0.07, 2), (2, 0.3, 2), (3, 0.07, 2), (3, 0.3, 1), (4, 0.3, 8)],
)
@pytest.mark.parametrize("seed", range(3))
def test_fastvid_context_path_by_quota_value(p: int, ratio: float, c: int, seed: int) -> None:
    tokens = fastvid_tokens(t=12, grid=(7, 7), d=16, seed=seed, scenes=2)
    cfg = fastvid_config(ratio, 0.02, "reference", dtm_p=p, dyseg_c=c)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
    single, multi = context_paths(out.info["segment_sizes"], out.info["frame_context_num"], p)
    assert out.info["anchor_frames"] == multi
    ctx_frames = sorted(set((out.global_index // 49).tolist()) & set(single + multi))
    assert ctx_frames == sorted(single + multi)
    assert_matches_naive(tokens, cfg, seed)


def test_fastvid_fixed_keeps_the_segment_length_rule() -> None:
    tokens = fastvid_tokens(t=12, grid=(7, 7), d=16, seed=1, scenes=2)
    cfg = fastvid_config(0.3, 0.02, "fixed", dtm_p=1, dyseg_c=2)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    sizes = out.info["segment_sizes"]
    assert any(n > 1 for n in sizes)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    assert out.info["anchor_frames"] == [
        f for start, n in zip(starts, sizes, strict=True) if n > 1 for f in range(start, start + n)
    ]


# ---------------------------------------------------------------------------------------------
# Sink rows (§8.17): each frame ranks with its own row of the repeated sink matrix


def distinct_rows(seed: int):
    """A stand-in for ``sink_score_rows`` whose rows differ per frame (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    return lambda attention, gamma, **_: torch.rand(attention.shape, generator=gen)


def test_visionzip_each_frame_uses_its_sink_row(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = visionzip_tokens(3, 4, 14, 14, 8)
    rows = distinct_rows(1)(tokens.attention, 1.1)
    monkeypatch.setattr(visionzip_module, "sink_score_rows", lambda a, g, **_: rows)
    cfg = PruningConfig("visionzip", retention_ratio=0.2, mu_s=0.5)
    out = prune(tokens, cfg, generator=torch.Generator())
    n_dom = out.info["n_dominant"]
    for t in range(4):
        score = [float(tokens.attention[t, i]) - 0.5 * float(rows[t, i]) for i in range(196)]
        want = sorted(sorted(range(196), key=lambda i: -score[i])[:n_dom])
        assert out.info["dominant_idx"][t].tolist() == want


def test_fastvid_each_frame_uses_its_sink_row(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = fastvid_tokens(t=6, grid=(7, 7), d=16, seed=2)
    rows = distinct_rows(2)(tokens.attention, 1.1)
    monkeypatch.setattr(fastvid_module, "sink_score_rows", lambda a, g, **_: rows)
    out = prune(tokens, fastvid_config(0.3, 0.5), generator=torch.Generator())
    n_sal = out.info["frame_salient_num"]
    for t in range(6):
        score = [float(tokens.attention[t, i]) - 0.5 * float(rows[t, i]) for i in range(49)]
        want = set(sorted(range(49), key=lambda i: -score[i])[:n_sal])
        assert set(out.info["salient_indexes"][t].tolist()) == want


@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_holitom_each_frame_uses_its_sink_row(monkeypatch: pytest.MonkeyPatch, variant) -> None:
    """STSP ranks frame f with row f, STTP splits on ``cos[k] + mu_t * row k`` (§3.4, §8.17)."""
    tokens = holitom_tokens(12, 6, 6, 16, noise=0.5, seed=3)
    rows = distinct_rows(3)(tokens.attention, 1.1)
    monkeypatch.setattr(holitom_module, "sink_score_rows", lambda a, g, **_: rows)
    mu_s, mu_t = 0.5, 0.3
    cfg = PruningConfig("holitom", retention_ratio=0.3, mu_s=mu_s, mu_t=mu_t, variant=variant)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    cos = out.info["feature_sim"]
    windows = out.info["selected_frames"]
    assert any(b > a for a, b in windows)
    for w, (a, b) in enumerate(windows):
        static = [
            i
            for i in range(36)
            if a < b and all(float(cos[k, i] + mu_t * rows[k, i]) > 0.8 for k in range(a, b))
        ]
        assert out.info["window_static_pos_before_merge"][w][0].tolist() == static
        dyn = [i for i in range(36) if i not in static]
        kept = out.info["window_dynamic_kept_pos"][w]
        for f in range(a, b + 1):
            score = {i: float(tokens.attention[f, i]) - mu_s * float(rows[f, i]) for i in dyn}
            want = sorted(sorted(dyn, key=lambda i: -score[i])[: kept.shape[1]])
            assert kept[f - a].long().tolist() == want


# ---------------------------------------------------------------------------------------------
# Similarity arithmetic (§8.18): FastVID's reference density uses the official cdist bits


@pytest.mark.parametrize("seed", range(3))
def test_fastvid_reference_density_has_the_cdist_bits(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    t, s, d, m, k = 5, 64, 40, 48, 4
    x = torch.randn(t, s, d, generator=gen)
    rest = torch.stack([torch.randperm(s, generator=gen)[:m].sort().values for _ in range(t)])
    frames = [0, 2, 3]
    got = fastvid_module._density_peaks(
        x, frames, rest, k, torch.Generator().manual_seed(7), exact=True
    )
    # the official formula: batched cdist of the rest tokens, density over k nearest, delta
    y = torch.stack([x[f, rest[f]] for f in range(t)]).float()
    dist = torch.cdist(y, y) / d**0.5
    density = (-(torch.topk(dist, k, dim=-1, largest=False).values ** 2).mean(dim=-1)).exp()
    density = density + torch.rand((t, m), generator=torch.Generator().manual_seed(7)) * 1e-6
    denser = (density[:, None, :] > density[:, :, None]).float()
    far = dist.flatten(1).max(dim=-1).values[:, None, None]
    want = (dist * denser + far * (1 - denser)).min(dim=-1).values * density
    assert torch.equal(got[frames], want[frames])
    assert not got[[1, 4]].any()

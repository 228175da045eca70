"""Helpers to run ``prune`` on the golden inputs with the settings a golden file records."""

from __future__ import annotations

from pathlib import Path

import torch

from stop_core import PrunedVideo, PruningConfig, VideoTokens, lay_out, prune

DEFAULT_GOLDEN_DIR = Path(__file__).resolve().parent / "golden"  # official outputs, in the repo


def load_golden(golden_dir: Path, name: str) -> dict:
    return torch.load(golden_dir / name, weights_only=True)


def golden_tokens(inputs: dict[str, torch.Tensor]) -> VideoTokens:
    return VideoTokens(
        features=inputs["pooled_features"],
        attention=inputs["pooled_attention"],
        keys=inputs["pooled_metric"].float(),
        frame_embeddings=inputs["frame_global"],
        grid=(14, 14),
    )


def golden_config(meta: dict, variant: str = "reference") -> PruningConfig:
    return PruningConfig(
        method=meta["method"],
        retention_ratio=meta["retention_ratio"],
        mu_s=meta["mu_s"],
        mu_t=meta["mu_t"],
        gamma=meta["gamma"],
        variant=variant,
    )


def run_golden(inputs: dict[str, torch.Tensor], meta: dict, seed: int | None = None) -> PrunedVideo:
    """Prune the golden inputs; the generator is seeded with the reference's ``call_seed``.

    The density noise matters beyond exact ties where a cluster count of 1 makes every
    density equal (FlashVID), so the draws must follow the reference's RNG sequence.
    """
    gen = torch.Generator().manual_seed(int(meta.get("call_seed", 0)) if seed is None else seed)
    return prune(golden_tokens(inputs), golden_config(meta), generator=gen)


def assert_rows_match(
    seq: torch.Tensor, ref: torch.Tensor, keys: torch.Tensor | None = None, atol: float = 1e-5
) -> None:
    """Rows equal within ``atol``; rows sharing one ``keys`` value compare as unordered groups."""
    assert seq.shape == ref.shape, f"shape {tuple(seq.shape)} != reference {tuple(ref.shape)}"
    if keys is None:
        torch.testing.assert_close(seq, ref, atol=atol, rtol=0)
        return
    diff = (seq - ref).abs().amax(dim=1)
    for i in torch.nonzero(diff > atol).flatten().tolist():
        group = torch.nonzero(keys == keys[i]).flatten()
        assert group.numel() > 1, f"row {i} differs by {diff[i]:.3g} and is not in a tie group"
        best = (seq[i][None] - ref[group]).abs().amax(dim=1).min()
        assert best <= atol, f"row {i} matches no row of its group {group.tolist()}"


__all__ = [
    "DEFAULT_GOLDEN_DIR",
    "assert_rows_match",
    "golden_config",
    "golden_tokens",
    "lay_out",
    "load_golden",
    "run_golden",
]

"""SToP on synthetic video tokens with planted sinks (``python -m stop_eval.demo.synthetic``).

Prunes a random 32-frame, 14x14-token video whose attention has four persistent sinks with
every method, SToP off and on, and prints how many kept tokens sit on a sink.
"""

from __future__ import annotations

import argparse

import torch

from stop_core import PAPER_METHODS, PruningConfig, VideoTokens, prune, sink_score


def planted_sink_video(
    frames: int = 32, grid: tuple[int, int] = (14, 14), hidden: int = 64, seed: int = 0
) -> tuple[VideoTokens, torch.Tensor]:
    """Random tokens with 4 sink positions that draw high attention in every frame."""
    g = torch.Generator().manual_seed(seed)
    s = grid[0] * grid[1]
    sinks = torch.randperm(s, generator=g)[:4]
    logits = torch.randn(frames, s, generator=g)
    logits[:, sinks] += 3.0
    moving = torch.arange(frames) % s  # an "object" that moves one cell per frame
    logits[torch.arange(frames), moving] += 2.0
    base = torch.randn(1, s, hidden, generator=g)
    feats = base + 0.4 * torch.randn(frames, s, hidden, generator=g)
    feats[:, sinks] = base[:, sinks] + 0.05 * torch.randn(frames, 4, hidden, generator=g)
    tokens = VideoTokens(
        features=feats,
        attention=torch.softmax(logits, dim=-1),
        keys=torch.randn(frames, s, 16, generator=g),
        frame_embeddings=feats.mean(dim=1),
        grid=grid,
    )
    return tokens, sinks


def main(argv: list[str] | None = None) -> None:
    """Print kept tokens and the share of them on sink positions, per method, SToP off/on."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--retention", type=float, default=0.1)
    parser.add_argument("--variant", default="reference", choices=["reference", "fixed"])
    args = parser.parse_args(argv)
    tokens, sinks = planted_sink_video()
    score = sink_score(tokens.attention)  # type: ignore[arg-type]
    found = sorted(score.topk(4).indices.tolist())
    print(f"planted sinks at positions {sorted(sinks.tolist())}; sink score top-4: {found}")
    print(f"{'method':<10} {'SToP':<5} {'mu_s':>5} {'mu_t':>5} {'kept':>5} {'on sinks':>9}")
    for method in PAPER_METHODS:
        for use_stop in (False, True):
            cfg = PruningConfig.preset(
                method, retention_ratio=args.retention, use_stop=use_stop, variant=args.variant
            )
            out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
            on_sink = int(torch.isin(out.position, sinks).sum())
            print(
                f"{method:<10} {'on' if use_stop else 'off':<5} {cfg.mu_s:>5.2f} {cfg.mu_t:>5.2f} "
                f"{out.kept:>5} {on_sink:>9}"
            )


if __name__ == "__main__":
    main()

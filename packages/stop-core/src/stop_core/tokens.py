"""The two data containers of the pruning API: the video tokens in, the pruned video out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from stop_core.combination import TokenCombination
from stop_core.errors import check_tensor

GridNewlines = Literal["every_row", "nonempty_rows", "none"]


@dataclass(frozen=True)
class VideoTokens:
    """Pooled visual tokens of one video, as a backbone adapter hands them to ``prune``.

    ``features`` ``[T, S, D]`` are the projected tokens the LLM would see, ``attention``
    ``[T, S]`` the attention each token receives in the chosen vision layer, ``keys``
    ``[T, S, dk]`` that layer's keys (VisionZip), ``frame_embeddings`` ``[T, G]`` one vector
    per frame (FastVID), and ``grid = (h, w)`` with ``h * w == S`` (row-major positions).
    """

    features: torch.Tensor
    attention: torch.Tensor | None = None
    keys: torch.Tensor | None = None
    frame_embeddings: torch.Tensor | None = None
    grid: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        feats = check_tensor("features", self.features, ndim=3)
        t, s, _ = feats.shape
        if t < 1:
            raise ValueError(f"features has zero frames (shape {tuple(feats.shape)})")
        if s < 1:
            raise ValueError(f"features has zero tokens per frame (shape {tuple(feats.shape)})")
        if self.attention is not None:
            att = check_tensor("attention", self.attention, ndim=2)
            if tuple(att.shape) != (t, s):
                raise ValueError(
                    f"attention shape {tuple(att.shape)} does not match features [T, S] = {(t, s)}"
                )
        if self.keys is not None:
            keys = check_tensor("keys", self.keys, ndim=3)
            if tuple(keys.shape[:2]) != (t, s):
                raise ValueError(
                    f"keys shape {tuple(keys.shape)} does not match features [T, S, *] = {(t, s)}"
                )
        if self.frame_embeddings is not None:
            emb = check_tensor("frame_embeddings", self.frame_embeddings, ndim=2)
            if emb.shape[0] != t:
                raise ValueError(
                    f"frame_embeddings shape {tuple(emb.shape)} does not have T = {t} rows"
                )
        grid = self.grid
        if grid is None:
            side = round(s**0.5)
            if side * side != s:
                raise ValueError(f"grid must be given: S = {s} tokens per frame is not a square")
            grid = (side, side)
        if len(grid) != 2 or any(int(g) < 1 for g in grid):
            raise ValueError(f"grid must be (h, w) with positive sides, got {grid}")
        grid = (int(grid[0]), int(grid[1]))
        if grid[0] * grid[1] != s:
            raise ValueError(f"grid {grid} has {grid[0] * grid[1]} cells but S = {s}")
        object.__setattr__(self, "grid", grid)

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.features.shape[0])

    @property
    def tokens_per_frame(self) -> int:
        """Number of tokens per frame ``S``."""
        return int(self.features.shape[1])

    @property
    def hw(self) -> tuple[int, int]:
        """The grid ``(h, w)`` (always set after construction)."""
        assert self.grid is not None
        return self.grid


@dataclass(frozen=True)
class PrunedVideo:
    """What ``prune`` returns: the kept (or merged) tokens in the order the LLM must see them.

    ``frame_index``/``position`` give each token's frame and ``row * w + col`` cell (merged
    tokens: where they are placed). ``requested`` is the user's budget
    ``round(retention * T * S)``, ``kept`` the delivered count; ``info`` explains any
    difference and holds method details. ``grid_newlines`` and ``layout_position`` describe
    how the reference grid layout of this method places the tokens (see ``lay_out``).
    ``combination`` says how each token was formed from the input tokens (``apply``).
    """

    features: torch.Tensor
    frame_index: torch.Tensor
    position: torch.Tensor
    requested: int
    kept: int
    grid: tuple[int, int]
    num_frames: int
    method: str
    variant: str
    info: dict[str, Any] = field(default_factory=dict)
    grid_newlines: GridNewlines = "nonempty_rows"
    layout_position: torch.Tensor | None = None
    combination: TokenCombination | None = None

    def __post_init__(self) -> None:
        n = self.features.shape[0]
        if self.frame_index.shape != (n,) or self.position.shape != (n,):
            raise ValueError(
                f"frame_index {tuple(self.frame_index.shape)} and position "
                f"{tuple(self.position.shape)} must both be [{n}]"
            )
        if self.kept != n:
            raise ValueError(f"kept = {self.kept} but {n} tokens were returned")
        if self.combination is not None and self.combination.num_outputs != n:
            raise ValueError(
                f"combination makes {self.combination.num_outputs} tokens but {n} were returned"
            )

    def apply(self, side: torch.Tensor) -> torch.Tensor:
        """Prune a per-token tensor ``[T, S, D']`` exactly as the features were: ``[N, D']``.

        Selected tokens are copied, merged tokens combined with the same sources and weights,
        so ``apply(tokens.features)`` reproduces ``features``.
        """
        if self.combination is None:
            raise NotImplementedError(
                f"method {self.method!r} did not record how its tokens were formed"
            )
        t, (h, w) = self.num_frames, self.grid
        if side.dim() != 3 or tuple(side.shape[:2]) != (t, h * w):
            raise ValueError(
                f"side tensor shape {tuple(side.shape)} does not match [T, S, *] = {(t, h * w)}"
            )
        return self.combination.apply(side)

    @property
    def global_index(self) -> torch.Tensor:
        """``frame * S + position`` for every token."""
        return self.frame_index * (self.grid[0] * self.grid[1]) + self.position

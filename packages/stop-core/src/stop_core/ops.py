"""Tensor operations shared by several methods: budgets, density peaks, output assembly."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from stop_core.combination import TokenCombination
from stop_core.tokens import GridNewlines, PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig

DENSITY_NOISE = 1e-6
CDIST_DIRECT_MAX = 25  # torch.cdist computes exact differences up to this many rows


def requested_tokens(num_frames: int, tokens_per_frame: int, retention_ratio: float) -> int:
    """The user's budget: ``round(retention * T * S)`` (half up), at least one token."""
    return max(1, math.floor(retention_ratio * num_frames * tokens_per_frame + 0.5))


def l2_normalize(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``x / ||x||`` along ``dim`` with a tiny floor, as ``torch.nn.functional.normalize``."""
    return torch.nn.functional.normalize(x, dim=dim)


def pairwise_distance(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``[..., N, N]`` scaled by ``1/sqrt(width)`` (the DPC-kNN metric)."""
    return self_cdist(x) / math.sqrt(x.shape[-1])


def self_cdist(x: torch.Tensor) -> torch.Tensor:
    """``torch.cdist(x, x)`` bit for bit, with the squared norms computed once, not twice.

    Above ``CDIST_DIRECT_MAX`` rows cdist multiplies ``[-2x, |x|^2, 1]`` by ``[x, 1, |x|^2]``,
    batched ``[B, N, D]``, as here for token-major ``x`` (the methods' gathered rows); fewer
    rows (exact differences) or another layout (whose norms round otherwise) call cdist itself.
    """
    n, d = x.shape[-2:]
    if n <= CDIST_DIRECT_MAX or not x.is_contiguous():
        return torch.cdist(x, x)
    rows = x.view(-1, n, d)
    norm = rows.pow(2).sum(-1, keepdim=True)
    ones = torch.ones_like(norm)
    left = torch.cat([rows.mul(-2), norm, ones], -1)
    right = torch.cat([rows, ones, norm], -1)
    dist = torch.bmm(left, right.mT).clamp_min_(0).sqrt_()
    return dist.view(*x.shape[:-2], n, n)


def density_peak_score(
    dist: torch.Tensor,
    k: int,
    generator: torch.Generator,
    noise: float = DENSITY_NOISE,
) -> torch.Tensor:
    """DPC-kNN score ``delta * density`` per token from distances ``[B, N, N]``.

    Density is ``exp(-mean of the k smallest squared distances)`` (self included) plus a
    uniform tie-breaking draw of ``noise`` from ``generator``; ``delta`` is the distance to
    the nearest denser token, or the largest distance in the batch element for the densest.
    """
    density = density_knn(dist, k, generator, noise)
    return density * distance_to_denser(dist, density)


def density_knn(
    dist: torch.Tensor, k: int, generator: torch.Generator, noise: float = DENSITY_NOISE
) -> torch.Tensor:
    """``exp(-mean_k d^2)`` over the ``k`` nearest tokens (self included) plus noise, ``[B, N]``."""
    nearest = torch.topk(dist, k, dim=-1, largest=False).values
    density = (-(nearest**2).mean(dim=-1)).exp()
    draw = torch.rand(
        density.shape, generator=generator, dtype=density.dtype, device=generator.device
    )
    return density + draw.to(density.device) * noise


def distance_to_denser(dist: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """For each token, the distance to the nearest denser token (else the batch's max distance)."""
    denser = (density[:, None, :] > density[:, :, None]).to(dist.dtype)
    dist_max = dist.flatten(1).max(dim=-1).values[:, None, None]
    return (dist * denser + dist_max * (1 - denser)).min(dim=-1).values


def finish(
    tokens: VideoTokens,
    cfg: PruningConfig,
    features: torch.Tensor,
    frame_index: torch.Tensor,
    position: torch.Tensor,
    info: dict[str, Any],
    *,
    grid_newlines: GridNewlines = "nonempty_rows",
    layout_position: torch.Tensor | None = None,
    budget_note: str | None = None,
    combination: TokenCombination,
) -> PrunedVideo:
    """Assemble a ``PrunedVideo`` in the input dtype/device with budget accounting.

    A method whose delivered count differs from ``requested`` must say why in
    ``budget_note``; it is stored as ``info["budget_explanation"]``. ``combination`` (required,
    so no method can leave it out) records how each output token was formed from the inputs
    (``PrunedVideo.apply``); it must read ``T * S`` inputs and make one row per feature.
    """
    t, s = tokens.num_frames, tokens.tokens_per_frame
    requested = requested_tokens(t, s, cfg.retention_ratio)
    kept = int(features.shape[0])
    info = dict(info)
    if kept != requested:
        if budget_note is None:
            raise RuntimeError(
                f"{cfg.method} delivered {kept} tokens for a budget of {requested} without "
                "explaining the difference"
            )
        info["budget_explanation"] = budget_note
    if combination.num_inputs != t * s or combination.num_outputs != kept:
        raise RuntimeError(
            f"{cfg.method}: combination maps {combination.num_inputs} inputs to "
            f"{combination.num_outputs} tokens, expected {t * s} inputs to {kept} tokens"
        )
    src = tokens.features
    return PrunedVideo(
        features=features.to(dtype=src.dtype, device=src.device),
        frame_index=frame_index.to(device=src.device, dtype=torch.long),
        position=position.to(device=src.device, dtype=torch.long),
        requested=requested,
        kept=kept,
        grid=tokens.hw,
        num_frames=t,
        method=cfg.method,
        variant=cfg.variant,
        info=info,
        grid_newlines=grid_newlines,
        layout_position=None if layout_position is None else layout_position.to(src.device),
        combination=_on_device(combination, src.device),
    )


def _on_device(comb: TokenCombination, device: torch.device) -> TokenCombination:
    """``comb`` with its tensors on ``device``."""
    return TokenCombination(
        comb.row.to(device),
        comb.col.to(device),
        comb.weight.to(device),
        comb.num_outputs,
        comb.num_inputs,
    )


def selection(tokens: VideoTokens, global_index: torch.Tensor) -> TokenCombination:
    """The combination of a pure selection of the tokens at ``global_index``."""
    return TokenCombination.selection(global_index, tokens.num_frames * tokens.tokens_per_frame)


def group_sum(values: torch.Tensor, group: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Row sums of ``values [P, D]`` per ``group [P]`` (ids ``>= num_groups`` are dropped).

    O(P * D) and the same bits on every run (``add_rows_``), unlike a one-hot matmul's
    O(P * num_groups * D).
    """
    out = values.new_zeros(num_groups + 1, *values.shape[1:])
    add_rows_(out, group.clamp(max=num_groups), values)  # dropped rows land in a spare row
    return out[:num_groups]


def add_rows_(target: torch.Tensor, index: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``target[index[i]] += values[i]`` in place, with the same bits on every run.

    The CPU's ``index_add_`` adds the rows one after another in ``index`` order; on CUDA,
    ``index_put_(accumulate=True)`` sorts the ids and adds each target row's values in that
    order (no atomics), unlike CUDA's ``index_add_``.
    """
    if target.is_cuda:
        return target.index_put_((index,), values, accumulate=True)
    return target.index_add_(0, index, values)


def gather_global(tokens: VideoTokens, global_index: torch.Tensor) -> torch.Tensor:
    """Features of the tokens at ``frame * S + position`` (a ``[N]`` long tensor).

    Only those rows are copied: a whole-video ``reshape`` would copy channel-major input.
    """
    s = tokens.features.shape[1]
    index = global_index.to(tokens.features.device)
    return tokens.features[index // s, index % s]

"""Attention statistics the backbone adapters share: column sums of a row softmax."""

from __future__ import annotations

import torch


def softmax_column_sums(logits: torch.Tensor) -> torch.Tensor:
    """``[B, R, K]`` float32 logits -> ``[B, K]``: sum over the R rows of ``softmax(row)``.

    This is the attention each key receives, summed over queries (and heads, when they are
    folded into R). Overwrites ``logits``: ``E = exp(logits - rowmax)`` is formed in place and
    the column sums of ``E / z`` (``z`` = row sums) are the product ``(1/z) E``, so no
    normalised copy of the matrix is made.
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be [B, R, K], got shape {tuple(logits.shape)}")
    if logits.dtype != torch.float32:
        raise ValueError(f"logits must be float32 (they are overwritten), got {logits.dtype}")
    logits.sub_(logits.amax(dim=-1, keepdim=True)).exp_()
    inverse = logits.sum(dim=-1).reciprocal_().unsqueeze(1)  # [B, 1, R]
    return torch.bmm(inverse, logits).squeeze(1)


def received_attention(
    q: torch.Tensor, k: torch.Tensor, bounds: list[int], scale: float, max_chunk: int = 1024
) -> torch.Tensor:
    """Attention each token receives inside its chunk, mean over heads and queries: ``[N]``.

    ``q``/``k`` ``[N, heads, hd]`` are a vision block's rotated queries and keys, ``bounds``
    the cumulative chunk boundaries (``cu_seqlens``: windows or temporal slices). A chunk's
    softmax runs ``max_chunk`` queries at a time (memory ``heads * max_chunk * chunk_len``).
    Shared by the transformers and the vLLM captures so both reduce attention alike.
    """
    n, heads = q.shape[0], q.shape[1]
    received = torch.zeros(n, dtype=torch.float32, device=q.device)
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        if e <= s:
            continue
        kc = k[s:e].transpose(0, 1)  # [heads, L, hd]
        total = torch.zeros(e - s, dtype=torch.float32, device=q.device)
        for qs in range(s, e, max_chunk):
            qe = min(e, qs + max_chunk)
            qc = q[qs:qe].transpose(0, 1)
            logits = (torch.matmul(qc, kc.transpose(-1, -2)) * scale).float()
            total += softmax_column_sums(logits.view(1, -1, e - s))[0]
        received[s:e] = total / (heads * (e - s))
    return received

"""Attention capture on one SigLIP layer under sdpa: hooks on its q/k projections.

SigLIP has no rotary embedding, so ``softmax(q k^T * scale)`` from the projections is exactly
the layer's attention. It is reduced on the fly to the attention each patch *receives* (mean
over heads, then over queries), a few frames at a time, so the full
``[frames, heads, N, N]`` tensor never exists; the keys are kept averaged over heads.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from stop_core.attention import softmax_column_sums


class SiglipAttentionCapture:
    """Forward hooks on ``attn.q_proj``/``attn.k_proj``; results in ``received`` and ``keys``.

    ``received`` is ``[F, N]`` float32 (rows sum to 1), ``keys`` ``[F, N, head_dim]`` float32.
    ``chunk_frames`` bounds the memory of the reduction to ``chunk * heads * N * N`` floats.
    ``reduce_dtype`` (default: the tower's dtype, as the reference computes it) may be
    ``torch.float32`` to reduce half-precision q/k exactly, e.g. where half-precision
    element-wise work is slow (CPUs).
    """

    def __init__(
        self,
        attn: nn.Module,
        *,
        chunk_frames: int = 2,
        keep_keys: bool = True,
        reduce_dtype: torch.dtype | None = None,
    ) -> None:
        for name in ("q_proj", "k_proj", "num_heads", "head_dim", "scale"):
            if not hasattr(attn, name):
                raise TypeError(f"{type(attn).__name__} is not a SigLIP attention (no {name!r})")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        self.attn = attn
        check_reduce_dtype(reduce_dtype, "reduce_dtype")
        self.chunk_frames = chunk_frames
        self.keep_keys = keep_keys
        self.reduce_dtype = reduce_dtype
        self._q: torch.Tensor | None = None
        self._received: list[torch.Tensor] = []
        self._keys: list[torch.Tensor] = []
        self.seconds = 0.0
        self._handles = [
            attn.q_proj.register_forward_hook(self._on_q),
            attn.k_proj.register_forward_hook(self._on_k),
        ]

    def _on_q(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        self._q = output.detach()

    def _on_k(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if self._q is None:
            raise RuntimeError("k_proj ran before q_proj: unsupported attention layout")
        q, k = self._q, output.detach()
        self._q = None
        if k.is_cuda:  # earlier layers' queued work is not the capture's time
            torch.cuda.synchronize(k.device)
        start = time.perf_counter()
        heads = self.attn.num_heads
        self._received.append(
            attention_received(
                q, k, heads, self.attn.scale, self.chunk_frames, dtype=self.reduce_dtype
            )
        )
        if self.keep_keys:
            f, n, _ = k.shape
            self._keys.append(k.view(f, n, heads, -1).float().mean(dim=2))
        if k.is_cuda:
            torch.cuda.synchronize(k.device)
        self.seconds += time.perf_counter() - start

    @property
    def received(self) -> torch.Tensor:
        """``[F, N]`` attention received per patch over every forward since construction."""
        if not self._received:
            raise RuntimeError("no forward pass went through the captured layer")
        return torch.cat(self._received)

    @property
    def keys(self) -> torch.Tensor:
        """``[F, N, head_dim]`` keys averaged over heads."""
        if not self._keys:
            raise RuntimeError("no keys captured (keep_keys=False or no forward pass)")
        return torch.cat(self._keys)

    def remove(self) -> None:
        """Remove both hooks (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._q = None


def check_reduce_dtype(dtype: torch.dtype | None, name: str) -> None:
    """The capture reduces in the tower's dtype (None) or in float32; nothing else."""
    if dtype not in (None, torch.float32):
        raise ValueError(f"{name} must be None or torch.float32, got {dtype}")


def attention_received(
    q: torch.Tensor,
    k: torch.Tensor,
    num_heads: int,
    scale: float,
    chunk_frames: int = 2,
    *,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``[F, N]`` mean over heads then queries of ``softmax(q k^T * scale)``, chunked over F.

    Half-precision inputs follow the reference tower (float32 softmax cast back to the query
    dtype before averaging); float32 inputs take an exact, cheaper route (``_received_f32``).
    ``dtype=torch.float32`` upcasts half-precision q/k chunk by chunk and takes that route.
    """
    f, n, c = q.shape
    head_dim = c // num_heads
    work = dtype or q.dtype
    out = torch.empty(f, n, dtype=torch.float32, device=q.device)
    for start in range(0, f, chunk_frames):
        stop = min(f, start + chunk_frames)
        qc = q[start:stop].to(work).reshape(stop - start, n, num_heads, head_dim).transpose(1, 2)
        kc = k[start:stop].to(work).reshape(stop - start, n, num_heads, head_dim).transpose(1, 2)
        if work == torch.float32:
            out[start:stop] = _received_f32(qc, kc, scale)
            continue
        logits = torch.matmul(qc, kc.transpose(-1, -2)) * scale
        probs = torch.softmax(logits, dim=-1, dtype=torch.float32).to(q.dtype)
        out[start:stop] = probs.float().mean(dim=1).mean(dim=1)
    return out


def _received_f32(qc: torch.Tensor, kc: torch.Tensor, scale: float) -> torch.Tensor:
    """Mean over heads and queries of the softmax for ``[c, H, N, d]`` float32 q/k.

    Scaling q before the product (not the ``N x N`` logits) and the in-place column sums make
    this 1.6x faster than softmax + two means on so400m shapes; it agrees to ~1e-8.
    """
    c, heads, n, _ = qc.shape
    logits = torch.matmul(qc * scale, kc.transpose(-1, -2))
    return softmax_column_sums(logits.view(c, heads * n, n)) / (heads * n)

"""Attention capture on one vision block of vLLM's Qwen-VL towers (a forward pre-hook).

The hook sees what the block's ``Qwen2_5_VisionAttention`` receives (normalised hidden states,
``cu_seqlens``, the rotary tables), recomputes q/k with the block's own projection and rotary
op, and reduces each chunk with ``stop_core.attention.received_attention`` -- the reduction
the transformers adapters use -- so both read the same attention from the same block.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from stop_core.attention import received_attention


class VisionAttentionCapture:
    """Pre-hook on one vLLM Qwen-VL vision attention: ``received`` ``[N]``, ``keys`` ``[N, hd]``.

    Per patch, in the tower's order, float32; keys are pre-rotary and averaged over heads.
    """

    def __init__(self, attn: nn.Module, *, keep_keys: bool, max_chunk: int = 1024) -> None:
        for name in ("qkv", "apply_rotary_emb", "num_attention_heads_per_partition"):
            if not hasattr(attn, name):
                raise TypeError(f"{type(attn).__name__} is not a vLLM Qwen-VL vision attention")
        if getattr(attn, "tp_size", 1) != 1:
            raise NotImplementedError(
                "reading vision attention needs all heads on one rank; the vision tower is "
                f"split over {attn.tp_size} tensor-parallel ranks (use scorer='norm', or "
                "--mm-encoder-tp-mode data)"
            )
        self.keep_keys = keep_keys
        self.max_chunk = max_chunk
        self.received: list[torch.Tensor] = []
        self.keys: list[torch.Tensor] = []
        self._handle = attn.register_forward_pre_hook(self._pre, with_kwargs=True)

    @torch.no_grad()
    def _pre(self, module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        x = args[0] if args else kwargs["x"]
        cu = kwargs["cu_seqlens"]
        cos, sin = kwargs.get("rotary_pos_emb_cos"), kwargs.get("rotary_pos_emb_sin")
        qkv, _ = module.qkv(x)  # [s, b, 3 * heads * hd]
        length, batch = qkv.shape[:2]
        if batch != 1:
            raise NotImplementedError(f"vision batch of {batch} sequences is not supported")
        heads = module.num_attention_heads_per_partition
        parts = qkv.view(length, batch, 3, heads, -1).permute(1, 0, 2, 3, 4)
        q, k = parts[:, :, 0], parts[:, :, 1]  # [b, s, heads, hd]
        if self.keep_keys:
            self.keys.append(k[0].float().mean(dim=1))
        if cos is not None and sin is not None:
            rotated = module.apply_rotary_emb(torch.cat([q, k]).contiguous(), cos, sin)
            q, k = rotated[:batch], rotated[batch:]
        scale = q.shape[-1] ** -0.5
        self.received.append(received_attention(q[0], k[0], cu.tolist(), scale, self.max_chunk))

    def remove(self) -> None:
        """Remove the hook (idempotent)."""
        self._handle.remove()

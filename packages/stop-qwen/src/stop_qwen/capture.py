"""Attention capture on one Qwen2.5-VL or Qwen3-VL vision block under sdpa (a forward pre-hook).

The hook sees the block attention's inputs (normalised hidden states, ``cu_seqlens`` and the
vision rotary embedding), recomputes q/k exactly as the block does, and reduces each attention
chunk (a window, or one temporal slice for full-attention blocks) to the attention every patch
*receives* (mean over heads, then over the chunk's queries). Tokens inside the tower are in
window order (Qwen2.5-VL; Qwen3-VL has no windows, so that order is the identity);
``stop_core.scoring.merge_to_tokens`` maps patch scores to merged tokens in the original
order. Both models' vision attention have the same ``qkv``/rotary layout, and their
``apply_rotary_pos_emb_vision`` is the same formula; the hook uses the one of the module's
own model. The reduction itself is ``stop_core.attention.received_attention``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl

from stop_core.attention import received_attention
from stop_core.scoring import merge_to_tokens  # noqa: F401 - re-exported by stop_qwen


class QwenVisionAttentionCapture:
    """Pre-hook on one Qwen-VL vision attention; ``received`` ``[N]``, ``keys`` ``[N, hd]``.

    Both are per patch, in the tower's window order, float32. ``max_chunk`` bounds how many
    queries of a chunk are processed at once (memory ``heads * max_chunk * chunk_len``).
    """

    def __init__(self, attn: nn.Module, *, keep_keys: bool = True, max_chunk: int = 1024) -> None:
        for name in ("qkv", "num_heads", "scaling"):
            if not hasattr(attn, name):
                raise TypeError(f"{type(attn).__name__} is not a Qwen-VL vision attention")
        self.attn = attn
        self.rotary = rotary_for(attn)
        self.keep_keys = keep_keys
        self.max_chunk = max_chunk
        self.seconds = 0.0
        self._received: list[torch.Tensor] = []
        self._keys: list[torch.Tensor] = []
        self._handle = attn.register_forward_pre_hook(self._pre, with_kwargs=True)

    @torch.no_grad()
    def _pre(self, module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        hidden = args[0] if args else kwargs["hidden_states"]
        if hidden.is_cuda:  # earlier blocks' queued work is not the capture's time
            torch.cuda.synchronize(hidden.device)
        start = time.perf_counter()
        cu = kwargs["cu_seqlens"] if "cu_seqlens" in kwargs else args[1]
        cos, sin = kwargs["position_embeddings"]
        n = hidden.shape[0]
        heads = module.num_heads
        q, k, _ = module.qkv(hidden).reshape(n, 3, heads, -1).permute(1, 0, 2, 3).unbind(0)
        if self.keep_keys:
            self._keys.append(k.float().mean(dim=1))
        q, k = self.rotary(q, k, cos, sin)
        received = received_attention(q, k, cu.tolist(), module.scaling, self.max_chunk)
        self._received.append(received)
        if hidden.is_cuda:
            torch.cuda.synchronize(hidden.device)
        self.seconds += time.perf_counter() - start

    @property
    def received(self) -> torch.Tensor:
        """``[N]`` attention received per patch (window order) of the last forward."""
        if not self._received:
            raise RuntimeError("no forward pass went through the captured vision block")
        return self._received[-1]

    @property
    def keys(self) -> torch.Tensor:
        """``[N, head_dim]`` pre-rotary keys averaged over heads (window order)."""
        if not self._keys:
            raise RuntimeError("no keys captured (keep_keys=False or no forward pass)")
        return self._keys[-1]

    def remove(self) -> None:
        """Remove the hook (idempotent)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


def rotary_for(attn: nn.Module) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """The ``apply_rotary_pos_emb_vision`` of the modeling module ``attn`` comes from."""
    module = sys.modules.get(type(attn).__module__)
    rotary = getattr(module, "apply_rotary_pos_emb_vision", None)
    return rotary if rotary is not None else modeling_qwen2_5_vl.apply_rotary_pos_emb_vision

"""Analytic FLOPs (multiply-add = 2 FLOPs): a decoder's prefill and the attention capture."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecoderShape:
    """The sizes that decide a Qwen2/LLaMA-style decoder's compute."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int

    @property
    def head_dim(self) -> int:
        """Per-head width."""
        return self.hidden // self.heads


def prefill_flops(shape: DecoderShape, tokens: int, logits_kept: int = 1) -> int:
    """FLOPs to prefill ``tokens`` tokens and compute ``logits_kept`` rows of logits.

    Per layer: q/o projections ``2 * 2*L*d*d``, k/v projections ``2 * 2*L*d*kv_dim``, attention
    scores and the weighted sum ``2 * 2*L*L*d`` (dense, no causal saving: sdpa computes the
    full block), SwiGLU MLP ``3 * 2*L*d*ff``; plus the LM head on the kept rows.
    Norms, rotary embeddings and softmax are omitted (lower order).
    """
    length, d = tokens, shape.hidden
    kv_dim = shape.kv_heads * shape.head_dim
    projections = 2 * length * d * (2 * d + 2 * kv_dim)
    attention = 2 * 2 * length * length * d
    mlp = 2 * length * d * shape.intermediate * 3
    return shape.layers * (projections + attention + mlp) + 2 * logits_kept * d * shape.vocab


def decoder_shape(text_config: object) -> DecoderShape:
    """Read the shape from a transformers text config (Qwen2-style field names)."""
    return DecoderShape(
        hidden=text_config.hidden_size,  # type: ignore[attr-defined]
        layers=text_config.num_hidden_layers,  # type: ignore[attr-defined]
        heads=text_config.num_attention_heads,  # type: ignore[attr-defined]
        kv_heads=text_config.num_key_value_heads,  # type: ignore[attr-defined]
        intermediate=text_config.intermediate_size,  # type: ignore[attr-defined]
        vocab=text_config.vocab_size,  # type: ignore[attr-defined]
    )


def capture_flops(frames: int, tokens: int, hidden: int, heads: int) -> int:
    """FLOPs of the exact attention capture on one vision layer (per frame: N x N scores).

    The score matrix ``q k^T`` of every head (``2*N*N*hidden`` per frame, as heads x head_dim
    = hidden) plus its column sums (``2*heads*N*N``); this is work the layer's own fused
    attention does not expose, so it is the capture's floor. Exponentials are omitted.
    """
    per_frame = 2 * tokens * tokens * hidden + 2 * heads * tokens * tokens
    return frames * per_frame

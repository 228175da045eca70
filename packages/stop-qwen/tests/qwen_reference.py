"""Independent recomputation of the pruned Qwen2.5-VL input, for checking the adapter."""

from __future__ import annotations

import torch
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    apply_rotary_pos_emb_vision,
    eager_attention_forward,
)
from transformers.vision_utils import get_vision_window_index

from stop_core import PruningConfig, VideoTokens, prune
from stop_qwen.scoring import normalize_per_frame


class BlockRecorder:
    """Records the inputs and the output of one vision attention module."""

    def __init__(self, attn) -> None:
        self.attn = attn
        self.inputs: dict = {}
        self.output: torch.Tensor | None = None
        self.handles = [
            attn.register_forward_pre_hook(self._pre, with_kwargs=True),
            attn.register_forward_hook(self._post),
        ]

    def _pre(self, module, args, kwargs) -> None:
        self.inputs = {"hidden": args[0] if args else kwargs["hidden_states"], **kwargs}

    def _post(self, module, args, output) -> None:
        self.output = output

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


@torch.no_grad()
def eager_block(
    attn, inputs: dict, rotary=apply_rotary_pos_emb_vision, attention=eager_attention_forward
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-patch attention received, pre-rotary keys (mean over heads) and the block output.

    ``rotary``/``attention`` are the modeling functions of the block's model (Qwen2.5-VL's by
    default).
    """
    hidden, cu = inputs["hidden"], inputs["cu_seqlens"]
    cos, sin = inputs["position_embeddings"]
    n = hidden.shape[0]
    q, k, v = attn.qkv(hidden).reshape(n, 3, attn.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    keys = k.mean(dim=1)
    q, k = rotary(q, k, cos, sin)
    received = torch.zeros(n)
    outs = []
    for s, e in zip(cu[:-1].tolist(), cu[1:].tolist(), strict=True):
        qs, ks, vs = (x[s:e].transpose(0, 1)[None] for x in (q, k, v))
        out, weights = attention(attn, qs, ks, vs, None, scaling=attn.scaling)
        received[s:e] = weights[0].mean(dim=0).mean(dim=0)
        outs.append(out[0].reshape(e - s, -1))
    return received, keys, attn.proj(torch.cat(outs))


@torch.no_grad()
def reference_tokens(model, inputs: dict, block: int) -> list[VideoTokens]:
    """VideoTokens of every video from an eager recomputation of ``block``."""
    grid = inputs["video_grid_thw"]
    attn = model.model.visual.blocks[block].attn
    rec = BlockRecorder(attn)
    try:
        feats = model.model.get_video_features(inputs["pixel_values_videos"], grid).pooler_output
    finally:
        rec.remove()
    received, keys, _ = eager_block(attn, rec.inputs)
    vision = model.config.vision_config
    window_index, _ = get_vision_window_index(grid, 2, vision.window_size, vision.patch_size)
    order = torch.argsort(window_index)
    received = received.view(-1, 4).mean(dim=1)[order]
    keys = keys.view(-1, 4, keys.shape[-1]).mean(dim=1)[order]
    out, offset = [], 0
    for v, (t, h, w) in enumerate(grid.tolist()):
        s = (h // 2) * (w // 2)
        att = normalize_per_frame(received[offset : offset + t * s].view(t, s))
        x = feats[v].view(t, s, -1)
        out.append(
            VideoTokens(
                features=x,
                attention=att,
                keys=keys[offset : offset + t * s].view(t, s, -1),
                frame_embeddings=x.mean(dim=1),
                grid=(h // 2, w // 2),
            )
        )
        offset += t * s
    return out


@torch.no_grad()
def manual_first_logits(model, inputs: dict, cfg: PruningConfig, block: int, pad_id: int):
    """Logits of a forward with kept embeddings at their original M-RoPE positions."""
    videos = reference_tokens(model, inputs, block)
    pruned = [prune(t, cfg, generator=torch.Generator().manual_seed(0)) for t in videos]
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    pos3, _ = model.model.get_rope_index(
        ids,
        inputs["mm_token_type_ids"],
        video_grid_thw=inputs["video_grid_thw"],
        second_per_grid_ts=inputs["second_per_grid_ts"],
        attention_mask=mask,
    )
    video_id = model.config.video_token_id
    rows = []
    for b in range(ids.shape[0]):
        cols = (mask[b] == 1).nonzero().flatten()
        is_video = ids[b, cols] == video_id
        first = int(is_video.nonzero()[0])
        n_video = int(is_video.sum())
        keep = torch.cat(
            [cols[:first], cols[first + pruned[b].global_index], cols[first + n_video :]]
        )
        rows.append(keep)
    width = max(r.numel() for r in rows)
    new_ids = torch.full((len(rows), width), pad_id)
    new_mask = torch.zeros((len(rows), width), dtype=torch.long)
    pos = torch.zeros((4, len(rows), width), dtype=torch.long)
    for b, keep in enumerate(rows):
        n = keep.numel()
        new_ids[b, width - n :] = ids[b, keep]
        new_mask[b, width - n :] = 1
        pos[0, b, width - n :] = torch.arange(n)
        pos[1:, b, width - n :] = pos3[:, b, keep]
    embeds = model.get_input_embeddings()(new_ids)
    embeds[new_ids == video_id] = torch.cat([p.features for p in pruned])
    logits = model(inputs_embeds=embeds, attention_mask=new_mask, position_ids=pos).logits[:, -1]
    return logits, new_ids, pos

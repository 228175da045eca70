"""An independent re-computation of the pruned LLaVA input, for checking the adapter.

It uses eager ``output_attentions`` instead of hooks, recomputes keys from the layer input,
and splices the laid-out tokens into ``inputs_embeds`` by hand.
"""

from __future__ import annotations

import torch

from stop_core import PruningConfig, VideoTokens, lay_out, prune
from stop_llava.pooling import pool_2d, pooled_grid

LAYOUTS = {"llava_ov": ("bilinear", "one_token"), "llava_video": ("average", "grid")}


@torch.no_grad()
def eager_vision(model, pixel_values_videos: torch.Tensor) -> dict[str, torch.Tensor]:
    """Last-layer attention received, keys (mean over heads), input/output hidden states."""
    inner = model.model
    flat = pixel_values_videos.flatten(0, 1)
    model.set_attn_implementation("eager")
    try:
        out = inner.vision_tower(flat, output_attentions=True, output_hidden_states=True)
    finally:
        model.set_attn_implementation("sdpa")
    layer_index = len(out.attentions) - 1
    layer = inner.vision_tower.encoder.layers[layer_index]
    attn = layer.self_attn
    k = attn.k_proj(layer.layer_norm1(out.hidden_states[layer_index]))
    f, n, _ = k.shape
    keys = k.view(f, n, attn.num_heads, -1).mean(dim=2)
    return {
        "probs": out.attentions[layer_index],
        "received": out.attentions[layer_index].mean(dim=1).mean(dim=1),
        "keys": keys,
        "hidden": out.hidden_states[-1],
    }


@torch.no_grad()
def reference_sequences(
    model, pixel_values_videos: torch.Tensor, cfg: PruningConfig, backbone: str, seed: int = 0
) -> list[torch.Tensor]:
    """The laid-out video segment ``[L, D]`` of every video, computed without the adapter."""
    pool, newline_mode = LAYOUTS[backbone]
    vision = eager_vision(model, pixel_values_videos)
    n_videos, frames = pixel_values_videos.shape[:2]
    side = round(vision["received"].shape[1] ** 0.5)
    grid = pooled_grid(side, pool)
    projected = model.model.multi_modal_projector(vision["hidden"])
    feats = pool_2d(projected, side, pool).view(n_videos, frames, grid[0] * grid[1], -1)
    att = pool_2d(vision["received"][..., None], side, pool)[..., 0].view(n_videos, frames, -1)
    keys = pool_2d(vision["keys"].float(), side, pool).view(n_videos, frames, grid[0] * grid[1], -1)
    emb = vision["hidden"].float().mean(dim=1).view(n_videos, frames, -1)
    out = []
    for v in range(n_videos):
        tokens = VideoTokens(
            features=feats[v], attention=att[v], keys=keys[v], frame_embeddings=emb[v], grid=grid
        )
        pruned = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
        out.append(lay_out(pruned, model.model.image_newline.detach(), mode=newline_mode))
    return out


@torch.no_grad()
def spliced_logits(model, inputs: dict, sequences: list[torch.Tensor], video_id: int, pad_id: int):
    """Last-position logits of a manual forward on text embeddings + spliced video segments."""
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    rows = []
    for b in range(ids.shape[0]):
        real = ids[b][mask[b] == 1]
        ph = (real == video_id).nonzero().flatten()
        start, end = int(ph[0]), int(ph[-1]) + 1
        new = torch.cat([real[:start], torch.full((sequences[b].shape[0],), video_id), real[end:]])
        rows.append(new)
    width = max(r.numel() for r in rows)
    new_ids = torch.full((len(rows), width), pad_id)
    new_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, r in enumerate(rows):
        new_ids[b, width - r.numel() :] = r
        new_mask[b, width - r.numel() :] = 1
    embeds = model.get_input_embeddings()(new_ids)
    embeds[new_ids == video_id] = torch.cat(sequences).to(embeds.dtype)
    logits = model(inputs_embeds=embeds, attention_mask=new_mask).logits[:, -1]
    return logits, new_ids, new_mask

"""Independent recomputation of the pruned Qwen3-VL prefill, for checking the adapter.

Scores come from an eager recomputation of the captured block, every method runs through
``stop_core.prune``, and the sequence is written out token by token from the rule: text
columns stay (timestamps included), each temporal group's placeholders are replaced by the
kept tokens whose frame is that group (in the order ``prune`` returns them), every kept token
takes the T/H/W ids ``get_rope_index`` gives its original column, deepstack features are
``PrunedVideo.apply`` of each level. The language model is then called directly.
"""

from __future__ import annotations

import torch
from qwen_reference import BlockRecorder, eager_block
from transformers.models.qwen3_vl.modeling_qwen3_vl import (
    apply_rotary_pos_emb_vision,
    eager_attention_forward,
)

from stop_core import PruningConfig, VideoTokens, prune
from stop_qwen.scoring import normalize_per_frame


@torch.no_grad()
def block_reference(attn, inputs: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``eager_block`` with Qwen3-VL's own rotary and eager attention."""
    return eager_block(attn, inputs, apply_rotary_pos_emb_vision, eager_attention_forward)


@torch.no_grad()
def reference_tokens(model, inputs: dict, block: int):
    """``VideoTokens`` of every video and, per video, its deepstack levels ``[T, S, D']``."""
    grid = inputs["video_grid_thw"]
    attn = model.model.visual.blocks[block].attn
    rec = BlockRecorder(attn)
    try:
        out = model.model.get_video_features(inputs["pixel_values_videos"], grid)
    finally:
        rec.remove()
    received, keys, _ = block_reference(attn, rec.inputs)
    received = received.view(-1, 4).mean(dim=1)  # raster order, 4 patches per merged token
    keys = keys.view(-1, 4, keys.shape[-1]).mean(dim=1)
    videos, sides, offset = [], [], 0
    for v, (t, h, w) in enumerate(grid.tolist()):
        s = (h // 2) * (w // 2)
        x = out.pooler_output[v].view(t, s, -1)
        videos.append(
            VideoTokens(
                features=x,
                attention=normalize_per_frame(received[offset : offset + t * s].view(t, s)),
                keys=keys[offset : offset + t * s].view(t, s, -1),
                frame_embeddings=x.mean(dim=1),
                grid=(h // 2, w // 2),
            )
        )
        sides.append([level[v].view(t, s, -1) for level in out.deepstack_features])
        offset += t * s
    return videos, sides


@torch.no_grad()
def manual_prefill(model, inputs: dict, cfg: PruningConfig, block: int, pad_id: int):
    """Last-position logits of the pruned prefill, its ids and its 4-row positions."""
    videos, sides = reference_tokens(model, inputs, block)
    pruned = [prune(t, cfg, generator=torch.Generator().manual_seed(0)) for t in videos]
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    pos3, _ = model.model.get_rope_index(
        ids,
        inputs["mm_token_type_ids"],
        video_grid_thw=inputs["video_grid_thw"],
        attention_mask=mask,
    )
    video_id = model.config.video_token_id
    embed = model.get_input_embeddings()
    rows = []  # per sample: list of (column, main feature or None, deepstack list or None)
    video = 0
    for b in range(ids.shape[0]):
        row = []
        k = 0  # placeholder index inside the current video
        for c in (mask[b] == 1).nonzero().flatten().tolist():
            if int(ids[b, c]) != video_id:
                row.append((c, None, None))
                continue
            p = pruned[video]
            s = p.grid[0] * p.grid[1]
            if k % s == 0:  # first placeholder of temporal group k // s
                g = k // s
                levels = [p.apply(side) for side in sides[video]]
                for n in range(p.kept):
                    if int(p.frame_index[n]) == g:
                        column = c + int(p.position[n])
                        row.append((column, p.features[n], [lv[n] for lv in levels]))
            k += 1
            if k == p.num_frames * s:
                video, k = video + 1, 0
        rows.append(row)
    assert video == len(pruned)
    width = max(len(r) for r in rows)
    batch = len(rows)
    new_ids = torch.full((batch, width), pad_id)
    new_mask = torch.zeros((batch, width), dtype=torch.long)
    pos = torch.zeros((4, batch, width), dtype=torch.long)
    embeds = embed(new_ids)
    visual = torch.zeros((batch, width), dtype=torch.bool)
    levels_count = len(model.config.vision_config.deepstack_visual_indexes)
    deep: list[list[torch.Tensor]] = [[] for _ in range(levels_count)]
    for b, row in enumerate(rows):
        start = width - len(row)
        for j, (column, feature, levels) in enumerate(row):
            new_ids[b, start + j] = ids[b, column]
            new_mask[b, start + j] = 1
            pos[0, b, start + j] = j
            pos[1:, b, start + j] = pos3[:, b, column]
            if feature is None:
                embeds[b, start + j] = embed(ids[b, column])
            else:
                embeds[b, start + j] = feature
                visual[b, start + j] = True
                for level, value in zip(deep, levels, strict=True):
                    level.append(value)
    deepstack = [torch.stack(level) for level in deep]
    hidden = model.model.language_model(
        inputs_embeds=embeds,
        attention_mask=new_mask,
        position_ids=pos,
        visual_pos_masks=visual,
        deepstack_visual_embeds=deepstack,
    ).last_hidden_state
    logits = model.lm_head(hidden[:, -1])
    return logits, new_ids, pos, pruned, visual, deepstack

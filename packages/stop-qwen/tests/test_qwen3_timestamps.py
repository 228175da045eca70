"""Qwen3-VL timestamps: text stays, each group's run shrinks to its kept tokens, empty groups."""

from __future__ import annotations

import torch
from qwen3_reference import manual_prefill
from qwen3_testkit import GENERATE, make_inputs

from stop_core import PruningConfig
from stop_qwen import stop_pruning


def _groups(ids: torch.Tensor, tok) -> list[tuple[str, int]]:
    """``(text before, placeholder count)`` for each inner ``<|vision_start|>...<|vision_end|>``."""
    start = tok.convert_tokens_to_ids("<|vision_start|>")
    end = tok.convert_tokens_to_ids("<|vision_end|>")
    video = tok.convert_tokens_to_ids("<|video_pad|>")
    out, text, count, inside = [], [], 0, False
    for i in ids.tolist():
        if i == start:
            inside, count = True, 0
        elif i == end and inside:
            out.append((tok.decode(text).strip(), count))
            inside, text = False, []
        elif inside and i == video:
            count += 1
        else:  # text, including the outer <|vision_start|> the chat template puts around it
            text.append(i)
    return out


def _run(model, inputs, cfg):
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        out = model.generate(**inputs, **GENERATE)
    return out, adapter


def test_text_and_timestamps_stay_and_runs_shrink(qwen3_model, qwen3_processor) -> None:
    tok = qwen3_processor.tokenizer
    inputs = make_inputs(qwen3_processor, 2)
    cfg = PruningConfig.preset("uniform", backbone="qwen3_vl", retention_ratio=0.4)
    out, adapter = _run(qwen3_model, inputs, cfg)
    video = qwen3_model.config.video_token_id
    prompt_len = out.sequences.shape[1] - GENERATE["max_new_tokens"]
    _, _, _, pruned, _, _ = manual_prefill(
        qwen3_model, inputs, cfg, adapter.block, tok.pad_token_id
    )
    for b in range(2):
        before = inputs["input_ids"][b][inputs["attention_mask"][b] == 1]
        after = out.sequences[b, :prompt_len][out.sequences[b, :prompt_len] != tok.pad_token_id]
        # every text token, timestamps included, in the same order
        assert torch.equal(before[before != video], after[after != video])
        groups_before, groups_after = _groups(before, tok), _groups(after, tok)
        t = int(inputs["video_grid_thw"][b, 0])
        assert [g[1] for g in groups_before] == [16] * t
        assert [g[0] for g in groups_after] == [g[0] for g in groups_before]
        assert all(text.endswith("seconds>") for text, _ in groups_before)
        per_group = torch.bincount(pruned[b].frame_index, minlength=t).tolist()
        assert [g[1] for g in groups_after] == per_group


def test_group_with_no_kept_token_keeps_its_text(qwen3_model, qwen3_processor) -> None:
    tok = qwen3_processor.tokenizer
    inputs = make_inputs(qwen3_processor, 1)  # 4 groups of 16 tokens
    cfg = PruningConfig("random", retention_ratio=0.05)  # 3 tokens: some group keeps none
    out, adapter = _run(qwen3_model, inputs, cfg)
    logits, ids, pos, pruned, _, _ = manual_prefill(
        qwen3_model, inputs, cfg, adapter.block, tok.pad_token_id
    )
    counts = torch.bincount(pruned[0].frame_index, minlength=4).tolist()
    assert sum(counts) == 3 and 0 in counts
    assert adapter.accounting[0].notes["empty_groups"] == counts.count(0)
    groups = _groups(out.sequences[0, : ids.shape[1]], tok)
    assert [g[1] for g in groups] == counts
    assert all(text.endswith("seconds>") for text, _ in groups)
    assert torch.equal(out.sequences[:, : ids.shape[1]], ids)
    torch.testing.assert_close(out.logits[0], logits, atol=1e-5, rtol=1e-5)
    # text after an empty group keeps its original position ids
    start = tok.convert_tokens_to_ids("<|vision_start|>")
    empty = counts.index(0)
    opens = (ids[0] == start).nonzero().flatten().tolist()[1:]  # skip the outer one
    full_ids = inputs["input_ids"][0]
    full_pos, _ = qwen3_model.model.get_rope_index(
        inputs["input_ids"],
        inputs["mm_token_type_ids"],
        video_grid_thw=inputs["video_grid_thw"],
        attention_mask=inputs["attention_mask"],
    )
    full_opens = (full_ids == start).nonzero().flatten().tolist()[1:]
    col, full_col = opens[empty], full_opens[empty]
    assert int(ids[0, col + 1]) == tok.convert_tokens_to_ids("<|vision_end|>")
    assert torch.equal(pos[1:, 0, col], full_pos[:, 0, full_col])
    assert torch.equal(pos[1:, 0, col + 1], full_pos[:, 0, full_col + 17])

"""The real loading path: ``save_pretrained`` -> ``from_pretrained(device_map="auto")`` + SToP."""

from __future__ import annotations

import torch
from qwen_testkit import GENERATE, build_model, make_inputs
from transformers import Qwen2_5_VLForConditionalGeneration

from stop_core import PruningConfig
from stop_qwen import stop_pruning


def test_from_pretrained_with_device_map_auto(tokenizer, processor, tmp_path) -> None:
    build_model(tokenizer, seed=4).save_pretrained(tmp_path)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        tmp_path, device_map="auto", attn_implementation="sdpa"
    ).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    inputs = make_inputs(processor, 2)
    with torch.no_grad():
        ref = model.generate(**inputs, **GENERATE)
    with stop_pruning(model, PruningConfig("none")), torch.no_grad():
        same = model.generate(**inputs, **GENERATE)
    assert torch.equal(torch.stack(same.logits), torch.stack(ref.logits))
    cfg = PruningConfig.preset("fastvid", backbone="qwen2_5_vl", retention_ratio=0.25)
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        pruned = model.generate(**inputs, **GENERATE)
    assert pruned.sequences.shape[1] < ref.sequences.shape[1]
    assert all(r.kept < r.tokens_before for r in adapter.accounting)

"""FastVID frame embeddings: SigLIP head from a named checkpoint, else the recorded fallback."""

from __future__ import annotations

import torch
from llava_testkit import GENERATE, IMAGE_SIZE, make_inputs
from transformers import SiglipVisionConfig, SiglipVisionModel

from stop_core import PruningConfig
from stop_llava import load_frame_head, stop_pruning


def _siglip_with_head(path) -> SiglipVisionModel:
    torch.manual_seed(5)
    cfg = SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=14,
        vision_use_head=True,
    )
    model = SiglipVisionModel(cfg).eval()
    model.save_pretrained(path)
    return model


def test_head_loaded_from_checkpoint_is_used(model, processor, tmp_path) -> None:
    siglip = _siglip_with_head(tmp_path)
    head = load_frame_head(str(tmp_path))
    hidden = torch.randn(3, (IMAGE_SIZE // 14) ** 2, 32)
    inner = getattr(siglip, "vision_model", siglip)
    with torch.no_grad():
        expected = inner.head(inner.post_layernorm(hidden))
    torch.testing.assert_close(head(hidden), expected)
    inputs = make_inputs(processor, 1)
    cfg = PruningConfig.preset("fastvid", retention_ratio=0.3)
    with stop_pruning(model, cfg, frame_head=head) as adapter, torch.no_grad():
        with_head = model.generate(**inputs, **GENERATE)
    assert adapter.accounting[0].notes["frame_embedding"] == f"siglip_head:{tmp_path}"
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        model.generate(**inputs, **GENERATE)
    assert adapter.accounting[0].notes["frame_embedding"] == "mean_of_patch_features"
    assert with_head.sequences.shape[0] == 1


def test_model_without_head_is_rejected(tmp_path) -> None:
    import pytest

    from stop_llava import head_from_vision_model

    cfg = SiglipVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=28,
        patch_size=14,
        vision_use_head=False,
    )
    with pytest.raises(ValueError, match="no attention-pooling head"):
        head_from_vision_model(SiglipVisionModel(cfg), "x")

"""The embedded demo: a small random-weight model of each backbone, built in-process.

Nothing is downloaded: the tokenizer is trained locally on a few sentences and the weights are
random, so answers are gibberish and accuracy means nothing; the demo shows the pruning
machinery (tokens kept, prefill time). For LLaVA the demo plants four attention sinks in the
captured SigLIP layer (positions that every query attends to) so that SToP has sinks to find.
"""

from __future__ import annotations

from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

DEMO_SIZE = 384  # SigLIP's real input: 27 x 27 patches of 14 px, pooled to LLaVA's real grids
QWEN_DEMO_SIZE = 224  # Qwen2.5-VL demo frames: 16 x 16 patches, 8 x 8 merged tokens
# patch indices on the 27 x 27 grid, at rows/columns (2, 2), (4, 24), (14, 12), (22, 16): even
# rows and columns, so that bilinear (14 x 14) and 2 x 2 average (13 x 13) pooling put each in
# the same token cell
SINK_PATCHES = (56, 132, 390, 610)
SPECIALS = [
    "<unk>",
    "<pad>",
    "<|im_start|>",
    "<|im_end|>",
    "<image>",
    "<video>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
CORPUS = [
    "system you are a helpful assistant",
    "user what happens in the video? answer yes or no",
    "assistant a red square moves from left to right across the frame",
    "describe this video in detail",
    "question: which object moves? options: (A) a circle (B) a square only give the best option",
]


def demo_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained in-process, with the backbones' special tokens."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=SPECIALS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    fast.padding_side = "left"
    return fast


def build_demo_llava(
    seed: int = 0, layout: tuple[str, str] | None = None
) -> tuple[torch.nn.Module, Any]:
    """A small LLaVA-OneVision (SigLIP 2 layers + Qwen2 4 layers) and its real processor.

    ``layout`` (pool mode, newline layout) is written into the config as
    ``mm_spatial_pool_mode`` / ``mm_newline_position``, which the adapter reads: LLaVA-Video's
    demo is this architecture with its own ``("average", "grid")`` layout.
    """
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
        Qwen2Config,
        SiglipVisionConfig,
    )

    tok = demo_tokenizer()
    torch.manual_seed(seed)
    cfg = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=DEMO_SIZE,
            patch_size=14,
            vision_use_head=False,
        ),
        text_config=Qwen2Config(
            vocab_size=len(tok),
            hidden_size=256,
            intermediate_size=512,
            num_hidden_layers=4,
            num_attention_heads=8,
            num_key_value_heads=4,
        ),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        image_grid_pinpoints=[[DEMO_SIZE, DEMO_SIZE]],
    )
    if layout is not None:
        cfg.mm_spatial_pool_mode, cfg.mm_newline_position = layout
    model = LlavaOnevisionForConditionalGeneration(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    plant_siglip_sinks(model, SINK_PATCHES)
    size = {"height": DEMO_SIZE, "width": DEMO_SIZE}
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size),
        video_processor=LlavaOnevisionVideoProcessor(
            size=size, image_mean=[0.5] * 3, image_std=[0.5] * 3
        ),
        tokenizer=tok,
        num_image_tokens=(DEMO_SIZE // 14) ** 2,
        vision_feature_select_strategy="full",
    )
    return model, processor


@torch.no_grad()
def plant_siglip_sinks(
    model: torch.nn.Module, patches: tuple[int, ...], strength: float = 6.0
) -> None:
    """Make ``patches`` attention sinks of the last SigLIP layer, in every frame.

    Adds a direction ``v`` to those patches' position embeddings and a query bias along the
    key that ``v`` produces, so every query scores those keys highly whatever the image.
    """
    tower = model.model.vision_tower
    inner = getattr(tower, "vision_model", tower)
    layer = inner.encoder.layers[-1]
    hidden = inner.embeddings.position_embedding.weight.shape[1]
    g = torch.Generator().manual_seed(1234)
    v = torch.randn(hidden, generator=g)
    inner.embeddings.position_embedding.weight[list(patches)] += strength * v
    key_dir = layer.self_attn.k_proj.weight @ torch.nn.functional.normalize(v, dim=0)
    layer.self_attn.q_proj.bias += strength * torch.nn.functional.normalize(key_dir, dim=0)


def build_demo_qwen(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """A small Qwen2.5-VL (vision 4 blocks + text 4 layers) and its real processor."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    tok = demo_tokenizer()
    torch.manual_seed(seed)
    cfg = Qwen2_5_VLConfig(
        vision_config={
            "depth": 4,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_heads": 4,
            "out_hidden_size": 256,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [1, 3],
            "tokens_per_second": 2,
        },
        text_config={
            "vocab_size": len(tok),
            "hidden_size": 256,
            "intermediate_size": 512,
            "num_hidden_layers": 4,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "bos_token_id": None,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1e6,
                "mrope_section": [4, 6, 6],
            },
        },
        image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"),
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = Qwen2_5_VLForConditionalGeneration(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    pixels = QWEN_DEMO_SIZE * QWEN_DEMO_SIZE
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(
            min_pixels=pixels, max_pixels=pixels, cap_pixels_per_frame=True
        ),
        tokenizer=tok,
    )
    return model, processor

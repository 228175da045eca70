"""Tiny random LLaVA-OneVision models for tests and demos, built in-process (nothing downloaded).

One builder for every size: ``LlavaSizes`` sets the SigLIP tower and the Qwen2 language model
(the default is the tests' 9 x 9-patch model; the demo and ``stop-bench prefill`` pass their
own), ``llava_config`` writes them into a ``LlavaOnevisionConfig`` (optionally with
LLaVA-Video's ``mm_spatial_pool_mode`` / ``mm_newline_position`` layout) and ``random_llava``
creates the model with random weights, directly in the run dtype. ``train_tokenizer`` is a
byte-level BPE trained on a few sentences with the backbone's special tokens,
``llava_processor`` the real processor classes at the model's frame size, and
``plant_siglip_sinks`` makes chosen patches attention sinks of the last SigLIP layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionImageProcessor,
    LlavaOnevisionProcessor,
    LlavaOnevisionVideoProcessor,
    PreTrainedTokenizerFast,
    Qwen2Config,
    SiglipVisionConfig,
)

SPECIALS: tuple[str, ...] = ("<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "<image>", "<video>")
CORPUS: tuple[str, ...] = (
    "user what happens in the video",
    "assistant a person walks across the room",
    "describe the clip in detail",
    "is the ball red? answer yes or no",
)


@dataclass(frozen=True)
class LlavaSizes:
    """The sizes of a LLaVA-OneVision: SigLIP tower (frame side, patch) and Qwen2 LLM."""

    image_size: int = 126  # 9 x 9 patches of 14 px: bilinear pooling -> 5 x 5, average -> 4 x 4
    patch_size: int = 14
    vision_hidden: int = 32
    vision_intermediate: int = 64
    vision_layers: int = 2
    vision_heads: int = 2
    text_hidden: int = 64
    text_intermediate: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_kv_heads: int = 2


def train_tokenizer(
    specials: Sequence[str] = SPECIALS,
    corpus: Sequence[str] = CORPUS * 8,
    vocab_size: int = 320,
) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``corpus`` with ``specials``, left padding."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(specials),
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(corpus), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    fast.padding_side = "left"
    return fast


def llava_config(
    sizes: LlavaSizes,
    *,
    vocab_size: int,
    image_token_id: int,
    video_token_id: int,
    layout: tuple[str, str] | None = None,
    **vision: object,
) -> LlavaOnevisionConfig:
    """A ``LlavaOnevisionConfig`` of ``sizes`` (SigLIP without its head, every feature kept).

    ``layout`` (pool mode, newline layout) is written as ``mm_spatial_pool_mode`` /
    ``mm_newline_position``, which the adapter reads (LLaVA-Video: ``("average", "grid")``);
    ``vision`` overrides ``SiglipVisionConfig`` fields.
    """
    settings = {
        "hidden_size": sizes.vision_hidden,
        "intermediate_size": sizes.vision_intermediate,
        "num_hidden_layers": sizes.vision_layers,
        "num_attention_heads": sizes.vision_heads,
        "image_size": sizes.image_size,
        "patch_size": sizes.patch_size,
        "vision_use_head": False,
        **vision,
    }
    cfg = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(**settings),
        text_config=Qwen2Config(
            vocab_size=vocab_size,
            hidden_size=sizes.text_hidden,
            intermediate_size=sizes.text_intermediate,
            num_hidden_layers=sizes.text_layers,
            num_attention_heads=sizes.text_heads,
            num_key_value_heads=sizes.text_kv_heads,
        ),
        image_token_index=image_token_id,
        video_token_index=video_token_id,
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        image_grid_pinpoints=[[sizes.image_size, sizes.image_size]],
    )
    if layout is not None:
        cfg.mm_spatial_pool_mode, cfg.mm_newline_position = layout
    return cfg


def random_llava(
    config: LlavaOnevisionConfig,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    pad_token_id: int | None = None,
    eos_token_id: int | None = None,
) -> LlavaOnevisionForConditionalGeneration:
    """The model of ``config`` with random weights (seeded), created in ``dtype``, eval mode.

    Created directly in ``dtype`` (not cast afterwards), so a 7B model never exists in float32;
    ``eos_token_id=None`` makes ``generate`` produce exactly the tokens asked for.
    """
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration._from_config(config, dtype=dtype).eval()
    model.generation_config.pad_token_id = pad_token_id
    model.generation_config.eos_token_id = eos_token_id
    return model


def tiny_llava(
    tokenizer: PreTrainedTokenizerFast,
    sizes: LlavaSizes = LlavaSizes(),  # noqa: B008 - a frozen dataclass
    *,
    seed: int = 0,
    layout: tuple[str, str] | None = None,
    **vision: object,
) -> LlavaOnevisionForConditionalGeneration:
    """A random LLaVA-OneVision of ``sizes`` whose token ids and vocabulary are ``tokenizer``'s."""
    config = llava_config(
        sizes,
        vocab_size=len(tokenizer),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        layout=layout,
        **vision,
    )
    return random_llava(
        config,
        seed=seed,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )


def llava_processor(tokenizer: PreTrainedTokenizerFast, image_size: int) -> LlavaOnevisionProcessor:
    """The real processor classes at ``image_size`` (SigLIP normalisation, mean/std 0.5)."""
    size = {"height": image_size, "width": image_size}
    return LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size),
        video_processor=LlavaOnevisionVideoProcessor(
            size=size, image_mean=[0.5] * 3, image_std=[0.5] * 3
        ),
        tokenizer=tokenizer,
        num_image_tokens=(image_size // 14) ** 2,
        vision_feature_select_strategy="full",
    )


@torch.no_grad()
def plant_siglip_sinks(
    model: torch.nn.Module, patches: Sequence[int], strength: float = 6.0
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

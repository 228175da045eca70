"""A byte-level BPE tokenizer trained in-process with the Qwen-VL special tokens."""

from __future__ import annotations

from collections.abc import Sequence

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

SPECIALS: tuple[str, ...] = (
    "<unk>",
    "<pad>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
CORPUS: tuple[str, ...] = (
    "user what happens in the video",
    "assistant a person walks across the room",
    "describe the clip in detail",
    "the red ball rolls left then stops",
)


def train_tokenizer(
    specials: Sequence[str] = SPECIALS,
    corpus: Sequence[str] = CORPUS * 8,
    vocab_size: int = 360,
) -> PreTrainedTokenizerFast:
    """A tokenizer trained on ``corpus`` with ``specials`` (pad ``<pad>``, eos ``<|im_end|>``).

    Left padding, as batched generation needs.
    """
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

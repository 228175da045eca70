"""The offline demo's tiny models: random weights, one locally trained tokenizer text.

Nothing is downloaded: the tokenizer is trained in-process on a few sentences and the weights
are random, so answers are gibberish and accuracy means nothing; the demo shows the pruning
machinery (tokens kept, prefill time). The builders are the adapter packages' own
(``stop_llava.testing``, ``stop_qwen.testing``); each family's ``demo`` module picks the sizes.
"""

from __future__ import annotations

from typing import Any

DEMO_SPECIALS: tuple[str, ...] = (
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
)
DEMO_CORPUS: tuple[str, ...] = (
    "system you are a helpful assistant",
    "user what happens in the video? answer yes or no",
    "assistant a red square moves from left to right across the frame",
    "describe this video in detail",
    "question: which object moves? options: (A) a circle (B) a square only give the best option",
)
# the keyword arguments of the adapter packages' ``train_tokenizer`` for the demo's tokenizer
DEMO_TOKENIZER: dict[str, Any] = {
    "specials": DEMO_SPECIALS,
    "corpus": DEMO_CORPUS * 20,
    "vocab_size": 512,
}

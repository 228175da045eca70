"""The LLaVA demo model: the real frame size and token grids at small widths, planted sinks.

384 px frames (27 x 27 SigLIP patches) pooled as the backbone pools them: LLaVA-OneVision
bilinear to 14 x 14, LLaVA-Video (``layout``) 2 x 2 average to 13 x 13 with a newline per row.
The tower has four planted attention sinks, so that SToP has sinks to find.
"""

from __future__ import annotations

from typing import Any

import torch

from stop_eval.backbones.demo import DEMO_TOKENIZER
from stop_llava.testing import (
    LlavaSizes,
    llava_processor,
    plant_siglip_sinks,
    tiny_llava,
    train_tokenizer,
)

DEMO_SIZE = 384  # SigLIP's real input: 27 x 27 patches of 14 px, pooled to LLaVA's real grids
# patch indices on the 27 x 27 grid, at rows/columns (2, 2), (4, 24), (14, 12), (22, 16): even
# rows and columns, so that bilinear (14 x 14) and 2 x 2 average (13 x 13) pooling put each in
# the same token cell
SINK_PATCHES = (56, 132, 390, 610)
DEMO_SIZES = LlavaSizes(
    image_size=DEMO_SIZE,
    vision_hidden=64,
    vision_intermediate=128,
    vision_layers=2,
    vision_heads=4,
    text_hidden=256,
    text_intermediate=512,
    text_layers=4,
    text_heads=8,
    text_kv_heads=4,
)


def build_demo_llava(
    seed: int = 0, layout: tuple[str, str] | None = None
) -> tuple[torch.nn.Module, Any]:
    """A small LLaVA-OneVision (SigLIP 2 layers + Qwen2 4 layers), its real processor.

    ``layout`` (pool mode, newline layout) goes into the config, which the adapter reads:
    LLaVA-Video's demo is this architecture with its own ``("average", "grid")`` layout.
    """
    tok = train_tokenizer(**DEMO_TOKENIZER)
    model = tiny_llava(tok, DEMO_SIZES, seed=seed, layout=layout)
    plant_siglip_sinks(model, SINK_PATCHES)
    return model, llava_processor(tok, DEMO_SIZE)

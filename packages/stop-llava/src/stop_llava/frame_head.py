"""FastVID's per-frame embedding: SigLIP's post-layernorm + attention-pooling head.

Hugging Face LLaVA-OneVision checkpoints ship the tower without that head, so the head can
come from a SigLIP checkpoint the user names; otherwise the adapter falls back to the mean
of the frame's patch features and records which source it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class FrameHead:
    """``post_layernorm`` then ``head`` applied to ``[F, N, C]`` patch features -> ``[F, C]``."""

    post_layernorm: nn.Module
    head: nn.Module
    source: str

    @torch.no_grad()
    def __call__(self, hidden: torch.Tensor) -> torch.Tensor:
        """Frame embeddings ``[F, C]`` of the patch features ``hidden`` ``[F, N, C]``."""
        param = next(self.head.parameters())
        x = hidden.to(device=param.device, dtype=param.dtype)
        return self.head(self.post_layernorm(x)).float()


def head_from_vision_model(vision_model: nn.Module, source: str) -> FrameHead:
    """Take the head of a ``SiglipVisionModel`` (or its ``vision_model``) built with a head."""
    inner = getattr(vision_model, "vision_model", vision_model)
    head = getattr(inner, "head", None)
    norm = getattr(inner, "post_layernorm", None)
    if head is None or norm is None:
        raise ValueError(
            f"{type(vision_model).__name__} has no attention-pooling head "
            "(build it with vision_use_head=True)"
        )
    return FrameHead(post_layernorm=norm, head=head, source=source)


def load_frame_head(name_or_path: str, **kwargs: object) -> FrameHead:
    """Load the head of a SigLIP checkpoint (hub id or local path) with ``from_pretrained``."""
    from transformers import SiglipVisionModel

    model = SiglipVisionModel.from_pretrained(name_or_path, **kwargs).eval()
    return head_from_vision_model(model, source=f"siglip_head:{name_or_path}")

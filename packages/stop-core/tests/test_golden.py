"""Every golden file: ``prune(variant="reference")`` + one-token layout == the official output."""

from __future__ import annotations

import pytest
import torch
from golden_support import (
    DEFAULT_GOLDEN_DIR,
    assert_rows_match,
    lay_out,
    load_golden,
    run_golden,
)

NAMES = sorted(
    f"{m}_{s}_r{r}_D64.pt"
    for m in ("visionzip", "fastvid", "holitom", "flashvid")
    for s in ("base", "stop")
    for r in (10, 20)
)


def test_every_golden_file_is_covered() -> None:
    present = sorted(p.name for p in DEFAULT_GOLDEN_DIR.glob("*_r*_D64.pt"))
    assert present == NAMES or not present


@pytest.mark.parametrize("name", NAMES)
def test_reference_reproduces_golden(golden_dir, golden_inputs, name: str) -> None:
    gold = load_golden(golden_dir, name)
    out = run_golden(golden_inputs, gold["meta"])
    seq = lay_out(out, golden_inputs["image_newline"], mode="one_token")
    assert seq.shape[0] == gold["num_tokens"]
    newline_mask = torch.zeros(seq.shape[0], dtype=torch.bool)
    newline_mask[-1] = True
    assert torch.equal(newline_mask, gold["newline_mask"])
    keys = torch.cat([out.global_index, torch.tensor([-1])])
    assert_rows_match(seq, gold["output_tokens"], keys=keys)

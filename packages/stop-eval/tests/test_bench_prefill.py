"""``stop-bench prefill`` on a tiny model; the FLOPs formula against hand and torch counts."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode
from transformers import Qwen2Config, Qwen2ForCausalLM

from stop_eval.bench.flops import DecoderShape, capture_flops, decoder_shape, prefill_flops
from stop_eval.cli.bench import main
from stop_llava import attention_received


def test_flops_hand_count() -> None:
    shape = DecoderShape(hidden=8, layers=2, heads=2, kv_heads=1, intermediate=16, vocab=10)
    # per layer: q,o 2*(2*3*8*8)=768; k,v 2*(2*3*8*4)=384; scores+sum 2*(2*3*3*8)=288;
    # MLP 3*(2*3*8*16)=2304 -> 3744; two layers 7488; LM head on one row 2*8*10=160
    assert prefill_flops(shape, 3) == 7648


def test_capture_flops_hand_count_and_torch_count() -> None:
    # 2 frames, 4 tokens, hidden 6, 3 heads: scores 2*4*4*6 = 192, column sums 2*3*4*4 = 96
    assert capture_flops(2, 4, 6, 3) == 2 * (192 + 96)
    q, k = torch.randn(3, 10, 12), torch.randn(3, 10, 12)
    with FlopCounterMode(display=False) as counter:
        attention_received(q, k, num_heads=4, scale=0.5, chunk_frames=2)
    assert counter.get_total_flops() == capture_flops(3, 10, 12, 4)


def test_step_clock_rates_decode_steps_only() -> None:
    from stop_eval.bench.prefill.run import StepClock

    clock = StepClock(torch.device("cpu"))
    scores = torch.zeros(1, 4)
    assert clock(torch.zeros(1, 2, dtype=torch.long), scores) is scores
    with pytest.raises(ValueError, match="at least 2 generated tokens"):
        clock.decode_rate()
    clock.stamps[:] = [10.0, 10.5, 11.0]  # prefill logits at 10 s, two decode steps of 0.5 s
    assert clock.decode_rate() == 2.0


def test_flops_match_torch_flop_counter() -> None:
    cfg = Qwen2Config(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    model = Qwen2ForCausalLM(cfg).eval()
    for length in (5, 11):
        ids = torch.randint(0, 50, (1, length))
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(input_ids=ids, logits_to_keep=1)
        assert counter.get_total_flops() == prefill_flops(decoder_shape(cfg), length)


def test_prefill_bench_writes_json_and_plot(tmp_path, capsys) -> None:
    out, plot = tmp_path / "prefill.json", tmp_path / "speedup.png"
    main(
        [
            "prefill",
            "--size",
            "tiny",
            "--frames",
            "4",
            "--methods",
            "holitom",
            "visionzip",
            "--retentions",
            "0.5",
            "0.3",
            "--repeats",
            "1",
            "--new-tokens",
            "3",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--plot",
            str(plot),
        ]
    )
    rows = json.loads(out.read_text())["results"]
    assert [(r["method"], r["retention"]) for r in rows] == [
        ("none", 1.0),
        ("holitom", 0.5),
        ("holitom", 0.3),
        ("visionzip", 0.5),
        ("visionzip", 0.3),
    ]
    base = rows[0]
    assert base["prefill_speedup"] == 1.0 and base["capture_ms"] == 0.0
    assert base["capture_gflops"] == 0.0
    for r in rows[1:]:
        assert r["sequence"] < base["sequence"]
        assert r["ideal_speedup"] == base["sequence"] / r["sequence"]
        assert r["prefill_gflops"] < base["prefill_gflops"]
        assert r["ttft_ms"] >= r["prefill_ms"] and r["decode_tok_s"] > 0
        assert r["capture_gflops"] == rows[1]["capture_gflops"] > 0
        assert r["capture_ms"] == rows[1]["capture_ms"] > 0 and "tower_delta_ms" in r
        assert r["capture_flop_share"] == r["capture_gflops"] / r["prefill_gflops"]
    with Image.open(plot) as image:
        assert image.size[0] > 300
    assert "LLM prefill with pruning" in capsys.readouterr().out

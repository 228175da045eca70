"""``stop-eval visualize`` on the demo models: PNG, self-contained HTML, JSON, errors."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from PIL import Image

from stop_core import PrunedVideo
from stop_eval.backbones import get_backbone
from stop_eval.backbones.llava.demo import DEMO_SIZE, SINK_PATCHES
from stop_eval.backbones.qwen.demo import QWEN_DEMO_SIZE
from stop_eval.cli import main
from stop_eval.demo.data import HEIGHT, WIDTH, moving_square, write_clip
from stop_eval.viz.visualize import check_choices, kept_map, sink_survival, top_sink_positions

VOID = {"meta", "img", "br", "hr", "link", "input"}


class PageParser(HTMLParser):
    """Collects image sources, every attribute that could load something, text; checks nesting."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for name in ("src", "href"):
            if name in attrs:
                self.links.append(attrs[name])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "square.mp4"
    write_clip(path, moving_square, frames=12)
    return path


@pytest.fixture(scope="module", params=["llava_ov", "qwen2_5_vl", "qwen3_vl"])
def report(request, clip, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"vis_{request.param}")
    args = ["visualize", "--video", str(clip), "--backbone", request.param]
    main([*args, "--frames", "4", "--out", str(out)])
    return request.param, out


def test_png_opens(report):
    _, out = report
    with Image.open(out / "visualize.png") as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
    assert 400 < width < 4000 and 300 < height < 4000


def test_json_survival_in_unit_range(report):
    backbone, out = report
    data = json.loads((out / "survival.json").read_text())
    assert data["backbone"] == backbone and data["top_k"] == 4
    for variant in ("off", "on"):
        for kind in ("any_frame", "per_frame"):
            assert 0.0 <= data["survival"][variant][kind] <= 1.0
        assert data["survival"][variant]["per_frame"] <= data["survival"][variant]["any_frame"]
        assert data["kept"][variant] > 0
    h, w = data["grid"]
    assert len(data["sink_score"]) == h * w
    assert data["mu"]["off"] == [0.0, 0.0] and data["mu"]["on"] != [0.0, 0.0]


def test_html_self_contained_with_numbers(report):
    _, out = report
    page = (out / "visualize.html").read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert not parser.errors and not parser.stack
    assert len(parser.images) == 2
    assert all(link.startswith("data:image/png;base64,") for link in parser.links)
    for src in parser.images:
        png = base64.b64decode(src.split(",", 1)[1])
        with Image.open(io.BytesIO(png)) as image:
            assert image.size[0] > 100
    text = " ".join(parser.text)
    data = json.loads((out / "survival.json").read_text())
    for variant in ("off", "on"):
        for kind in ("any_frame", "per_frame"):
            assert f"{data['survival'][variant][kind]:.3f}" in text
    assert "Sink survival" in text


@pytest.mark.parametrize("report", ["llava_ov"], indirect=True)  # sinks planted in LLaVA only
def test_llava_demo_top_sinks_are_the_planted_patches(report):
    _, out = report
    data = json.loads((out / "survival.json").read_text())
    side = DEMO_SIZE // 14
    h, w = data["grid"]
    assert (h, w) == (14, 14)  # LLaVA-OneVision's real grid: 27 x 27 patches, bilinear to 14
    expected = sorted({(p // side) // 2 * w + (p % side) // 2 for p in SINK_PATCHES})
    assert sorted(s["position"] for s in data["top_sinks"]) == expected
    assert data["planted_sinks"] == expected and data["planted_sinks_found"] is True


def test_printed_survival(clip, tmp_path, capsys):
    main(
        ["visualize", "--video", str(clip), "--backbone", "llava_ov", "--frames", "2"]
        + ["--method", "visionzip", "--top-k", "2", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "survival.json").read_text())
    assert data["top_k"] == 2 and data["method"] == "visionzip"
    for variant in ("off", "on"):
        line = next(x for x in printed.splitlines() if f"SToP {variant}:" in x)
        assert f"{data['survival'][variant]['any_frame']:.3f}" in line


def test_missing_video_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SystemExit) as exc:
        main(["visualize", "--video", str(missing), "--backbone", "llava_ov"])
    err = capsys.readouterr().err
    assert exc.value.code == 2  # as `inspect` for the same error
    assert "video not found" in err and str(missing) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "stop-visualize").exists()


def test_unknown_backbone(clip, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["visualize", "--video", str(clip), "--backbone", "llava_next"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown backbone 'llava_next'"):
        check_choices("llava_next", "holitom")


def test_method_without_stop_is_refused(clip, capsys):
    with pytest.raises(ValueError, match="does not use SToP"):
        check_choices("llava_ov", "uniform")
    with pytest.raises(SystemExit) as exc:
        main(["visualize", "--video", str(clip), "--backbone", "llava_ov", "--method", "nope"])
    assert exc.value.code == 2
    assert "unknown pruning method" in capsys.readouterr().err


def test_survival_counts_merged_tokens_where_placed():
    # 2 frames on a 2x2 grid; a merged token placed at (frame 0, position 3)
    out = PrunedVideo(
        features=torch.zeros(3, 4),
        frame_index=torch.tensor([0, 1, 0]),
        position=torch.tensor([0, 0, 3]),
        requested=3,
        kept=3,
        grid=(2, 2),
        num_frames=2,
        method="test",
        variant="reference",
    )
    kept = kept_map(out)
    assert kept.tolist() == [[True, False, False, True], [True, False, False, False]]
    assert sink_survival(kept, [0, 3]) == {"any_frame": 1.0, "per_frame": 0.75}
    assert sink_survival(kept, [1, 2]) == {"any_frame": 0.0, "per_frame": 0.0}
    assert top_sink_positions(torch.tensor([0.1, 0.9, 0.5, 0.0]), 2) == [1, 2]
    assert top_sink_positions(torch.tensor([0.1, 0.9]), 5) == [1, 0]


def test_checkpoint_sees_the_official_inputs(tmp_path, capsys):
    """With ``--model`` the tower gets the official qwen-vl-utils size, not the processor's."""
    from qwen_vl_utils.vision_process import smart_resize

    model, processor = get_backbone("qwen2_5_vl").build_demo(0)
    ckpt = tmp_path / "ckpt"
    model.save_pretrained(ckpt)
    processor.save_pretrained(ckpt)
    video = tmp_path / "square.mp4"
    write_clip(video, moving_square, frames=12)
    out = tmp_path / "vis"
    main(
        [
            "visualize", "--video", str(video), "--backbone", "qwen2_5_vl", "--model", str(ckpt),
            "--device-map", "none", "--dtype", "float32", "--frames", "4", "--out", str(out),
        ]
    )  # fmt: skip
    summary = json.loads((out / "survival.json").read_text())
    h, w = smart_resize(HEIGHT, WIDTH, factor=28, min_pixels=4 * 28 * 28, max_pixels=256 * 28 * 28)
    assert summary["grid"] == [h // 28, w // 28] != [QWEN_DEMO_SIZE // 28, QWEN_DEMO_SIZE // 28]
    assert summary["model_label"] == f"checkpoint {ckpt}"
    assert f"model: checkpoint {ckpt}" in capsys.readouterr().out
    assert summary["token_frames"] == 2  # 4 frames, temporal patch 2


DEMO_LABEL = "random-weight demo model \u2014 planted sinks"


def test_report_names_the_model_it_shows(report):
    backbone, out = report
    expected = DEMO_LABEL if backbone == "llava_ov" else "random-weight demo model"
    data = json.loads((out / "survival.json").read_text())
    assert data["model"] == "demo-random" and data["model_label"] == expected
    page = (out / "visualize.html").read_text(encoding="utf-8")
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert expected in title


@pytest.mark.parametrize(
    ("model", "planted", "label"),
    [(None, True, DEMO_LABEL), ("org/some-checkpoint", False, "checkpoint org/some-checkpoint")],
)
def test_png_title_names_the_model(model, planted, label):
    import numpy as np

    from stop_core import VideoTokens
    from stop_eval.viz.report import render
    from stop_eval.viz.visualize import analyse, model_label

    g = torch.Generator().manual_seed(0)
    tokens = VideoTokens(
        features=torch.randn(2, 4, 8, generator=g),
        attention=torch.rand(2, 4, generator=g),
        keys=torch.randn(2, 4, 8, generator=g),
        frame_embeddings=torch.randn(2, 8, generator=g),
        grid=(2, 2),
    )
    frames = np.zeros((2, 16, 16, 3), np.uint8)
    vis = analyse(tokens, frames, backbone="llava_ov", method="visionzip", retention=0.5)
    vis.model_label = model_label(model, planted)
    assert vis.label == label
    fig = render(vis, [0, 1])
    assert label in fig._suptitle.get_text()


def test_printed_header_names_model_grid_and_budget(clip, tmp_path, capsys):
    main(
        ["visualize", "--video", str(clip), "--backbone", "llava_ov", "--frames", "2"]
        + ["--method", "visionzip", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "survival.json").read_text())
    assert f"model: {DEMO_LABEL}" in printed
    assert "2 token frames of 14 x 14" in printed  # LLaVA-OneVision's real grid
    assert f"requested {data['requested']['off']} tokens" in printed
    assert f"kept {data['kept']['off']} (SToP off), {data['kept']['on']} (SToP on)" in printed


def test_default_frames_are_the_official_32():
    from stop_eval.cli.visualize import build_parser

    args = build_parser().parse_args(["--video", "v.mp4", "--backbone", "llava_ov"])
    assert args.frames == 32  # EVAL.md: every backbone's official evaluation samples 32 frames

"""The lmms-eval plugin: entry-point registration, requests, scoring, lmms-eval's own CLI."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
from lmms_eval.api.instance import Instance
from lmms_eval.api.model import lmms
from lmms_eval.models import get_model, list_available_models

import stop_eval
from stop_core import PruningConfig
from stop_eval.backbones import get_backbone
from stop_eval.eval.model import VideoModel
from stop_eval.integrations.lmms.model import StopVideoLMM
from stop_eval.media.video import VideoError, load_video

DEMO = Path(stop_eval.__file__).parent / "data" / "demo"
CLIPS = sorted(DEMO.glob("*.mp4"))
SEED = 4
FRAMES = 4
ARGS = f"method=visionzip,retention=0.25,stop=True,frames={FRAMES},seed={SEED}"


def request(kind: str, args: tuple, doc_id: int, task: str = "t") -> Instance:
    return Instance(kind, args, idx=0, metadata={"task": task, "doc_id": doc_id, "repeats": 1})


def video_of(doc: dict) -> list[str]:
    return [doc["video"]]


@pytest.fixture(scope="module")
def plugin() -> StopVideoLMM:
    lm = get_model("stop").create_from_arg_string(ARGS, {"batch_size": 2, "device": "cpu"})
    lm.task_dict = {
        "t": {"test": [{"video": str(c), "q": f"What moves in {c.stem}?"} for c in CLIPS]}
    }
    return lm


@pytest.fixture(scope="module")
def reference() -> VideoModel:
    """The same pipeline built directly, without lmms-eval."""
    torch.manual_seed(SEED)
    model, processor = get_backbone("llava_ov").build_demo(SEED)
    cfg = PruningConfig.preset(
        "visionzip", backbone="llava_ov", retention_ratio=0.25, use_stop=True
    )
    return VideoModel(model, processor, "llava_ov", cfg, max_new_tokens=8, seed=SEED)


def test_entry_point_names_the_plugin() -> None:
    found = {ep.name: ep for ep in entry_points(group="lmms_eval.models")}
    assert found["stop"].value == "stop_eval.integrations.lmms.plugin:manifests"
    (manifest,) = found["stop"].load()()
    assert manifest.model_id == "stop"
    assert manifest.simple_class_path == "stop_eval.integrations.lmms.model.StopVideoLMM"


def test_lmms_eval_registry_resolves_the_model() -> None:
    assert "stop" in list_available_models()
    cls = get_model("stop")
    assert cls is StopVideoLMM
    assert issubclass(cls, lmms) and cls.is_simple


def test_generate_until_equals_the_direct_pipeline(
    plugin: StopVideoLMM, reference: VideoModel
) -> None:
    # different lengths interleaved: grouped per length and batched, answers in request order
    lengths = [3, 6, 3]
    reqs = [
        request("generate_until", (doc["q"], {"max_new_tokens": n}, video_of, i, "t", "test"), i)
        for i, (doc, n) in enumerate(zip(plugin.task_dict["t"]["test"], lengths, strict=True))
    ]
    got = plugin.generate_until(reqs)
    for (clip, n), text in zip(zip(CLIPS, lengths, strict=True), got, strict=True):
        frames, meta = load_video(clip, FRAMES)
        expected = reference.answer(frames, meta, f"What moves in {clip.stem}?", n).text
        assert text == expected
    assert len(plugin.video_model.adapter.accounting) >= 1


def test_until_cuts_the_answer(plugin: StopVideoLMM) -> None:
    doc = plugin.task_dict["t"]["test"][0]
    args = (doc["q"], {"max_new_tokens": 6}, video_of, 0, "t", "test")
    (full,) = plugin.generate_until([request("generate_until", args, 0)])
    stop = full.strip()[2:4]
    assert stop and stop in full
    cut_args = (doc["q"], {"max_new_tokens": 6, "until": [stop]}, video_of, 0, "t", "test")
    (cut,) = plugin.generate_until([request("generate_until", cut_args, 0)])
    assert cut == full.split(stop, 1)[0]
    assert stop not in cut


def test_loglikelihood_of_the_greedy_answer_matches_generate_scores(
    plugin: StopVideoLMM, reference: VideoModel
) -> None:
    """One pruned forward over prompt + answer == the pruned generate's per-step scores."""
    clip = CLIPS[2]
    frames, meta = load_video(clip, FRAMES)
    prompt = f"What moves in {clip.stem}?"
    batch = reference.inputs([(frames, meta, prompt)])
    out = reference.model.generate(
        **batch, do_sample=False, max_new_tokens=4, output_scores=True, return_dict_in_generate=True
    )
    new = out.sequences[0, reference.adapter.last_input_length :]
    answer = reference.processor.tokenizer.decode(new)
    expected = sum(
        float(torch.log_softmax(s[0].float(), -1)[t]) for s, t in zip(out.scores, new, strict=True)
    )
    args = (prompt, answer, video_of, 2, "t", "test")
    ((logp, greedy),) = plugin.loglikelihood([request("loglikelihood", args, 2)])
    assert logp == pytest.approx(expected, abs=1e-4)
    assert greedy is True
    other = (prompt, " yes", video_of, 2, "t", "test")
    ((logp_other, greedy_other),) = plugin.loglikelihood([request("loglikelihood", other, 2)])
    assert logp_other < 0 and greedy_other is (
        new[0].item() == reference.processor.tokenizer(" yes").input_ids[0]
    )


def test_loglikelihood_without_pruning_equals_a_plain_forward() -> None:
    lm = get_model("stop").create_from_arg_string(
        f"preset=no_pruning,frames={FRAMES},seed={SEED}", {"device": "cpu"}
    )
    lm.task_dict = {"t": {"test": [{"video": str(CLIPS[0])}]}}
    model, processor = get_backbone("llava_ov").build_demo(SEED)  # untouched copy, no SToP attached
    frames, meta = load_video(CLIPS[0], FRAMES)
    head = lm.video_model.build_prompt("Is it red?")
    ids = processor(text=[head + " no"], videos=[frames], return_tensors="pt")
    n = len(processor.tokenizer(head + " no").input_ids) - len(processor.tokenizer(head).input_ids)
    with torch.no_grad():
        logits = model(**ids).logits[0, -n - 1 : -1]
    targets = ids["input_ids"][0, -n:]
    expected = float(torch.log_softmax(logits, -1).gather(-1, targets[:, None]).sum())
    args = ("Is it red?", " no", video_of, 0, "t", "test")
    ((logp, _),) = lm.loglikelihood([request("loglikelihood", args, 0)])
    assert logp == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("backbone", ["qwen2_5_vl", "qwen3_vl"])
def test_qwen_backbone_answers(reference: VideoModel, backbone: str) -> None:
    lm = get_model("stop").create_from_arg_string(
        f"backbone={backbone},method=holitom,retention=0.25,frames={FRAMES}", {"device": "cpu"}
    )
    lm.task_dict = {"t": {"test": [{"video": str(CLIPS[1])}]}}
    args = ("What moves?", {"max_new_tokens": 3}, video_of, 0, "t", "test")
    (text,) = lm.generate_until([request("generate_until", args, 0)])
    (record,) = lm.video_model.adapter.accounting
    assert isinstance(text, str)
    assert 0 < record.kept < record.tokens_before


def test_images_are_answered_as_a_frame_sequence(plugin: StopVideoLMM) -> None:
    from PIL import Image

    frames, _ = load_video(CLIPS[0], FRAMES)
    images = [Image.fromarray(f) for f in frames]
    plugin.task_dict["img"] = {"test": [{"images": images}]}
    args = ("What moves?", {"max_new_tokens": 3}, lambda doc: doc["images"], 0, "img", "test")
    (text,) = plugin.generate_until([request("generate_until", args, 0, task="img")])
    assert isinstance(text, str)
    record = plugin.video_model.adapter.accounting[-1]
    assert record.tokens_before > 0


def test_bad_requests_say_what_is_wrong(plugin: StopVideoLMM, tmp_path: Path) -> None:
    plugin.task_dict["bad"] = {
        "test": [{"video": None}, {"video": str(tmp_path / "missing.mp4")}, {"video": 3}]
    }
    no_video = ("q", {}, lambda doc: None, 0, "bad", "test")
    with pytest.raises(ValueError, match="task 'bad' doc 0 has no video"):
        plugin.generate_until([request("generate_until", no_video, 0, task="bad")])
    missing = ("q", {}, video_of, 1, "bad", "test")
    with pytest.raises(VideoError, match="missing.mp4"):
        plugin.generate_until([request("generate_until", missing, 1, task="bad")])
    two = ("q", {}, lambda doc: [str(CLIPS[0]), str(CLIPS[1])], 0, "bad", "test")
    with pytest.raises(ValueError, match="one video path or a list of images, got 2"):
        plugin.generate_until([request("generate_until", two, 0, task="bad")])
    wrong = ("q", {}, video_of, 2, "bad", "test")
    with pytest.raises(ValueError, match=r"\['int'\]"):
        plugin.generate_until([request("generate_until", wrong, 2, task="bad")])
    with pytest.raises(NotImplementedError, match="multi-round"):
        plugin.generate_until_multi_round([])


@pytest.mark.parametrize(
    ("arg_string", "message"),
    [
        ("backbone=llava_next", "unknown backbone 'llava_next'"),
        ("method=prunevid", "prunevid"),
        ("retention=1.5", "1.5"),
        ("frames=0", "frames must be >= 1, got 0"),
        ("stop=maybe", "expected a boolean, got 'maybe'"),
        ("preset=fast", "unknown preset 'fast'"),
        ("dtype=float8,pretrained=/nonexistent", "unknown dtype 'float8'"),
    ],
)
def test_bad_model_args_name_the_value(arg_string: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_model("stop").create_from_arg_string(arg_string, {"device": "cpu"})


def test_unknown_model_arg_is_refused() -> None:
    with pytest.raises(TypeError, match="colour"):
        get_model("stop").create_from_arg_string("colour=red", {"device": "cpu"})


def test_missing_lmms_eval_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("lmms_eval", "lmms_eval.api", "lmms_eval.api.model", "lmms_eval.api.instance"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "lmms_eval.models.registry_v2", None)
    monkeypatch.delitem(sys.modules, "stop_eval.integrations.lmms.model")
    with pytest.raises(ImportError, match=r"pip install 'stop-eval\[lmms\]'"):
        importlib.import_module("stop_eval.integrations.lmms.model")
    from stop_eval.integrations.lmms.plugin import manifests

    with pytest.raises(ImportError, match=r"stop-eval\[lmms\]"):
        manifests()


@pytest.mark.slow  # the real lmms-eval CLI in a process of its own
def test_lmms_eval_cli_runs_a_task_with_the_plugin(tmp_path: Path, reference: VideoModel) -> None:
    """``python -m lmms_eval --model stop`` on a local task in lmms-eval's own YAML format."""
    docs = [
        {"id": i, "video": str(c), "question": "Is it moving?", "answer": "yes"}
        for i, c in enumerate(CLIPS)
    ]
    (tmp_path / "docs.json").write_text(json.dumps(docs))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "smoke_utils.py").write_text(
        "def doc_to_visual(doc):\n    return [doc['video']]\n\n\n"
        "def doc_to_text(doc, lmms_eval_specific_kwargs=None):\n    return doc['question']\n"
    )
    (tasks / "stop_smoke.yaml").write_text(
        "task: stop_smoke\n"
        "dataset_path: json\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {tmp_path / 'docs.json'}\n"
        "test_split: test\n"
        "output_type: generate_until\n"
        "doc_to_visual: !function smoke_utils.doc_to_visual\n"
        "doc_to_text: !function smoke_utils.doc_to_text\n"
        "doc_to_target: answer\n"
        "generation_kwargs:\n"
        "  max_new_tokens: 4\n"
        "  do_sample: false\n"
        "metric_list:\n"
        "  - metric: exact_match\n"
        "    aggregation: mean\n"
        "    higher_is_better: true\n"
    )
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    command = [
        sys.executable, "-m", "lmms_eval", "--model", "stop", "--model_args", ARGS,
        "--tasks", "stop_smoke", "--include_path", str(tasks), "--batch_size", "2",
        "--output_path", str(tmp_path / "out"), "--log_samples",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (samples,) = (tmp_path / "out").rglob("*samples_stop_smoke.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert sorted(r["doc_id"] for r in rows) == [0, 1, 2]
    for row in rows:
        frames, meta = load_video(CLIPS[row["doc_id"]], FRAMES)
        expected = reference.answer(frames, meta, "Is it moving?", 4).text
        assert row["filtered_resps"] in (expected, [expected])

"""``stop-eval check`` on data roots in each benchmark's real layout, messy as real files are.

Every root holds real .mp4 files (PyAV) next to a missing, an empty and a corrupt video, and
annotation files with the shapes the published ones have (integers where strings are expected,
empty and padded strings, nulls, a repeated record). The item count is checked against the
official enumeration written out here; the warnings against the loader's own for the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from stop_eval.benchmarks import get_benchmark, resolve_root
from stop_eval.benchmarks.mlvu import TASK_FILES
from stop_eval.benchmarks.mvbench import TASKS
from stop_eval.cli.check import main
from stop_eval.demo.data import bouncing_ball, write_clip
from stop_eval.eval.data_check import check_data_root


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """One real H.264 clip, copied wherever a fixture needs a good video."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_clip(path, bouncing_ball, frames=6)
    return path


def run_check(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    return int(info.value.code), capsys.readouterr().out


def place(clip: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, path)
    return path


# ------------------------------------------------------------------------ EventHallusion
def eh_record(vid: str, n_questions: int = 1, length: object = "00:05") -> dict:
    return {
        "id": vid,
        "category": "pet&animal",
        "length": length,
        "event_info": {"object": ["cat"], "scene": "s", "caption": f"c {vid}", "bias": "b"},
        "questions": [
            {"type": "hallucination", "question": f"{vid} {k}?", "answer": "No."}
            for k in range(n_questions)
        ],
    }


def write_eventhallusion(data_root: Path, clip: Path) -> Path:
    """13 integer lengths, an empty and a padded length, a repeated record; videos: one
    missing, one empty, one corrupt."""
    root = data_root / "fine_grained_task" / "EventHallusion"
    entire = [eh_record(f"entire_{i:03d}", 1 + i % 2, length=8 + i) for i in range(13)]
    entire.append(eh_record("entire_013"))
    misleading = [eh_record("misleading_001"), eh_record("misleading_002")]
    misleading.append(json.loads(json.dumps(misleading[0])))
    mix = [eh_record(f"mix_{i:03d}") for i in range(1, 4)]
    for record in mix:
        record["event_info"]["unexpected"] = "u"
    mix[0]["length"], mix[1]["length"] = "", "00:23 "
    (root / "questions").mkdir(parents=True)
    for name, records in (("entire", entire), ("misleading", misleading), ("mix", mix)):
        (root / "questions" / f"{name}_questions.json").write_text(json.dumps(records))
    for split, records in (("entire", entire), ("misleading", misleading), ("interleave", mix)):
        for record in records:
            vid = record["id"].replace("mix_", "interleave_")
            place(clip, root / "videos" / split / f"{vid}.mp4")
    (root / "videos" / "entire" / "entire_003.mp4").unlink()
    (root / "videos" / "entire" / "entire_004.mp4").write_bytes(b"")
    (root / "videos" / "interleave" / "interleave_002.mp4").write_bytes(os.urandom(4096))
    return root


def eh_official_count(root: Path) -> int:
    """Every question, plus one description per entire / mix record (EVAL.md 1.2)."""
    total = 0
    for name in ("entire", "misleading", "mix"):
        for record in json.loads((root / "questions" / f"{name}_questions.json").read_text()):
            total += len(record["questions"]) + (name != "misleading")
    return total


def test_eventhallusion_messy_root(tmp_path, clip, capsys):
    root = write_eventhallusion(tmp_path, clip)
    code, out = run_check(
        capsys, "--benchmark", "eventhallusion", "--data-root", str(tmp_path), "--json"
    )
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["items"] == eh_official_count(root) == 20 + 14 + 3 + 3 * 2
    assert report["missing_videos"] == [str(root / "videos/entire/entire_003.mp4")]
    assert report["empty_videos"] == [str(root / "videos/entire/entire_004.mp4")]
    assert [v["path"] for v in report["undecodable_videos"]] == [
        str(root / "videos/interleave/interleave_002.mp4")
    ]
    # entire_003 (2 questions + desc), entire_004 (1 + desc), interleave_002 (1 + desc)
    assert report["failing_items"] == 3 + 2 + 2
    bench = get_benchmark("eventhallusion")
    bench.load(root, "reference")
    assert report["warnings"] == bench.warnings  # what the run itself warns about
    text = "\n".join(report["warnings"])
    assert "entire_questions.json: 13 records: `length` is an integer, read as seconds" in text
    assert "mix_questions.json: 1 record: `length` is empty, left out" in text
    assert "mix_questions.json: 1 record: `length` has surrounding spaces, stripped" in text
    assert len(report["warnings"]) == 4
    assert report["duplicates"] == [w for w in report["warnings"] if "duplicate id" in w]
    assert len(report["duplicates"]) == 1
    assert report["per_group"] == {"qa": 26, "desc": 17}
    assert report["count_mismatches"][0] == "43 items, the official enumeration has 711"

    code, out = run_check(capsys, "--benchmark", "eventhallusion", "--data-root", str(tmp_path))
    assert code == 1
    assert "items: 43 (official 711, differs)\n  qa: 26 (official 409, differs)" in out
    assert f"missing videos (1):\n  {root / 'videos/entire/entire_003.mp4'}" in out
    assert "result: 7 of 43 items would error" in out

    for name in ("entire/entire_003", "entire/entire_004", "interleave/interleave_002"):
        place(clip, root / "videos" / f"{name}.mp4")
    code, out = run_check(capsys, "--benchmark", "eventhallusion", "--data-root", str(tmp_path))
    assert code == 0 and "result: ok, every item can run" in out


# --------------------------------------------------------------------- the other five
def write_videomme(data_root: Path, clip: Path) -> tuple[Path, int, list[Path]]:
    root = data_root / "VQA" / "Video_MME"
    root.mkdir(parents=True)
    options = [["A. a", "B. b", "C. c", "D. d"]] * 4
    table = {
        "video_id": ["001", "001", "002", "003"],
        "duration": ["short", "short", "medium ", "long"],
        "domain": ["Sports", None, "Sports", ""],
        "sub_category": ["x"] * 4,
        "url": ["u"] * 4,
        "videoID": ["vidA", "vidA", "vidB", "vidC"],
        "question_id": ["001-1", "001-1", "002-1", "003-1"],
        "task_type": ["t"] * 4,
        "question": ["q1", "q1", "q2", "q3"],
        "options": options,
        "answer": ["A", "A", "B", "C"],
    }
    pq.write_table(pa.table(table), root / "test-00000-of-00001.parquet")
    place(clip, root / "video" / "vidA.mp4")
    place(clip, root / "video" / "vidC.mp4")
    return root, 4, [root / "video" / "vidB.mp4"]


def write_mvbench(data_root: Path, clip: Path) -> tuple[Path, int, list[Path]]:
    root = data_root / "VQA" / "MVBench"
    (root / "json").mkdir(parents=True)
    count = 0
    for task in TASKS:
        records = [
            {"video": f"{task.stem}.mp4", "question": "q?", "candidates": [1, 2], "answer": 2}
        ]
        if task.frames:
            records[0]["video"] = "episode_01"
        if task.bounded:
            records[0].update(start="1.0", end=None)
        if task.stem == "action_antonym":
            records.append(dict(records[0]))  # listed twice
        (root / "json" / f"{task.stem}.json").write_text(json.dumps(records))
        count += len(records)
        if task.frames:
            folder = root / "video" / task.prefix / "episode_01"
            folder.mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (32, 24), (i * 40, 0, 0)).save(folder / f"{i + 1:05d}.jpg")
        elif task.stem != "scene_transition":
            place(clip, root / "video" / task.prefix / f"{task.stem}.mp4")
    missing = [root / "video" / "scene_qa/video" / "scene_transition.mp4"]
    return root, count, missing


def write_mlvu(data_root: Path, clip: Path) -> tuple[Path, int, list[Path]]:
    root = data_root / "VQA" / "MLVU" / "MLVU"
    (root / "json").mkdir(parents=True)
    for stem in TASK_FILES:
        records = [
            {
                "video": f"{stem}.mp4",
                "duration": "300",
                "question": "q?",
                "candidates": ["a", "b"],
                "answer": "b",
                "question_type": None,
            }
        ]
        (root / "json" / f"{stem}.json").write_text(json.dumps(records))
        if stem != "2_needle":
            place(clip, root / "video" / stem / f"{stem}.mp4")
    return root, len(TASK_FILES), [root / "video" / "2_needle" / "2_needle.mp4"]


def write_videocomp(data_root: Path, clip: Path) -> tuple[Path, int, list[Path]]:
    root = data_root / "fine_grained_task" / "VideoComp"
    root.mkdir(parents=True)

    def record(key: object, vid: str) -> dict:
        return {"key": key, "video_id": vid, "type": "t", "question": "q?", "answer": "A"}

    (root / "activitynet_comp_val.json").write_text(
        json.dumps([record("a1", "abc"), record(2, "def"), record("a1", "abc")])
    )
    (root / "youcook2_comp_val.json").write_text(json.dumps([record("y1", "yc ")]))
    place(clip, root / "activitynet_video" / "v_abc.mkv")
    place(clip, root / "raw_videos" / "video" / "yc.webm")
    return root, 4, [root / "activitynet_video" / "v_def.mp4"]


def write_vcgbench(data_root: Path, clip: Path) -> tuple[Path, int, list[Path]]:
    root = data_root / "fine_grained_task" / "VCGBench"
    splits = {
        "Generic": {"video_name": ["v1", "v2 "], "question": ["q", "q"], "answer": ["a", "a"]},
        "Temporal": {"video_name": ["v1"], "question": ["t"], "answer": ["a"]},
        "Consistency": {
            "video_name": ["v1", "v1"],
            "question_1": ["c1", None],
            "question_2": ["None", "c2"],
            "answer": ["a", "a"],
        },
    }
    for split, columns in splits.items():
        (root / split).mkdir(parents=True)
        pq.write_table(pa.table(columns), root / split / "test-00000-of-00001.parquet")
    place(clip, root / "Test_Videos" / "v1.mp4")
    return root, 5, [root / "Test_Videos" / "v2.mp4"]


WRITERS = {
    "videomme": write_videomme,
    "mvbench": write_mvbench,
    "mlvu": write_mlvu,
    "videocomp": write_videocomp,
    "vcgbench": write_vcgbench,
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_messy_root_of_each_benchmark(name, tmp_path, clip, capsys):
    root, official_count, missing = WRITERS[name](tmp_path / "data", clip)
    assert resolve_root(tmp_path / "data", name) == root
    code, out = run_check(
        capsys, "--benchmark", name, "--data-root", str(tmp_path / "data"), "--json"
    )
    report = json.loads(out)
    assert code == 1
    assert report["items"] == official_count
    assert report["missing_videos"] == [str(p) for p in missing]
    bench = get_benchmark(name)
    bench.load(root, "reference")
    assert report["warnings"] == bench.warnings and report["warnings"]
    for path in missing:
        place(clip, path)
    assert check_data_root(name, tmp_path / "data").ok


def test_annotation_error_and_missing_root(tmp_path, capsys):
    root = tmp_path / "fine_grained_task" / "EventHallusion" / "questions"
    root.mkdir(parents=True)
    for name in ("entire", "misleading", "mix"):
        (root / f"{name}_questions.json").write_text(json.dumps([eh_record(f"{name}_1")]))
    (root / "entire_questions.json").write_text(json.dumps([eh_record(17)]))
    code, out = run_check(capsys, "--benchmark", "eventhallusion", "--data-root", str(tmp_path))
    assert code == 1
    assert "error: " in out and "entire_questions.json: record 0: 'id' is an integer" in out
    assert "result: the run cannot start" in out
    code, out = run_check(
        capsys, "--benchmark", "mlvu", "--data-root", str(tmp_path / "nowhere"), "--json"
    )
    assert code == 1 and "stop-eval download --benchmark mlvu" in json.loads(out)["error"]


def test_check_imports_no_model_code(tmp_path, clip):
    """The check path loads annotations and videos only: no torch, no transformers."""
    import subprocess

    write_mlvu(tmp_path, clip)
    code = (
        "import sys; from stop_eval.eval.data_check import check_data_root; "
        f"assert check_data_root('mlvu', {str(tmp_path)!r}).items == 7; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

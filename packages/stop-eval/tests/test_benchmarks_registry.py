"""Benchmark registry, data-root resolution and protocol checks."""

from pathlib import Path

import pytest

from stop_eval.benchmarks import BENCHMARKS, PROTOCOLS, Benchmark, get_benchmark, resolve_root

EXPECTED_FOLDERS = {
    "eventhallusion": "fine_grained_task/EventHallusion",
    "vcgbench": "fine_grained_task/VCGBench",
    "videocomp": "fine_grained_task/VideoComp",
    "videomme": "VQA/Video_MME",
    "mvbench": "VQA/MVBench",
    "mlvu": "VQA/MLVU/MLVU",
}


def test_registry_names_and_folders():
    assert {name: cls.folder for name, cls in BENCHMARKS.items()} == EXPECTED_FOLDERS
    for name in BENCHMARKS:
        bench = get_benchmark(name)
        assert isinstance(bench, Benchmark)
        assert bench.name == name
    assert PROTOCOLS == ("reference", "fixed")


def test_judged_benchmarks_and_default_judge_models():
    assert {n for n, c in BENCHMARKS.items() if c.judged} == {"eventhallusion", "vcgbench"}
    assert get_benchmark("eventhallusion").judge_model == "gpt-5"
    assert get_benchmark("vcgbench").judge_model == "gpt-5-mini"


def test_get_benchmark_is_case_insensitive():
    assert get_benchmark(" MVBench ").name == "mvbench"


def test_unknown_benchmark_lists_known_names():
    with pytest.raises(ValueError, match="unknown benchmark 'nextqa'") as info:
        get_benchmark("nextqa")
    for name in EXPECTED_FOLDERS:
        assert name in str(info.value)


def test_resolve_root_official_layout(tmp_path):
    folder = tmp_path / "VQA" / "MLVU" / "MLVU"
    folder.mkdir(parents=True)
    assert resolve_root(tmp_path, "mlvu") == folder


def test_resolve_root_own_folder(tmp_path):
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "1_plotQA.json").write_text("[]")
    assert resolve_root(tmp_path, "mlvu") == tmp_path
    (tmp_path / "activitynet_comp_val.json").write_text("[]")
    assert resolve_root(tmp_path, "videocomp") == tmp_path


def test_resolve_root_missing_data_says_how_to_download(tmp_path):
    missing = tmp_path / "nowhere"
    for name in EXPECTED_FOLDERS:
        with pytest.raises(FileNotFoundError) as info:
            resolve_root(missing, name)
        message = str(info.value)
        assert f"stop-eval download --benchmark {name} --data-root {missing}" in message
        assert str(missing / EXPECTED_FOLDERS[name]) in message


def test_resolve_root_accepts_strings(tmp_path):
    (tmp_path / "fine_grained_task" / "VCGBench").mkdir(parents=True)
    assert resolve_root(str(tmp_path), "vcgbench") == Path(tmp_path) / "fine_grained_task/VCGBench"


@pytest.mark.parametrize("name", sorted(EXPECTED_FOLDERS))
def test_unknown_protocol_is_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="unknown protocol"):
        get_benchmark(name).load(tmp_path, "lenient")

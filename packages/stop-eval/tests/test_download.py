"""``stop-eval download``: the official layout from fetched files, clear failure offline."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stop_eval.media.download import DownloadError, Fetcher, download, http_get, hub_get


def _zip(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_videomme_layout_from_fetched_files(tmp_path) -> None:
    def hub(repo: str, patterns: list[str], dest: Path) -> None:
        assert repo == "lmms-lab/Video-MME"
        (dest / "videomme").mkdir(parents=True)
        (dest / "videomme" / "test-00000-of-00001.parquet").write_bytes(b"pq")
        _zip(dest / "videos_chunked_01.zip", {"data/a.mp4": b"a", "data/b.mp4": b"b"})

    def http(url: str, dest: Path) -> None:
        raise AssertionError("no HTTP for Video-MME")

    base, notes = download("videomme", tmp_path, Fetcher(http=http, hub=hub))
    assert base == tmp_path / "VQA" / "Video_MME"
    assert (base / "test-00000-of-00001.parquet").read_bytes() == b"pq"
    assert sorted(p.name for p in (base / "video").iterdir()) == ["a.mp4", "b.mp4"]
    assert not list(base.glob("*.zip"))


def test_eventhallusion_questions_and_manual_video_note(tmp_path) -> None:
    fetched = []

    def http(url: str, dest: Path) -> None:
        fetched.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("[]")

    base, notes = download("eventhallusion", tmp_path, Fetcher(http=http, hub=lambda *a: None))
    assert len(fetched) == 3 and all("Stevetich/EventHallusion" in u for u in fetched)
    assert (base / "questions" / "mix_questions.json").exists()
    assert "drive.google.com" in notes[0]


def test_unsafe_archive_member_is_refused(tmp_path) -> None:
    def hub(repo: str, patterns: list[str], dest: Path) -> None:
        _zip(dest / "video" / "evil.zip", {"../../escape.txt": b"x"})
        (dest / "json").mkdir(parents=True, exist_ok=True)

    with pytest.raises(DownloadError, match="unsafe member path"):
        download("mvbench", tmp_path, Fetcher(http=http_get, hub=hub))


def test_offline_fails_clearly(tmp_path, monkeypatch) -> None:
    with pytest.raises(DownloadError, match="could not download http://127.0.0.1:9/x.json"):
        http_get("http://127.0.0.1:9/x.json", tmp_path / "x.json")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="could not fetch lmms-lab/Video-MME"):
        hub_get("lmms-lab/Video-MME", ["*.parquet"], tmp_path / "hub")


def test_unknown_benchmark(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown benchmark 'egoschema'"):
        download("egoschema", tmp_path)

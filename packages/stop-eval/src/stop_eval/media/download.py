"""Fetch a benchmark's public files into the official layout (``stop-eval download``).

Annotations come over plain HTTP or from the Hugging Face hub; video archives from the hub are
unpacked where the loaders look for them. Without a network (or with ``HF_HUB_OFFLINE=1``) it
fails with a message that says what could not be reached. EventHallusion's videos live on
Google Drive, which needs a browser confirmation for large files: the command says where to put
them.
"""

from __future__ import annotations

import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stop_eval.progress import copy_stream

EH_RAW = "https://raw.githubusercontent.com/Stevetich/EventHallusion/refs/heads/master/questions"
EH_DRIVE_ID = "1IPmx6Y80UrXwVPmZJh6zjCPHtlsw4p9n"
VIDEOCOMP_URL = "https://storage.googleapis.com/video_comp"


@dataclass
class Fetcher:
    """How files are fetched; tests substitute fakes for the network calls."""

    http: Callable[[str, Path], None]
    hub: Callable[[str, list[str], Path], None]


def http_get(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (atomically), with a clear error when unreachable."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as handle:
            size = response.headers.get("Content-Length")
            copy_stream(response, handle, int(size) if size else None, f"download {dest.name}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise DownloadError(
            f"could not download {url} ({exc}); is the network reachable?"
        ) from None
    tmp.replace(dest)


def hub_get(repo: str, patterns: list[str], dest: Path) -> None:
    """Snapshot the matching files of a hub dataset repository into ``dest``."""
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(
            repo_id=repo, repo_type="dataset", allow_patterns=patterns, local_dir=str(dest)
        )
    except Exception as exc:  # noqa: BLE001 - the hub client raises many types offline
        raise DownloadError(
            f"could not fetch {repo} from the Hugging Face hub ({type(exc).__name__}: {exc}); "
            "is the network reachable and HF_HUB_OFFLINE unset?"
        ) from None


class DownloadError(RuntimeError):
    """A benchmark file could not be fetched."""


def unpack(archive: Path, into: Path) -> None:
    """Extract a .zip / .tar(.gz) archive into ``into`` (refusing paths that escape it)."""
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if not (root / name).resolve().is_relative_to(root):
                    raise DownloadError(f"{archive} has an unsafe member path {name!r}")
            zf.extractall(into)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    else:
        raise DownloadError(f"{archive} is not a zip or tar archive")


def download_eventhallusion(base: Path, fetch: Fetcher) -> list[str]:
    """Questions from GitHub; videos need a manual Google Drive download (see the note)."""
    for name in ("entire_questions.json", "misleading_questions.json", "mix_questions.json"):
        fetch.http(f"{EH_RAW}/{name}", base / "questions" / name)
    return [
        f"EventHallusion videos: download https://drive.google.com/file/d/{EH_DRIVE_ID} "
        f"and unzip it so that {base / 'videos'}/{{entire,interleave,misleading}}/<id>.mp4 "
        "exist"
    ]


def download_vcgbench(base: Path, fetch: Fetcher) -> list[str]:
    """The three parquet splits and the video archive of lmms-lab/VideoChatGPT."""
    fetch.hub("lmms-lab/VideoChatGPT", ["*/test-00000-of-00001.parquet", "videos.zip"], base)
    archive = base / "videos.zip"
    if archive.exists():
        unpack(archive, base)
        nested = base / "videos"
        if nested.is_dir() and not (base / "Test_Videos").exists():
            nested.rename(base / "Test_Videos")
        archive.unlink()
    return []


def download_videocomp(base: Path, fetch: Fetcher) -> list[str]:
    """The two annotation files, ActivityNet tar parts and the YouCook2 archive."""
    for name in ("activitynet_comp_val.json", "youcook2_comp_val.json"):
        fetch.http(f"{VIDEOCOMP_URL}/{name}", base / name)
    parts_dir = base / "_activitynet_parts"
    fetch.hub("friedrichor/ActivityNet_Captions", ["ActivityNet_Videos.tar.part-*"], parts_dir)
    parts = sorted(parts_dir.glob("ActivityNet_Videos.tar.part-*"))
    if parts:
        joined = base / "ActivityNet_Videos.tar"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out)
        unpack(joined, base / "activitynet_video")
        joined.unlink()
        shutil.rmtree(parts_dir)
    yc = base / "_youcook2"
    fetch.hub("lmms-lab/YouCook2", ["YouCookIIVideos.zip"], yc)
    if (yc / "YouCookIIVideos.zip").exists():
        unpack(yc / "YouCookIIVideos.zip", base / "raw_videos" / "video")
        shutil.rmtree(yc)
    return []


def download_videomme(base: Path, fetch: Fetcher) -> list[str]:
    """Video-MME parquet and the chunked video archives, unpacked into ``video/``."""
    fetch.hub(
        "lmms-lab/Video-MME", ["videomme/test-00000-of-00001.parquet", "videos_chunked_*.zip"], base
    )
    nested = base / "videomme" / "test-00000-of-00001.parquet"
    if nested.exists():
        nested.replace(base / "test-00000-of-00001.parquet")
    for archive in sorted(base.glob("videos_chunked_*.zip")):
        unpack(archive, base / "video")
        archive.unlink()
    _flatten(base / "video")
    return []


def download_mvbench(base: Path, fetch: Fetcher) -> list[str]:
    """MVBench JSON annotations and per-source video archives, unpacked in ``video/``."""
    fetch.hub("OpenGVLab/MVBench", ["json/*.json", "video/*.zip"], base)
    for archive in sorted((base / "video").glob("*.zip")):
        if archive.name != "data0613.zip":
            unpack(archive, base / "video")
        archive.unlink()
    return ["MVBench fine_grained_pose (NTU RGB+D) is not redistributed and is skipped"]


def download_mlvu(base: Path, fetch: Fetcher) -> list[str]:
    """The MLVU dev set (repository ``MLVU/MVLU``) into the ``MLVU/MLVU`` layout."""
    fetch.hub("MLVU/MVLU", ["MLVU/json/*.json", "MLVU/video/**"], base.parent)
    return []


def _flatten(folder: Path) -> None:
    """Move files from nested sub-folders up into ``folder`` (chunked zips nest a directory)."""
    if not folder.is_dir():
        return
    for path in list(folder.rglob("*")):
        if path.is_file() and path.parent != folder:
            path.replace(folder / path.name)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()


DOWNLOADERS: dict[str, Callable[[Path, Fetcher], list[str]]] = {
    "eventhallusion": download_eventhallusion,
    "vcgbench": download_vcgbench,
    "videocomp": download_videocomp,
    "videomme": download_videomme,
    "mvbench": download_mvbench,
    "mlvu": download_mlvu,
}


def download(name: str, data_root: Path, fetch: Fetcher | None = None) -> tuple[Path, list[str]]:
    """Fetch benchmark ``name`` under ``data_root``; returns its folder and notes for the user."""
    from stop_eval.benchmarks import BENCHMARKS

    if name not in DOWNLOADERS:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(DOWNLOADERS)}")
    base = data_root / BENCHMARKS[name].folder
    base.mkdir(parents=True, exist_ok=True)
    notes = DOWNLOADERS[name](base, fetch or Fetcher(http=http_get, hub=hub_get))
    return base, notes

"""Resume and dedup of the evaluation loop, in-process and in seconds.

``run_shard`` answers only the samples of its rank that have no record yet (a killed run
resumes where it stopped, never answering a sample twice); ``merge_records`` returns one
record per sample id in sample order, the first written winning.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from stop_eval.benchmarks.base import Sample
from stop_eval.eval.records import read_records
from stop_eval.eval.runner import Shard, merge_records, records_path, run_shard


def samples(n: int) -> list[Sample]:
    return [Sample(f"s{i}", "mvbench", None, f"question {i}", "A") for i in range(n)]


class Answerer:
    """Answers a batch with one record per sample and remembers every id it was asked."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.asked: list[str] = []
        self.fail_after = fail_after

    def __call__(self, batch: list[Sample]) -> list[dict]:
        if self.fail_after is not None and len(self.asked) >= self.fail_after:
            raise KeyboardInterrupt  # the run is killed here
        self.asked += [s.id for s in batch]
        return [{"id": s.id, "pred": f"answer to {s.id}", "error": None} for s in batch]


def quiet() -> Console:
    return Console(file=io.StringIO())


ONE_RANK = Shard()


def run(items, answer, out: Path, shard: Shard = ONE_RANK, **kw) -> int:
    return run_shard(items, answer, out, shard, console=quiet(), **kw)


def test_rerun_answers_nothing_twice(tmp_path) -> None:
    items = samples(5)
    first = Answerer()
    assert run(items, first, tmp_path) == 5
    again = Answerer()
    assert run(items, again, tmp_path) == 0
    assert again.asked == []
    ids = [r["id"] for r in read_records(records_path(tmp_path, Shard()))]
    assert ids == [s.id for s in items]


def test_killed_run_resumes_with_the_missing_samples_only(tmp_path) -> None:
    items = samples(7)
    killed = Answerer(fail_after=3)
    try:
        run(items, killed, tmp_path, batch_size=1)
    except KeyboardInterrupt:
        pass
    assert killed.asked == ["s0", "s1", "s2"]
    resumed = Answerer()
    assert run(items, resumed, tmp_path, batch_size=2) == 4
    assert resumed.asked == ["s3", "s4", "s5", "s6"]
    ids = [r["id"] for r in read_records(records_path(tmp_path, Shard()))]
    assert sorted(ids) == sorted(s.id for s in items) and len(ids) == len(set(ids))


def test_retry_errors_answers_only_the_failed_samples(tmp_path) -> None:
    items = samples(4)
    path = records_path(tmp_path, Shard())
    rows = [{"id": "s0", "error": None}, {"id": "s1", "error": "video missing"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    retry = Answerer()
    assert run(items, retry, tmp_path, retry_errors=True) == 3
    assert retry.asked == ["s1", "s2", "s3"]
    assert [r["id"] for r in read_records(path)] == ["s0", "s1", "s2", "s3"]


def test_ranks_take_strided_shards_and_merge_in_sample_order(tmp_path) -> None:
    items = samples(7)
    asked = {}
    for rank in range(3):
        answer = Answerer()
        run(items, answer, tmp_path, Shard(rank, 3))
        asked[rank] = answer.asked
    assert asked == {0: ["s0", "s3", "s6"], 1: ["s1", "s4"], 2: ["s2", "s5"]}
    merged = merge_records(tmp_path, items, 3)
    assert [r["id"] for r in merged] == [s.id for s in items]


def test_merge_keeps_one_record_per_id_first_written_wins(tmp_path) -> None:
    items = samples(3)
    shard0 = records_path(tmp_path, Shard(0, 2))
    shard1 = records_path(tmp_path, Shard(1, 2))
    shard0.write_text(
        json.dumps({"id": "s0", "pred": "first"})
        + "\n"
        + json.dumps({"id": "s0", "pred": "dup"})
        + "\n"
    )
    shard1.write_text(
        json.dumps({"id": "s1", "pred": "one"})
        + "\n"
        + json.dumps({"id": "s0", "pred": "late"})
        + "\n"
    )
    merged = merge_records(tmp_path, items, 2)
    assert [(r["id"], r["pred"]) for r in merged] == [("s0", "first"), ("s1", "one")]

"""`output`: the journal and its run identity, the lock, the final formats, output checks. No model needed."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from stancetopic import output
from stancetopic.errors import OutputError, RefusedError

TOPICS = ["courts", "other"]
IDENTITY = {"inputs": "/news", "glob": "*", "model": "abc", "uncertain_below": {"stance": 0.8, "topic": 0.7}}


def record(n: int, text: str | None = None, source: str = "a.txt") -> dict:
    return {"source": source, "paragraph": n, "start": 0, "end": 5, "text": text or f"paragraph {n}",
            "stance": "affirms", "stance_score": 0.9, "topic": "courts", "topic_score": 0.8,
            "topic_scores": {"courts": 0.8, "other": 0.2}, "uncertain": False}  # fmt: skip


def journal_of(partial: Path, n: int, identity: dict = IDENTITY) -> None:
    journal = output.Journal.start(partial, identity, resume=False)
    journal.write([record(i) for i in range(n)])
    journal.close()


def test_the_journal_starts_with_the_run_identity_and_resume_keeps_whole_chunks(tmp_path):
    partial = tmp_path / "out.jsonl.partial"
    journal_of(partial, 7)
    with partial.open("a") as handle:
        handle.write('{"source": "a.txt", "paragraph": 7, "te')  # torn by a kill
    first = json.loads(partial.read_text().splitlines()[0])
    assert first == {output.HEADER_KEY: IDENTITY}
    kept, records = output.recover(partial, IDENTITY, 3)
    assert kept == 6 and [r["paragraph"] for r in records] == [0, 1, 2, 3, 4, 5]
    assert len(partial.read_text().splitlines()) == 7  # identity + 6 records, the rest cut off


def test_resume_of_another_run_is_refused_saying_what_differs(tmp_path):
    partial = tmp_path / "out.jsonl.partial"
    journal_of(partial, 4)
    before = partial.read_bytes()
    other = {**IDENTITY, "glob": "*.txt", "uncertain_below": {"stance": 0.5, "topic": 0.5}}
    with pytest.raises(RefusedError) as caught:
        output.recover(partial, other, 2)
    message = str(caught.value)
    assert "glob '*' there, '*.txt' now" in message
    assert "uncertain_below" in message and "model" not in message and "--overwrite" in message
    assert partial.read_bytes() == before  # nothing cut from a journal that is not ours


def test_a_journal_without_identity_is_resumed_and_given_one(tmp_path):
    partial = tmp_path / "old.partial"
    partial.write_text("".join(json.dumps(record(i)) + "\n" for i in range(5)))
    assert output.is_legacy(partial)
    kept, records = output.recover(partial, IDENTITY, 2)
    assert kept == 4 and len(list(records)) == 4
    assert not output.is_legacy(partial)
    assert json.loads(partial.read_text().splitlines()[0]) == {output.HEADER_KEY: IDENTITY}


def test_a_file_that_is_no_journal_is_not_truncated(tmp_path):
    partial = tmp_path / "x.partial"
    partial.write_text("not json at all\n")
    with pytest.raises(RefusedError, match="not a stancetopic journal"):
        output.recover(partial, IDENTITY, 2)
    assert partial.read_text() == "not json at all\n"


def test_undecodable_names_and_lone_surrogates_do_not_crash_the_journal(tmp_path):
    partial, out = tmp_path / "o.partial", tmp_path / "o.jsonl"
    journal = output.Journal.start(partial, {**IDENTITY, "inputs": "/news/caf\udcff"}, resume=False)
    journal.write([record(0, text="bad \ud800 half", source="caf\udcff.txt")])
    journal.close()
    output.finish(partial, out, "jsonl", TOPICS)
    back = json.loads(out.read_text(encoding="utf-8"))
    assert back["source"] == "caf\udcff.txt" and back["text"] == "bad \ud800 half"


def test_jsonl_output_leaves_the_identity_out_and_csv_neutralises_formulas(tmp_path):
    partial = tmp_path / "o.partial"
    rows = [record(0, "=HYPERLINK(\"http://x\")"), record(1, "+1 said"), record(2, "-2"), record(3, "@SUM(A1)"),
            record(4, "plain = fine")]  # fmt: skip
    for fmt in ("jsonl", "csv"):
        journal = output.Journal.start(partial, IDENTITY, resume=False)
        journal.write(rows)
        journal.close()
        output.finish(partial, tmp_path / f"o.{fmt}", fmt, TOPICS)
        assert not partial.exists()
    assert [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()] == rows
    with (tmp_path / "o.csv").open(newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    assert texts == ['\'=HYPERLINK("http://x")', "'+1 said", "'-2", "'@SUM(A1)", "plain = fine"]


def test_a_full_disk_while_finishing_removes_the_half_file_and_keeps_the_journal(tmp_path):
    partial, out = tmp_path / "o.partial", tmp_path / "o.csv"
    journal_of(partial, 3)
    (tmp_path / ".o.csv.tmp").symlink_to("/dev/full")  # every write there fails with ENOSPC
    with pytest.raises(OutputError, match="No space left on device") as caught:
        output.finish(partial, out, "csv", TOPICS)
    assert "--resume" in str(caught.value)
    assert not os.path.lexists(tmp_path / ".o.csv.tmp") and not out.exists()
    assert len(partial.read_text().splitlines()) == 4


def test_a_journal_on_a_full_disk_is_an_output_error(tmp_path):
    (tmp_path / "o.partial").symlink_to("/dev/full")
    with pytest.raises(OutputError, match=r"o\.partial: cannot write"):
        output.Journal.start(tmp_path / "o.partial", IDENTITY, resume=False)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "o.jsonl"
    with output.OutputLock(out):
        assert output.lock_path(out).read_text() == f"{os.getpid()}\n"
        with pytest.raises(RefusedError, match=rf"another stancetopic run \(pid {os.getpid()}\)"):
            output.OutputLock(out).__enter__()
    assert not output.lock_path(out).exists()
    with output.OutputLock(out):  # free again, and a stale lock file left by a kill does not block
        pass
    output.lock_path(out).write_text("12345\n")
    with output.OutputLock(out):
        pass


def test_targets_are_checked_before_any_work(tmp_path):
    out = tmp_path / "o.jsonl"
    with pytest.raises(RefusedError, match="-o and --summary name the same file"):
        output.prepare_targets({"-o": out, "--summary": tmp_path / "x" / ".." / "o.jsonl"}, overwrite=True)
    out.write_text("precious")
    with pytest.raises(RefusedError, match="exists; pass --overwrite"):
        output.prepare_targets({"-o": out}, overwrite=False)
    with pytest.raises(RefusedError, match="is a folder"):
        output.prepare_targets({"--html": tmp_path}, overwrite=True)
    with pytest.raises(OutputError, match="cannot create the folder for --summary"):
        output.prepare_targets({"--summary": out / "s.json"}, overwrite=False)  # under a file
    output.prepare_targets({"--summary": tmp_path / "new" / "deeper" / "s.json"}, overwrite=False)
    assert (tmp_path / "new" / "deeper").is_dir()
    assert out.read_text() == "precious"


def test_our_own_outputs_are_recognised(tmp_path):
    journal_of(tmp_path / "run.jsonl.partial", 1)
    (tmp_path / "labels.jsonl").write_text(json.dumps(record(0)) + "\n")
    (tmp_path / "news.jsonl").write_text(json.dumps({"title": "A headline", "text": "Body."}) + "\n")
    (tmp_path / "labels.csv").write_text(",".join(output.FIELDS[:6]) + ",stance_score\n")
    (tmp_path / "summary.json").write_text('{\n  "files": {}\n}\n')
    (tmp_path / "story.json").write_text('{"text": "x"}')
    found = {p.name for p in tmp_path.iterdir() if output.looks_like_output(p)}
    assert found == {"run.jsonl.partial", "labels.jsonl", "labels.csv", "summary.json"}


def test_stdout_writer_turns_a_closed_pipe_into_one_error(tmp_path):
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as handle:
        writer = output.StreamWriter(handle)
        with pytest.raises(OutputError, match="<stdout>: cannot write"):
            writer.write([record(0)] * 2000)


def test_infer_format():
    assert [output.infer_format(Path(n)) for n in ("a.CSV", "a.parquet", "a.jsonl", "a.txt")] == [
        "csv", "parquet", "jsonl", "jsonl"]  # fmt: skip
    assert output.infer_format(None) == "jsonl"

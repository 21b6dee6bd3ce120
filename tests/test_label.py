"""`stancetopic label` end to end with the real model, real files and real exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import label, make_deep_folder, many_paragraphs, read, write_corpus

FIELDS = ["source", "paragraph", "start", "end", "text", "stance", "stance_score", "topic",
          "topic_score", "topic_scores", "uncertain"]  # fmt: skip


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "in")


def test_every_format_is_labelled_in_sorted_order(corpus, model, tmp_path):
    out = tmp_path / "out.jsonl"
    result = label(corpus, "-o", out, "--model", model, "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    records = read(out)
    assert [(r["source"], r["paragraph"]) for r in records] == [
        ("a.txt", 0), ("a.txt", 1), ("a.txt", 2), ("b.md", 0), ("e.json", 0),
        ("sub/c.html", 0), ("sub/c.html", 1), ("sub/d.jsonl", 0), ("sub/d.jsonl", 1),
    ]  # fmt: skip
    texts = [r["text"] for r in records]
    assert texts[1] == ("Court quashes conviction of former mayor\nThe appeals court ruled on Tuesday "
                        "that the evidence had been unlawfully obtained.")  # fmt: skip
    assert texts[3].startswith("Inflation eases to 3 percent in October\n\nThe statistics office")
    assert texts[6] == "The mayor denied that the reception centre was full & said beds were free."
    assert (
        texts[7] == "Supreme court upholds sentence of ex-minister\n\nJudges dismissed the appeal on Friday."
    )
    assert not any(t in {"IANS", "Read Next", "Share this"} for t in texts)


def test_output_contract(corpus, model, tmp_path):
    out = tmp_path / "out.jsonl"
    label(corpus, "-o", out, "--model", model, "--no-cache", "--uncertain-below", "0.7")
    manifest = json.loads((model / "manifest.json").read_text())
    for record in read(out):
        assert list(record) == FIELDS
        assert record["stance"] in manifest["labels"]["stance"]
        assert list(record["topic_scores"]) == manifest["labels"]["topic"]
        assert abs(sum(record["topic_scores"].values()) - 1) < 1e-4
        assert record["topic_score"] == max(record["topic_scores"].values())
        assert record["topic_scores"][record["topic"]] == record["topic_score"]
        assert 0.5 <= record["stance_score"] <= 1
        assert record["uncertain"] == (record["stance_score"] < 0.7 or record["topic_score"] < 0.7)


def test_offsets_point_into_the_decoded_file(corpus, model, tmp_path):
    out = tmp_path / "out.jsonl"
    label(corpus, "-o", out, "--model", model, "--no-cache")
    for record in read(out):
        if record["source"].endswith((".txt", ".md")) or (
            record["start"] is not None and "\n" not in record["text"]
        ):
            source = (corpus / record["source"]).read_text()
            assert source[record["start"] : record["end"]] == record["text"]


def test_csv_and_parquet_carry_the_same_fields(corpus, model, tmp_path):
    import csv

    import pyarrow.parquet as pq

    label(corpus, "-o", tmp_path / "out.jsonl", "--model", model, "--no-cache")
    reference = read(tmp_path / "out.jsonl")
    label(corpus, "-o", tmp_path / "out.csv", "--model", model, "--no-cache")
    label(corpus, "-o", tmp_path / "out.pq", "--format", "parquet", "--model", model, "--no-cache")
    with (tmp_path / "out.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    table = pq.read_table(tmp_path / "out.pq").to_pylist()
    assert len(rows) == len(table) == len(reference)
    for ref, row, pq_row in zip(reference, rows, table, strict=True):
        assert row["text"] == pq_row["text"] == ref["text"]
        for topic, score in ref["topic_scores"].items():
            assert float(row[f"topic_score_{topic}"]) == pq_row[f"topic_score_{topic}"] == score
        assert pq_row["uncertain"] == ref["uncertain"] and row["uncertain"] == str(ref["uncertain"])


def test_refuses_to_overwrite_and_keeps_the_file(corpus, model, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    result = label(corpus, "-o", out, "--model", model, "--no-cache")
    assert result.exit_code == 2
    assert "exists; pass --overwrite" in result.stderr
    assert out.read_text() == "precious\n"
    assert label(corpus, "-o", out, "--model", model, "--no-cache", "--overwrite").exit_code == 0
    assert len(read(out)) == 9


def test_bad_inputs_are_named_and_the_rest_is_labelled(corpus, model, tmp_path):
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (corpus / "empty.txt").write_text("")
    (corpus / "latin.txt").write_bytes("Caf\xe9 owners in Lyon denied reports that the festival "
                                       "would be cancelled.\n".encode("latin-1"))  # fmt: skip
    (corpus / "broken.jsonl").write_text('{"text": "The army confirmed the drill."}\n{"text": \n{"x": 1}\n')
    (corpus / "huge.txt").write_text("word " * 5000)
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    out = tmp_path / "out.jsonl"
    result = label(corpus, "-o", out, "--model", model, "--no-cache", "--max-file-size", "20000")
    assert result.exit_code == 4
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {corpus}/binary.txt: binary file (NUL bytes)",
        f"error: {corpus}/broken.jsonl:2: bad JSON (Expecting value)",
        f"error: {corpus}/broken.jsonl:3: no string 'text' field",
        f"error: {corpus}/huge.txt: larger than the 20,000-byte limit (25,000 bytes)",
    ]
    assert f"note: {corpus}/notes.pdf: skipped (unsupported file type)" in result.stderr
    records = read(out)
    sources = [r["source"] for r in records]
    assert "latin.txt" in sources and "broken.jsonl" in sources and "empty.txt" not in sources
    assert not any(s.startswith("loop/loop") for s in sources)
    assert next(r for r in records if r["source"] == "latin.txt")["text"].startswith("Café owners")


def test_unusable_model_exits_3(corpus, model, tmp_path):
    result = label(corpus, "-o", tmp_path / "o.jsonl", "--model", tmp_path / "nowhere")
    assert result.exit_code == 3
    assert result.stderr.strip().endswith("no model manifest here; train one with `dvc repro`")
    assert not (tmp_path / "o.jsonl").exists()


def test_summary_file_and_cache_reuse(corpus, model, tmp_path):
    cache = tmp_path / "cache"
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    label(corpus, "-o", first, "--model", model, "--cache-dir", cache, "--summary", tmp_path / "s.json")
    label(corpus, "-o", second, "--model", model, "--cache-dir", cache)
    assert first.read_text() == second.read_text()
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["files"]["a.txt"]["paragraphs"] == 3
    assert set(summary["files"]["a.txt"]["stance_share"]) == {"affirms", "denies"}
    import sqlite3

    rows = sqlite3.connect(cache / "embeddings.sqlite3").execute("SELECT COUNT(*) FROM embeddings")
    assert rows.fetchone()[0] == 9


def test_help_imports_no_heavy_library():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom stancetopic.cli import main\n"
        "assert CliRunner().invoke(main, ['label', '--help']).exit_code == 0\n"
        "print(sorted({'torch', 'sentence_transformers', 'sklearn', 'datasets'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_resume_after_sigkill_equals_an_uninterrupted_run(model, tmp_path):
    corpus = tmp_path / "many"
    many_paragraphs(corpus)
    reference = tmp_path / "reference.jsonl"
    summary = tmp_path / "reference-summary.json"
    assert label(corpus, "-o", reference, "--model", model, "--no-cache", "--summary", summary).exit_code == 0

    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    command = [sys.executable, "-m", "stancetopic.cli", "label", str(corpus), "-o", str(out),
               "--model", str(model), "--no-cache", "-q"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    deadline = time.time() + 600
    while time.time() < deadline and (not partial.exists() or len(partial.read_bytes().splitlines()) < 2):
        time.sleep(0.05)  # the run's identity line, then at least one chunk of records
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(partial.read_bytes().splitlines()) > 1  # something to recover, or the test proves nothing
    assert not out.exists() and partial.stat().st_size > 0
    with partial.open("a") as handle:
        handle.write('{"source": "article-05.txt", "paragraph": 3, "te')  # a torn last line

    refused = label(corpus, "-o", out, "--model", model, "--no-cache")
    assert refused.exit_code == 2 and "--resume" in refused.stderr
    resumed = tmp_path / "resumed-summary.json"
    result = label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "-q", "--summary", resumed)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert not partial.exists()
    # The summary counts the records recovered from the journal, not only those scored after it.
    expected = json.loads(summary.read_text())
    assert json.loads(resumed.read_text())["files"] == expected["files"]
    assert sum(row["paragraphs"] for row in expected["files"].values()) == len(read(reference))


def test_a_warm_cache_run_never_loads_the_embedder(corpus, model, tmp_path):
    cache = tmp_path / "cache"
    assert label(corpus, "-o", tmp_path / "1.jsonl", "--model", model, "--cache-dir", cache).exit_code == 0
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom stancetopic.cli import main\n"
        f"r = CliRunner().invoke(main, ['label', {str(corpus)!r}, '-o', {str(tmp_path / '2.jsonl')!r}, "
        f"'--model', {str(model)!r}, '--cache-dir', {str(cache)!r}, '-q'])\n"
        "print(r.exit_code, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False", "False"]
    assert (tmp_path / "1.jsonl").read_bytes() == (tmp_path / "2.jsonl").read_bytes()


def test_a_lone_headline_gets_a_record_and_each_file_an_article_stance(model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    headline = "Egypt's President denies offering land to Palestinians"
    (folder / "headline.txt").write_text(headline + "\n")
    (folder / "titles.jsonl").write_text(json.dumps({"title": "Minister confirms new port tariffs"}) + "\n")
    (folder / "story.txt").write_text(ARTICLE_FOR_STANCE)
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = label(folder, "-o", out, "--model", model, "--no-cache", "--summary", summary)
    assert result.exit_code == 0, result.output
    texts = {r["source"]: r["text"] for r in read(out)}
    assert texts["headline.txt"] == headline
    assert texts["titles.jsonl"] == "Minister confirms new port tariffs"
    files = json.loads(summary.read_text())["files"]
    article = files["story.txt"]["article_stance"]
    assert article["stance"] in ("affirms", "denies") and 0.5 <= article["probability"] <= 1
    manifest = json.loads((model / "manifest.json").read_text())
    assert article["uncertain"] == (article["probability"] < manifest["uncertain_below"]["stance"])
    table = [line for line in result.output.splitlines() if line.startswith("story.txt")]
    assert table and f"{article['stance']} {article['probability']:.2f}" in table[0]
    strict = tmp_path / "strict.json"  # --uncertain-below governs the article flag too
    label(folder, "-o", tmp_path / "strict.jsonl", "--model", model, "--no-cache", "--summary", strict,
          "--uncertain-below", "0.999")  # fmt: skip
    assert json.loads(strict.read_text())["files"]["story.txt"]["article_stance"]["uncertain"]


ARTICLE_FOR_STANCE = """Claim that the port was sold is false

A post shared online said the port had been sold to a foreign company.

The ministry said no sale had taken place and called the post untrue.
"""


def start_label(corpus: Path, out: Path, model: Path) -> subprocess.Popen:
    """A label run in its own process, returned once its first chunk is in the journal."""
    command = [sys.executable, "-m", "stancetopic.cli", "label", str(corpus), "-o", str(out),
               "--model", str(model), "--no-cache", "-q"]  # fmt: skip
    # A shell without job control starts background jobs with SIGINT ignored, and a
    # child inherits that: give the run Ctrl-C's default, as a terminal would.
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    partial = out.with_name(out.name + ".partial")
    deadline = time.time() + 180
    while time.time() < deadline and (not partial.exists() or len(partial.read_bytes().splitlines()) < 2):
        time.sleep(0.05)
    return process


def test_ctrl_c_says_how_to_resume_and_only_the_same_run_resumes(model, tmp_path):
    corpus = many_paragraphs(tmp_path / "many")
    out = tmp_path / "out.jsonl"
    process = start_label(corpus, out, model)
    process.send_signal(signal.SIGSTOP)  # paused, not finished, however slow the checks below are
    # A second writer on the same OUT is refused while the first runs, --overwrite or not.
    for extra in ((), ("--overwrite",)):
        second = label(corpus, "-o", out, "--model", model, "--no-cache", *extra)
        assert second.exit_code == 2 and f"another stancetopic run (pid {process.pid})" in second.stderr
    assert out.with_name("out.jsonl.partial").exists()
    process.send_signal(signal.SIGINT)  # pending until the run goes on: Ctrl-C mid-run
    process.send_signal(signal.SIGCONT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == [
        f"error: interrupted: {out}.partial keeps what was done; rerun the same command with --resume to go on"
    ]
    refused = label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "--uncertain-below", "0.9")
    assert refused.exit_code == 2
    assert "--resume refused, the unfinished run differs: uncertain_below" in refused.stderr
    refused = label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "--glob", "article-0*")
    assert refused.exit_code == 2 and "glob '*' there, 'article-0*' now" in refused.stderr
    result = label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "-q")
    assert result.exit_code == 0, result.stderr
    assert len(read(out)) == 12 * 120


def test_stdout_output_and_a_single_file(corpus, model, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    assert label(corpus, "-o", out, "--model", model, "--no-cache").exit_code == 0
    monkeypatch.chdir(tmp_path)
    piped = label(corpus, "-o", "-", "--model", model, "--no-cache")
    assert piped.exit_code == 0, piped.stderr
    assert [json.loads(line) for line in piped.stdout.splitlines()] == read(out)
    assert "9 paragraphs in 5 files -> <stdout>" in piped.stderr
    assert not (tmp_path / "-").exists() and not list(tmp_path.glob("*.partial"))
    single = label(corpus / "a.txt", "-o", tmp_path / "one.jsonl", "--model", model, "--no-cache")
    assert single.exit_code == 0, single.stderr
    where = ("source", "paragraph", "start", "end", "text")  # scores move in the last digits with the batch
    assert [[r[k] for k in where] for r in read(tmp_path / "one.jsonl")] == [
        [r[k] for k in where] for r in read(out) if r["source"] == "a.txt"
    ]


def test_a_full_disk_is_one_line_and_the_journal_is_kept_for_resume(corpus, model, tmp_path):
    out = tmp_path / "out.csv"
    (tmp_path / ".out.csv.tmp").symlink_to("/dev/full")  # writing OUT fails with ENOSPC
    result = label(corpus, "-o", out, "--model", model, "--no-cache", "-q")
    assert result.exit_code == 7
    assert result.stderr.splitlines() == [
        f"error: {out}: cannot write (No space left on device); {out}.partial is kept: "
        "free space, then rerun with --resume"
    ]
    assert not os.path.lexists(tmp_path / ".out.csv.tmp") and (tmp_path / "out.csv.partial").exists()
    assert label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "-q").exit_code == 0
    assert out.read_text().startswith("source,paragraph,")


def test_a_file_name_that_is_not_utf8_is_labelled(corpus, model, tmp_path):
    with open(bytes(corpus) + b"/caf\xff.txt", "w") as handle:
        handle.write("The ministry confirmed on Monday that the new bridge would open in May.\n")
    for out in (tmp_path / "out.jsonl", tmp_path / "out.parquet"):
        result = label(corpus, "-o", out, "--model", model, "--no-cache", "--summary", f"{out}.json")
        assert result.exit_code == 0, result.stderr
    assert "caf\ufffd.txt" in {r["source"] for r in read(tmp_path / "out.jsonl")}
    assert "caf\ufffd.txt" in json.loads((tmp_path / "out.parquet.json").read_text())["files"]


def test_a_resumed_summary_counts_the_recovered_records(model, tmp_path):
    corpus = many_paragraphs(tmp_path / "many", files=5, per_file=120)  # 600 paragraphs: one whole chunk
    reference, summary = tmp_path / "reference.jsonl", tmp_path / "reference.json"
    assert (
        label(corpus, "-o", reference, "--model", model, "--no-cache", "-q", "--summary", summary).exit_code
        == 0
    )
    out, resumed = tmp_path / "out.jsonl", tmp_path / "resumed.json"
    records = reference.read_text().splitlines(keepends=True)
    (tmp_path / "out.jsonl.partial").write_text("".join(records[:600]))  # an older version's journal
    result = label(corpus, "-o", out, "--model", model, "--no-cache", "--resume", "-q", "--summary", resumed)
    assert result.exit_code == 0, result.stderr
    assert "no run identity to check" in result.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert json.loads(resumed.read_text())["files"] == json.loads(summary.read_text())["files"]


def test_a_folder_past_path_max_is_one_error_and_every_other_file_is_labelled(model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(
        "The ministry confirmed the new tariff on Monday after weeks of talks.\n"
    )
    make_deep_folder(folder)
    result = label(folder, "-o", tmp_path / "out.jsonl", "--model", model, "--no-cache", "-q")
    assert result.exit_code == 4, result.output
    assert [r["source"] for r in read(tmp_path / "out.jsonl")] == ["good.txt"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot open this folder" in errors[0]

"""`stancetopic label` on table files (CSV, TSV, Parquet, JSON Lines): real model, real files, real exits."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers import label, read

# A small news export in our own words: one article a row.
HEADER = ["story_id", "published", "outlet", "words", "headline", "body"]
ROWS = [
    ["s1", "2026-03-01", "Daily Ledger", 41, "Ministry denies drone contract was cancelled",
     "The defence ministry said on Monday that the contract stands and no order was withdrawn.\n\n"
     "Deliveries of the first drones will start in May, officials said."],
    ["s2", "2026-03-02", "", 12, "", "Prices rose 3.0 percent in February, the statistics office said."],
    ["s3", "2026-03-02", "=Evening Courier", 30, "Court upholds sentence of former port director",
     "Judges dismissed the appeal in full on Friday, the court said in a statement."],
]  # fmt: skip
COLUMNS = ("--text-column", "body", "--headline-column", "headline", "--id-column", "story_id")
KEEP = ("--keep-column", "outlet", "--keep-column", "published", "--keep-column", "words")


def write_table(path: Path, rows: list[list] = ROWS, header: list[str] = HEADER) -> Path:
    """The rows as a table file of the path's format; CSV and TSV values are text, others keep their type."""
    if path.suffix == ".parquet":
        pq.write_table(
            pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)}), path, row_group_size=2
        )
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(dict(zip(header, r, strict=True))) + "\n" for r in rows))
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter="\t" if path.suffix == ".tsv" else ",").writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One embedding cache for the module: after the first run, the same texts are not embedded again."""
    return tmp_path_factory.mktemp("cache")


def run_label(table: Path, out: Path, model: Path, cache: Path, *extra: object):
    return label(table, "-o", out, "--model", model, "--cache-dir", cache, *extra)


# `stancetopic label` end to end with the real model.


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_each_table_format_is_labelled_row_by_row(tmp_path, model, cache, suffix):
    table = write_table(tmp_path / f"export{suffix}")
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = run_label(table, out, model, cache, *COLUMNS, *KEEP, "--summary", summary)
    assert result.exit_code == 0, result.stderr
    records = read(out)
    assert [(r["source"], r["paragraph"]) for r in records] == [
        (f"export{suffix}#s1", 0), (f"export{suffix}#s1", 1), (f"export{suffix}#s2", 0), (f"export{suffix}#s3", 0)
    ]  # fmt: skip
    assert records[0]["text"].startswith(
        "Ministry denies drone contract was cancelled\n\nThe defence ministry"
    )
    assert records[3]["text"].startswith("Court upholds sentence of former port director\n\nJudges dismissed")
    assert records[2]["text"] == ROWS[1][5]  # no headline: the body alone
    assert all(r["start"] is None and r["end"] is None for r in records)
    # Kept columns follow the fields as top-level keys; CSV and TSV cells are text, the others keep their type.
    words = [41, 41, 12, 30] if suffix in (".parquet", ".jsonl") else ["41", "41", "12", "30"]
    assert [(r["outlet"], r["published"], r["words"]) for r in records] == [
        ("Daily Ledger", "2026-03-01", words[0]), ("Daily Ledger", "2026-03-01", words[1]),
        (None, "2026-03-02", words[2]),  # an empty value is null
        ("=Evening Courier", "2026-03-02", words[3])]  # fmt: skip
    assert list(records[0])[-3:] == ["outlet", "published", "words"]
    files = json.loads(summary.read_text())["files"]
    assert list(files) == [f"export{suffix}"] and files[f"export{suffix}"]["rows"] == 3
    assert files[f"export{suffix}"]["paragraphs"] == 4
    assert f"4 paragraphs in 3 rows -> {out}" in result.stderr


def test_kept_columns_in_csv_and_parquet_outputs(tmp_path, model, cache):
    table = write_table(tmp_path / "export.parquet")
    for out in (tmp_path / "out.csv", tmp_path / "out.parquet"):
        assert run_label(table, out, model, cache, *COLUMNS, *KEEP).exit_code == 0
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-3:] == ["outlet", "published", "words"]
    assert [(r["source"], r["outlet"], r["words"]) for r in rows] == [
        ("export.parquet#s1", "Daily Ledger", "41"), ("export.parquet#s1", "Daily Ledger", "41"),
        ("export.parquet#s2", "", "12"), ("export.parquet#s3", "'=Evening Courier", "30")]  # fmt: skip
    parquet = pq.read_table(tmp_path / "out.parquet")
    assert parquet.schema.field("words").type == pa.int64()
    assert parquet.schema.field("published").type == pa.string()
    assert parquet.column("outlet").to_pylist() == ["Daily Ledger", "Daily Ledger", None, "=Evening Courier"]
    # The README's example: stance shares per outlet with pandas.
    frame = parquet.to_pandas()
    shares = frame.groupby("outlet")["stance"].value_counts(normalize=True)
    assert shares.index.get_level_values("outlet").unique().tolist() == ["=Evening Courier", "Daily Ledger"]


def test_bad_rows_are_named_exit_4_and_the_rest_is_labelled(tmp_path, model, cache):
    table = tmp_path / "export.csv"
    write_table(table, [ROWS[0], ["s2", "2026-03-02", "X", "1", "A headline"], ROWS[2],
                        ["s4", "2026-03-03", "X", "1", "Another headline", "   "], ROWS[1]])  # fmt: skip
    out = tmp_path / "out.jsonl"
    result = run_label(table, out, model, cache, *COLUMNS, "-q")
    assert result.exit_code == 4
    assert result.stderr.splitlines() == [
        f"error: {table}:5: 5 fields, the header has 6",
        f"error: {table}:7: empty text (column 'body')",
    ]
    assert sorted({r["source"] for r in read(out)}) == ["export.csv#s1", "export.csv#s2", "export.csv#s3"]


def test_a_header_without_the_text_column_is_one_error(tmp_path, model, cache):
    table = write_table(tmp_path / "export.csv")
    out = tmp_path / "out.jsonl"
    result = run_label(table, out, model, cache)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {table}: no column 'text' (the columns are: story_id, published, outlet, words, headline, "
        "body); name the text column with --text-column"
    ]
    assert not list(tmp_path.glob("out.jsonl*"))


def test_column_options_need_a_table_and_ray_refuses_one(tmp_path, model, cache):
    folder = tmp_path / "in"
    folder.mkdir()
    write_table(folder / "export.jsonl")
    # Without --text-column a .jsonl file is an article file of JSON records (`text`, `headline`): none here.
    refused = run_label(
        folder / "export.jsonl", tmp_path / "o.jsonl", model, cache, "--id-column", "story_id"
    )
    assert refused.exit_code == 2
    assert (
        "--id-column: only for a table file (.csv, .tsv, .parquet, or .jsonl with --text-column)"
        in refused.stderr
    )
    refused = run_label(folder, tmp_path / "o.jsonl", model, cache, "--text-column", "body")
    assert refused.exit_code == 2 and "--text-column: only for a table file" in refused.stderr
    ray = label(folder / "export.jsonl", "-o", tmp_path / "o.jsonl", "--model", model, "--engine", "ray",
                "--text-column", "body")  # fmt: skip
    assert ray.exit_code == 2 and "the Ray engine does not read table files" in ray.stderr


def test_stdout_output_of_a_table(tmp_path, model, cache, monkeypatch):
    table = write_table(tmp_path / "export.tsv")
    monkeypatch.chdir(tmp_path)
    piped = run_label(table, "-", model, cache, *COLUMNS, "--keep-column", "outlet")
    assert piped.exit_code == 0, piped.stderr
    records = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["outlet"] for r in records] == ["Daily Ledger", "Daily Ledger", None, "=Evening Courier"]


def many_rows(path: Path, rows: int = 400) -> Path:
    """A table of distinct articles, two paragraphs each: enough for two 512-paragraph chunks."""
    return write_table(
        path,
        [[f"r{i}", f"2026-01-{i % 28 + 1:02d}", f"Outlet {i % 5}", i,
          f"District {i} approves {i * 3 + 7} new homes after long vote",
          f"Officials in district {i} said on day {i % 30} that the plan had been approved.\n\n"
          f"Residents of block {i} denied that {i % 9 + 2} schools would close next year."]
         for i in range(rows)],
    )  # fmt: skip


def test_resume_of_a_table_run_equals_an_uninterrupted_run(tmp_path, model):
    table = many_rows(tmp_path / "many.csv")
    options = [*COLUMNS, "--keep-column", "outlet", "--no-cache", "-q"]
    reference = tmp_path / "reference.parquet"
    assert label(table, "-o", reference, "--model", model, *options).exit_code == 0

    out = tmp_path / "out.parquet"
    partial = tmp_path / "out.parquet.partial"
    command = [sys.executable, "-m", "stancetopic.cli", "label", str(table), "-o", str(out),
               "--model", str(model), *options]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline and (not partial.exists() or len(partial.read_bytes().splitlines()) < 2):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists() and partial.stat().st_size > 0

    other = label(table, "-o", out, "--model", model, *COLUMNS, "--no-cache", "--resume")
    assert other.exit_code == 2 and "--resume refused, the unfinished run differs: columns" in other.stderr
    result = label(table, "-o", out, "--model", model, *options, "--resume")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert pq.read_table(out).num_rows == 800

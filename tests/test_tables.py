"""Reading table files (CSV, TSV, Parquet, JSON Lines) a row at a time: columns, kept values, problems."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stancetopic.tables import Columns, Row, RowProblem, TableError, read_table

# A small news export in our own words: one article a row.
HEADER = ["story_id", "published", "outlet", "headline", "body"]
ROWS = [
    ["s1", "2026-03-01", "Daily Ledger", "Ministry denies drone contract was cancelled",
     "The defence ministry said on Monday that the contract stands.\n\nDeliveries start in May."],
    ["s2", "2026-03-02", "", "", "Prices rose 3.0 percent in February, the statistics office said."],
    ["s3", "2026-03-02", "Evening Courier", "Court upholds sentence", "Judges dismissed the appeal, \"in full\"."],
]  # fmt: skip
COLUMNS = Columns(text="body", headline="headline", id="story_id", keep=("published", "outlet"))


def write_delimited(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t" if path.suffix == ".tsv" else ",")
        writer.writerows([header, *rows])
    return path


def write_jsonl(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.write_text("".join(json.dumps(dict(zip(header, r, strict=True))) + "\n" for r in rows))
    return path


def write_parquet(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(header)})
    pq.write_table(table, path, row_group_size=2)  # several row groups, read batch by batch
    return path


WRITERS = {".csv": write_delimited, ".tsv": write_delimited, ".jsonl": write_jsonl, ".parquet": write_parquet}


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_each_format_yields_rows_with_id_headline_text_and_kept_columns(tmp_path, suffix):
    path = WRITERS[suffix](tmp_path / f"export{suffix}", ROWS)
    rows = list(read_table(path, COLUMNS))
    assert all(isinstance(r, Row) for r in rows)
    assert [r.id for r in rows] == ["s1", "s2", "s3"]
    assert rows[0].headline == "Ministry denies drone contract was cancelled"
    assert rows[1].headline is None  # an empty headline is no headline
    assert rows[0].text.endswith("Deliveries start in May.")  # a quoted multi-line field stays whole
    assert rows[2].text == 'Judges dismissed the appeal, "in full".'
    assert [r.kept for r in rows] == [
        {"published": "2026-03-01", "outlet": "Daily Ledger"},
        {"published": "2026-03-02", "outlet": None},  # an empty value is null
        {"published": "2026-03-02", "outlet": "Evening Courier"},
    ]
    # Where each row is: the line it starts on (the header is line 1; row 1 spans
    # lines 2-4 in CSV), or the row number in Parquet.
    expected = {".csv": [2, 5, 6], ".tsv": [2, 5, 6], ".jsonl": [1, 2, 3], ".parquet": [1, 2, 3]}
    assert [r.row for r in rows] == expected[suffix]


def test_default_columns_read_only_the_text(tmp_path):
    path = write_delimited(tmp_path / "t.csv", [["a body text here"]], header=["text"])
    assert list(read_table(path)) == [Row(2, None, None, "a body text here", {})]


def test_parquet_values_keep_their_meaning(tmp_path):
    path = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table({"id": [7, 8], "day": [datetime.date(2026, 3, 1), None], "words": [120, 80],
                  "text": ["Officials confirmed the deal.", "The report was denied."]}),
        path,
    )  # fmt: skip
    rows = list(read_table(path, Columns(id="id", keep=("day", "words"))))
    assert [(r.id, r.kept) for r in rows] == [
        ("7", {"day": "2026-03-01", "words": 120}),
        ("8", {"day": None, "words": 80}),
    ]


def test_bad_rows_are_named_and_the_others_still_read(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"story_id,headline,body\n"
        b"s1,Headline one,A good first body.\n"
        b"s2,Headline two,\n"  # empty text
        b"s3,only two fields\n"  # a missing value
        b",Headline four,A body without an id.\n"
        b"s5,Caf\xe9 headline,Latin-1 bytes in the middle.\n"  # not UTF-8
        b"s6,Headline six,A good last body.\n"
    )
    items = list(read_table(path, Columns(text="body", headline="headline", id="story_id")))
    assert [r.id for r in items if isinstance(r, Row)] == ["s1", "s6"]
    assert [str(p) for p in items if isinstance(p, RowProblem)] == [
        f"{path}:3: empty text (column 'body')",
        f"{path}:4: 2 fields, the header has 3",
        f"{path}:5: empty id (column 'story_id')",
        f"{path}:6: not UTF-8 text",
    ]


def test_bad_json_lines_are_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        'not json\n{"text": "A first good line of text."}\n\n[1, 2]\n{"text": 3}\n{"text": "Last."}\n'
    )
    items = list(read_table(path))
    assert [r.text for r in items if isinstance(r, Row)] == ["A first good line of text.", "Last."]
    reasons = {p.row: p.reason for p in items if isinstance(p, RowProblem)}
    assert set(reasons) == {1, 4, 5}
    assert reasons[1].startswith("not JSON")
    assert reasons[4] == "not a JSON object"
    assert reasons[5] == "column 'text' holds int, not text"


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_a_header_without_the_text_column_is_one_error_before_any_row(tmp_path, suffix):
    path = WRITERS[suffix](tmp_path / f"export{suffix}", ROWS)
    rows = read_table(path, Columns(text="article", keep=("outlet", "url")))
    with pytest.raises(TableError) as caught:
        next(rows)
    assert str(caught.value) == (
        f"{path}: no column 'article', 'url' (the columns are: story_id, published, outlet, headline, body)"
    )


def test_unreadable_files_are_one_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TableError, match="empty file, no header row"):
        list(read_table(empty))
    fake = tmp_path / "fake.parquet"
    fake.write_text("text\nnot parquet at all\n")
    with pytest.raises(TableError, match="not a readable Parquet file"):
        list(read_table(fake))
    with pytest.raises(TableError, match="not a table file"):
        list(read_table(tmp_path / "notes.txt"))

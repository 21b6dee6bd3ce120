"""`table_input`: a table's rows as paragraph units, sources and kept values; refusals. No model needed."""

from __future__ import annotations

import pytest

from stancetopic import labeling
from stancetopic.errors import RefusedError
from stancetopic.table_input import Problem, TableInput
from stancetopic.tables import Columns
from tests.test_label_tables import ROWS, write_table


def test_rows_become_sources_units_and_kept_values(tmp_path):
    table = TableInput.open(
        write_table(tmp_path / "t.csv"), Columns("body", "headline", None, ("outlet",)), "t.csv"
    )
    items = [i for i in table.paragraphs() if i is not None]
    assert [(source, index) for source, index, _, _ in items] == [
        ("t.csv#2", 0), ("t.csv#2", 1), ("t.csv#5", 0), ("t.csv#6", 0)]  # fmt: skip
    # A headline is joined with its lead, as in a JSON article record.
    assert items[0][2].text == (
        "Ministry denies drone contract was cancelled\n\nThe defence ministry said on Monday that the "
        "contract stands and no order was withdrawn."
    )
    assert [kept for _, _, _, kept in items] == [{"outlet": "Daily Ledger"}] * 2 + [
        {"outlet": None}, {"outlet": "=Evening Courier"}]  # fmt: skip


def test_a_bad_row_is_a_problem_in_its_place(tmp_path):
    rows = [ROWS[0], ["s2", "2026-03-02", "X", 1, "A headline", ""], ROWS[2]]
    table = TableInput.open(
        write_table(tmp_path / "t.jsonl", rows), Columns("body", id="story_id"), "t.jsonl"
    )
    outcome = labeling.Outcome(table="t.jsonl")
    sources = [source for source, *_ in labeling.paragraphs(table, 0, outcome)]
    assert sources == ["t.jsonl#s1", "t.jsonl#s1", "t.jsonl#s3"]
    assert outcome.problems == [("t.jsonl:2", "empty text (column 'body')")]
    assert outcome.files["t.jsonl"].rows == 2
    assert Problem("t.jsonl:2", "empty text (column 'body')") in list(table.paragraphs())


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (Columns("article"), "no column 'article' (the columns are: story_id, published, outlet, words, "
                             "headline, body); name the text column with --text-column"),
        (Columns("body", keep=("url",)), "no column 'url' (the columns are: "),
        (Columns("body", keep=("text", "topic_score_x")), "--keep-column 'text', 'topic_score_x': an output"),
    ],
)  # fmt: skip
def test_a_table_that_cannot_be_labelled_is_refused_before_any_row(tmp_path, columns, message):
    with pytest.raises(RefusedError) as caught:
        TableInput.open(write_table(tmp_path / "t.csv"), columns, "t.csv")
    assert message in str(caught.value) and "\n" not in str(caught.value)

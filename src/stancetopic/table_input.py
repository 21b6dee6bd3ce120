"""A table file as `label` input: each row one article, its paragraphs labelled like a JSON record's.

A news export (CSV, TSV, Parquet, or JSON Lines with `--text-column`) is read
a row at a time by `tables.read_table`, so a multi-GB file is never held in
memory. A row's headline and text are cut into paragraph units by the same
rules as a JSON article record (`readers.record_units`: a headline joined with
its lead). Records name their row as `FILE#<id>` (the `--id-column` value) or
`FILE#<row>` (where `tables` says the row is: the line it starts on, or the
Parquet row number), and carry the kept columns' values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from stancetopic.errors import RefusedError
from stancetopic.output import FIELDS, looks_like_output
from stancetopic.paragraphs import Segment
from stancetopic.readers import record_units
from stancetopic.tables import Columns, RowProblem, TableError, check_columns, open_table, read_table

# Always tables; a `.jsonl` file is one only with --text-column (else it is an article file of JSON records).
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
JSONL = ".jsonl"

Item = tuple[str, int, Segment, Mapping[str, object]]  # source, paragraph index, unit, kept values


def is_table(path: Path, text_column: str | None) -> bool:
    """Whether `label` reads `path` as a table: by its suffix, and `.jsonl` only with a text column."""
    suffix = path.suffix.lower()
    return path.is_file() and (suffix in TABLE_SUFFIXES or (suffix == JSONL and text_column is not None))


@dataclass(frozen=True)
class Problem:
    """A row that could not be labelled: where (`FILE:row`) and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class TableInput:
    """One table file to label and the columns that hold what; `name` is the file's name in records."""

    path: Path
    columns: Columns
    name: str

    @classmethod
    def open(cls, path: Path, columns: Columns, name: str) -> TableInput:
        """The table, checked before any work: RefusedError when it is no usable input.

        Refused: a stancetopic output (it would be labelled as news), a file
        that is not a table, a header without a named column, and a kept
        column whose name is an output field (the two would collide).
        """
        if looks_like_output(path):
            raise RefusedError(f"{path}: a stancetopic output; label the news export, not a label output")
        clashes = [c for c in columns.keep if c in FIELDS or c.startswith("topic_score_")]
        if clashes:
            raise RefusedError(
                f"--keep-column {', '.join(map(repr, clashes))}: an output field has that name; "
                "rename the column in the table"
            )
        hint = ""
        try:
            with open_table(path, only=columns.named()) as (header, _):
                if columns.text not in header:
                    hint = "; name the text column with --text-column"
                check_columns(path, header, columns.named())
        except TableError as exc:
            raise RefusedError(f"{exc}{hint}") from None
        return cls(path, columns, name)

    def paragraphs(self) -> Iterator[Item | Problem | None]:
        """Every row's paragraph units in order, a problem in place of a bad row, None after each usable row.

        The None lets the caller count rows (a row may have no paragraph
        left after the paragraph rules, such as one of boilerplate only).
        """
        try:
            for row in read_table(self.path, self.columns):
                if isinstance(row, RowProblem):
                    yield Problem(f"{self.name}:{row.row}", row.reason)
                    continue
                source = f"{self.name}#{row.id if row.id is not None else row.row}"
                for index, unit in enumerate(record_units({"headline": row.headline, "text": row.text})):
                    yield source, index, unit, row.kept
                yield None
        except TableError as exc:  # a Parquet file that breaks part way: the rows before it are labelled
            where, _, reason = str(exc).removeprefix(f"{self.path}:").partition(": ")
            yield Problem(f"{self.name}:{where}", reason)

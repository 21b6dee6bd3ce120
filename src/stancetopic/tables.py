"""Streamed reading of table files: CSV, TSV, Parquet and JSON Lines, a row at a time.

Exports from news databases are often larger than memory, so nothing here
loads a whole file: CSV and TSV go through the `csv` module line by line,
Parquet batch by batch (`ParquetFile.iter_batches`, only the columns asked
for), JSON Lines line by line. A header that lacks a named column is one
`TableError`, raised before any row; a bad row is a `RowProblem` yielded in its
place, so every other row is still read.

Where a row is (`RowProblem.row`, `Row.row`): for CSV, TSV and JSON Lines the
line of the file where the row starts (the header is line 1), for Parquet the
1-based row number.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl")
PARQUET_BATCH_ROWS = 1024
PARQUET_READ_BYTES = 1 << 20
# A field longer than this (characters) is a bad row rather than unbounded memory,
# e.g. after a stray quote that never closes; the `label` size limit for a file.
MAX_FIELD_CHARS = 20_000_000


class TableError(ValueError):
    """The file cannot be read as a table at all; the message says where and why."""


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot be used, and why; `str()` is `file:row: reason`."""

    path: Path
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.row}: {self.reason}"


@dataclass(frozen=True)
class Columns:
    """Which columns hold what: the text (required), and optional headline, id and kept columns."""

    text: str = "text"
    headline: str | None = None
    id: str | None = None
    keep: tuple[str, ...] = ()

    def named(self) -> list[str]:
        """Every column asked for, once each, in a stable order."""
        return list(dict.fromkeys(c for c in (self.id, self.headline, self.text, *self.keep) if c))


@dataclass(frozen=True)
class Row:
    """One usable row: its position, id, headline and text, and the kept columns' values."""

    row: int
    id: str | None
    headline: str | None
    text: str
    kept: dict[str, object] = field(default_factory=dict)


RawRow = tuple[int, dict[str, object]]


def is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


@contextmanager
def open_table(
    path: Path, only: Sequence[str] | None = None, kind: str | None = None
) -> Iterator[tuple[list[str], Iterator[RawRow | RowProblem]]]:
    """The file's column names and an iterator over its rows as `(row, {column: value})`.

    CSV and TSV values are strings; JSON Lines and Parquet keep their types.
    JSON Lines has no header: its columns are the keys of the first object.
    `only` limits the columns read from Parquet (the others are not even
    decoded). `kind` (one of TABLE_SUFFIXES) overrides the file's suffix. The
    file stays open inside the `with` block.
    """
    suffix = kind or path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise TableError(f"{path}: not a table file (expected {', '.join(TABLE_SUFFIXES)})")
    with ExitStack() as stack:
        try:
            if suffix == ".parquet":
                table = _parquet(path, only, stack)
            else:
                handle = stack.enter_context(path.open("rb"))
                table = (
                    _jsonl(path, handle) if suffix == ".jsonl" else _delimited(path, handle, suffix == ".tsv")
                )
        except OSError as exc:
            raise TableError(f"{path}: cannot read ({exc.strerror or exc})") from None
        yield table


def _lines(handle: BinaryIO, bad: set[int]) -> Iterator[str]:
    """Decoded lines; a line that is not UTF-8 is decoded with replacement and noted in `bad`."""
    for number, raw in enumerate(handle, 1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield raw.decode("utf-8", "replace")


def _delimited(path: Path, handle: BinaryIO, tabs: bool) -> tuple[list[str], Iterator[RawRow | RowProblem]]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    bad: set[int] = set()
    reader = csv.reader(_lines(handle, bad), delimiter="\t" if tabs else ",")
    try:
        header = next((fields for fields in reader if fields), None)
    except csv.Error as exc:
        raise TableError(f"{path}:{reader.line_num}: bad header ({exc})") from None
    if header is None:
        raise TableError(f"{path}: empty file, no header row")
    if bad:
        raise TableError(f"{path}:1: the header is not UTF-8 text")

    def rows() -> Iterator[RawRow | RowProblem]:
        end = reader.line_num
        while True:
            start = end + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = reader.line_num
                yield RowProblem(path, start, f"bad CSV row ({exc})")
                continue
            end = reader.line_num
            if not fields:  # a blank line
                continue
            if any(line in bad for line in range(start, end + 1)):
                bad.difference_update(range(start, end + 1))
                yield RowProblem(path, start, "not UTF-8 text")
            elif len(fields) != len(header):
                yield RowProblem(path, start, f"{len(fields)} fields, the header has {len(header)}")
            else:
                yield start, dict(zip(header, fields, strict=True))

    return header, rows()


def _json_line(path: Path, number: int, raw: bytes) -> dict[str, object] | RowProblem | None:
    """One JSON Lines line as an object, a problem, or None when blank."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return RowProblem(path, number, "not UTF-8 text")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return RowProblem(path, number, f"not JSON ({exc})")
    return value if isinstance(value, dict) else RowProblem(path, number, "not a JSON object")


def _jsonl(path: Path, handle: BinaryIO) -> tuple[list[str], Iterator[RawRow | RowProblem]]:
    lines = enumerate(handle, 1)
    early: list[RowProblem] = []  # problems before the first object, yielded once the header is known
    first: RawRow | None = None
    for number, raw in lines:
        item = _json_line(path, number, raw)
        if isinstance(item, RowProblem):
            early.append(item)
        elif item is not None:
            first = (number, item)
            break
    if first is None:
        raise TableError(f"{path}: no JSON object in the file" + (f" ({early[0]})" if early else ""))

    def rows() -> Iterator[RawRow | RowProblem]:
        yield from early
        yield first
        for number, raw in lines:
            item = _json_line(path, number, raw)
            if item is not None:
                yield item if isinstance(item, RowProblem) else (number, item)

    return list(first[1]), rows()


def _parquet(
    path: Path, only: Sequence[str] | None, stack: ExitStack
) -> tuple[list[str], Iterator[RawRow | RowProblem]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Column chunks are read in 1 MiB pieces, not buffered whole: memory stays near one row group's.
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_READ_BYTES)
    except pa.ArrowException as exc:
        raise TableError(f"{path}: not a readable Parquet file ({exc})") from None
    stack.callback(parquet.close)

    def rows() -> Iterator[RawRow | RowProblem]:
        number = 0
        names = parquet.schema_arrow.names
        columns = None if only is None else [c for c in only if c in names]
        batches = parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns)
        try:
            for batch in batches:
                for values in batch.to_pylist():
                    number += 1
                    yield number, values
        except pa.ArrowException as exc:
            raise TableError(f"{path}:{number + 1}: unreadable Parquet data ({exc})") from None

    return list(parquet.schema_arrow.names), rows()


def check_columns(path: Path, header: Sequence[str], wanted: Sequence[str]) -> None:
    """Raise one `TableError` naming every wanted column the header lacks."""
    missing = [c for c in wanted if c not in header]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise TableError(f"{path}: no column {names} (the columns are: {', '.join(header) or 'none'})")


def _text(values: dict[str, object], column: str) -> str | None:
    """A text cell, None when missing or blank; a cell of another type raises TypeError."""
    value = values.get(column)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"column {column!r} holds {type(value).__name__}, not text")
    return value if value.strip() else None


def plain(value: object) -> object:
    """A cell as a JSON value: dates as ISO text, CSV's empty string as null."""
    if value == "":
        return None
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def _row(path: Path, where: int, values: dict[str, object], columns: Columns) -> Row | RowProblem:
    try:
        text = _text(values, columns.text)
        headline = _text(values, columns.headline) if columns.headline else None
    except TypeError as exc:
        return RowProblem(path, where, str(exc))
    if text is None:
        return RowProblem(path, where, f"empty text (column {columns.text!r})")
    row_id = None
    if columns.id:
        row_id = plain(values.get(columns.id))
        if row_id is None:
            return RowProblem(path, where, f"empty id (column {columns.id!r})")
    kept = {c: plain(values.get(c)) for c in columns.keep}
    return Row(where, None if row_id is None else str(row_id), headline, text, kept)


def read_table(path: Path, columns: Columns | None = None) -> Iterator[Row | RowProblem]:
    """Every row of a table file, streamed, as a `Row` or the `RowProblem` that replaces it.

    The header is checked before any row: a missing text, headline, id or kept
    column raises `TableError`. A row with empty text, an empty id, a wrong
    number of fields or bytes that are not UTF-8 is a problem; a missing or
    empty headline or kept value is None.
    """
    columns = columns or Columns()
    named = columns.named()
    with open_table(path, only=named) as (header, rows):
        check_columns(path, header, named)
        for item in rows:
            yield item if isinstance(item, RowProblem) else _row(path, *item, columns)

"""Label output: an append-only JSON Lines journal, then an atomic final file.

Records are appended to `<OUT>.partial` and flushed chunk by chunk. A run
killed at any moment leaves at most one truncated chunk there, which
`--resume` cuts off before carrying on. Only a finished run becomes OUT, by
rename, in the requested format: OUT is never half-written.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

FORMATS = ("jsonl", "csv", "parquet")
FIELDS = ("source", "paragraph", "start", "end", "text", "stance", "stance_score", "topic",
          "topic_score", "topic_scores", "uncertain")  # fmt: skip
PARQUET_ROWS = 2048


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def recover(partial: Path, multiple: int) -> Iterator[dict]:
    """Yield the journal's records up to a whole number of chunks; cut off the rest.

    Keeping whole chunks means a resumed run embeds exactly the batches an
    uninterrupted run would, so its output is identical, not merely close.
    """
    complete: list[int] = []  # byte offset after each complete line
    with partial.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                json.loads(line)
            except ValueError:
                break
            complete.append((complete[-1] if complete else 0) + len(line))
    keep = len(complete) - len(complete) % multiple
    with partial.open("r+b") as handle:
        handle.truncate(complete[keep - 1] if keep else 0)
    with partial.open(encoding="utf-8") as handle:
        for text in handle:
            yield json.loads(text)


class Journal:
    """Appends records to the partial file; flushes after every batch."""

    def __init__(self, partial: Path) -> None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        self.handle = partial.open("a", encoding="utf-8")

    def write(self, records: list[dict]) -> None:
        self.handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _flat(record: dict, topics: list[str]) -> dict:
    """A record with one `topic_score_<topic>` column per topic (CSV, Parquet)."""
    row = {k: v for k, v in record.items() if k != "topic_scores"}
    row.update({f"topic_score_{t}": record["topic_scores"][t] for t in topics})
    return row


def _records(partial: Path) -> Iterator[dict]:
    with partial.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _write_csv(partial: Path, tmp: Path, topics: list[str]) -> None:
    columns = [f for f in FIELDS if f != "topic_scores"] + [f"topic_score_{t}" for t in topics]
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in _records(partial):
            writer.writerow(_flat(record, topics))


def _write_parquet(partial: Path, tmp: Path, topics: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("source", pa.string()), ("paragraph", pa.int64()), ("start", pa.int64()),
         ("end", pa.int64()), ("text", pa.string()), ("stance", pa.string()),
         ("stance_score", pa.float64()), ("topic", pa.string()), ("topic_score", pa.float64()),
         *[(f"topic_score_{t}", pa.float64()) for t in topics], ("uncertain", pa.bool_())]
    )  # fmt: skip
    with pq.ParquetWriter(tmp, schema) as writer:
        rows: list[dict] = []
        for record in _records(partial):
            rows.append(_flat(record, topics))
            if len(rows) == PARQUET_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))


def finish(partial: Path, out: Path, fmt: str, topics: list[str]) -> None:
    """Turn a complete journal into OUT, atomically (write aside, then rename)."""
    if fmt == "jsonl":
        os.replace(partial, out)
        return
    tmp = out.with_name(f".{out.name}.tmp")
    (_write_csv if fmt == "csv" else _write_parquet)(partial, tmp, topics)
    os.replace(tmp, out)
    partial.unlink()

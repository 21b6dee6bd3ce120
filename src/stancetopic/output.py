"""Label output: a locked, self-identifying JSON Lines journal, then an atomic final file.

Records are appended to `<OUT>.partial` and flushed chunk by chunk. The
journal's first line records the run's identity (inputs, glob, model digest,
backend, thresholds, format...), so `--resume` can refuse to mix two different
runs. A run killed at any moment leaves at most one truncated chunk, which
`--resume` cuts off before carrying on. Only a finished run becomes OUT, by
writing aside and renaming: OUT is never half-written. `<OUT>.lock`, held for
the whole run, keeps a second writer away from OUT and its journal.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from stancetopic.errors import OutputError, RefusedError

FORMATS = ("jsonl", "csv", "parquet")
FIELDS = ("source", "paragraph", "start", "end", "text", "stance", "stance_score", "topic",
          "topic_score", "topic_scores", "uncertain")  # fmt: skip
PARQUET_ROWS = 2048
HEADER_KEY = "stancetopic_run"
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ",".join(f for f in FIELDS if f != "topic_scores")[:40]


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


def infer_format(out: Path | None) -> str:
    """The format OUT's suffix asks for (`.csv`, `.parquet`), else JSON Lines."""
    suffix = out.suffix.lower() if out is not None else ""
    return {".csv": "csv", ".parquet": "parquet"}.get(suffix, "jsonl")


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _encode(text: str) -> bytes:
    # A lone surrogate cannot be UTF-8; backslashreplace writes it as its JSON escape (\udcff).
    return text.encode("utf-8", "backslashreplace")


class OutputLock:
    """`<OUT>.lock`, flock-ed for the run: a second run on the same OUT is refused.

    The kernel drops the lock when its process dies (even by SIGKILL), so a
    crashed run never blocks the next one; the file itself is removed on exit.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = lock_path(out)
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot create the lock file ({exc.strerror})") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise RefusedError(
                    f"{self.out}: another stancetopic run (pid {holder}) is writing it; "
                    "wait for it to end or choose another -o"
                ) from None
            try:  # the run we waited on may have just removed the file: lock the one at the path
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self.fd)
            self.fd = None


def _identity_differences(found: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    return [
        f"{key} {found.get(key)!r} there, {expected.get(key)!r} now"
        for key in sorted(set(found) | set(expected))
        if found.get(key) != expected.get(key)
    ]


def recover(partial: Path, identity: Mapping[str, Any], multiple: int) -> tuple[int, Iterator[dict]]:
    """Check the journal is this run's, cut it back to whole chunks, and return its records.

    Returns (how many records were kept, an iterator over them). Keeping whole
    chunks means a resumed run embeds exactly the batches an uninterrupted run
    would, so its output is identical, not merely close. A journal of another
    run (different inputs, model, glob...) raises RefusedError naming what
    differs. A journal with no identity line (an older version's) is resumed
    unchecked, with a warning from the caller (`legacy`).
    """
    complete: list[int] = []  # byte offset after each complete line
    header = 0
    with partial.open("rb") as handle:
        for number, line in enumerate(handle):
            if not line.endswith(b"\n"):
                break
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                break
            if number == 0 and isinstance(obj, dict) and HEADER_KEY in obj:
                differences = _identity_differences(obj[HEADER_KEY], identity)
                if differences:
                    raise RefusedError(
                        f"{partial}: --resume refused, the unfinished run differs: {'; '.join(differences)}; "
                        "rerun it as it was, or pass --overwrite to start over"
                    )
                header = len(line)
                continue
            complete.append((complete[-1] if complete else header) + len(line))
    if not header and not complete and partial.stat().st_size:
        raise RefusedError(f"{partial}: not a stancetopic journal; pass --overwrite to start over")
    keep = len(complete) - len(complete) % multiple
    with partial.open("r+b") as handle:
        handle.truncate(complete[keep - 1] if keep else header)
        if not header:  # an empty or legacy journal: it gets this run's identity now
            rest = handle.read() if keep else b""
            handle.seek(0)
            handle.write(_encode(_dumps({HEADER_KEY: dict(identity)}) + "\n") + rest)
            handle.truncate()
    return keep, _journal_records(partial)


def _journal_records(partial: Path) -> Iterator[dict]:
    """The journal's records, its identity line left out."""
    with partial.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if HEADER_KEY not in record:
                yield record


def is_legacy(partial: Path) -> bool:
    """Whether a journal predates run identities (its first line is a record)."""
    with partial.open("rb") as handle:
        first = handle.readline()
    try:
        return HEADER_KEY not in json.loads(first)
    except (ValueError, TypeError, RecursionError):
        return False


class Journal:
    """Appends records to a file, flushing after every chunk; `OutputError` when the disk refuses."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self.handle = handle
        self.name = name

    @classmethod
    def start(cls, partial: Path, identity: Mapping[str, Any], *, resume: bool) -> Journal:
        """Open the journal: appended to on resume, else created with the run's identity line."""
        try:
            journal = cls(partial.open("ab" if resume else "wb"), str(partial))
        except OSError as exc:
            raise OutputError(f"{partial}: cannot write ({exc.strerror})") from exc
        if not resume:
            journal._write(_dumps({HEADER_KEY: dict(identity)}) + "\n")
        return journal

    def _write(self, text: str) -> None:
        try:
            self.handle.write(_encode(text))
            self.handle.flush()
        except OSError as exc:
            raise OutputError(f"{self.name}: cannot write ({exc.strerror})") from exc

    def write(self, records: list[dict]) -> None:
        self._write("".join(_dumps(r) + "\n" for r in records))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the write that failed has already raised
            self.handle.close()


def _flat(record: dict, topics: list[str]) -> dict:
    """A record with one `topic_score_<topic>` column per topic (CSV, Parquet)."""
    row = {k: v for k, v in record.items() if k != "topic_scores"}
    row.update({f"topic_score_{t}": record["topic_scores"][t] for t in topics})
    return row


def neutralise(value: object) -> object:
    """A CSV cell a spreadsheet would run as a formula gets a leading `'` (shown as text)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _write_jsonl(partial: Path, tmp: Path, topics: list[str], kept: Sequence[str]) -> None:
    with tmp.open("wb") as handle:
        for record in _journal_records(partial):
            handle.write(_encode(_dumps(record) + "\n"))


def _as_text(value: object) -> object:
    """A kept value for a text cell: null and text as they are, anything else as JSON text."""
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _write_csv(partial: Path, tmp: Path, topics: list[str], kept: Sequence[str]) -> None:
    columns = [f for f in FIELDS if f != "topic_scores"] + [f"topic_score_{t}" for t in topics] + [*kept]
    with tmp.open("w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in _journal_records(partial):
            row = _flat(record, topics)
            row.update({c: _as_text(row.get(c)) for c in kept})
            writer.writerow({k: neutralise(v) for k, v in row.items()})


def _kept_types(partial: Path, kept: Sequence[str]) -> dict[str, str]:
    """Each kept column's Parquet type, from a pass over the journal's values.

    Booleans, whole numbers, numbers and text keep their type; a column that
    mixes them (or holds lists, objects, or only nulls) is text, non-text values as JSON.
    """
    seen: dict[str, set[str]] = {c: set() for c in kept}
    for record in _journal_records(partial):
        for column in kept:
            value = record.get(column)
            if value is not None:
                seen[column].add(type(value).__name__)
    simple = ({"bool"}, {"int"}, {"float"}, {"str"})
    numbers = {"int", "float"}
    return {
        c: "float" if names == numbers else names.pop() if names in simple else "json"
        for c, names in seen.items()
    }


def _write_parquet(partial: Path, tmp: Path, topics: list[str], kept: Sequence[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = dict(bool=pa.bool_(), int=pa.int64(), float=pa.float64(), str=pa.string(), json=pa.string())
    types = _kept_types(partial, kept) if kept else {}
    schema = pa.schema(
        [("source", pa.string()), ("paragraph", pa.int64()), ("start", pa.int64()),
         ("end", pa.int64()), ("text", pa.string()), ("stance", pa.string()),
         ("stance_score", pa.float64()), ("topic", pa.string()), ("topic_score", pa.float64()),
         *[(f"topic_score_{t}", pa.float64()) for t in topics], ("uncertain", pa.bool_()),
         *[(c, arrow[types[c]]) for c in kept]]
    )  # fmt: skip
    as_json = [c for c in kept if types[c] == "json"]
    with pq.ParquetWriter(tmp, schema) as writer:
        rows: list[dict] = []
        for record in _journal_records(partial):
            row = _flat(record, topics)
            row.update({c: _as_text(row.get(c)) for c in as_json})
            rows.append(row)
            if len(rows) == PARQUET_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))


WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}


def finish(partial: Path, out: Path, fmt: str, topics: list[str], kept: Sequence[str] = ()) -> None:
    """Turn a complete journal into OUT atomically (write aside, then rename).

    `kept` are a table run's kept columns: CSV and Parquet columns after the
    fields (JSON Lines records already hold them).

    When the disk refuses (full, read-only), the half-written file aside is
    removed and the journal kept, so `--resume` can finish the job later.
    """
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        WRITERS[fmt](partial, tmp, topics, kept)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"{out}: cannot write ({exc.strerror}); {partial} is kept: free space, then rerun with --resume"
        ) from exc
    partial.unlink()


class StreamWriter:
    """JSON Lines straight to a stream (`-o -`): no journal, so no resume and no lock."""

    def __init__(self, handle: IO[str], name: str = "<stdout>") -> None:
        self.handle = handle
        self.name = name

    def write(self, records: list[dict]) -> None:
        try:
            self.handle.write(_encode("".join(_dumps(r) + "\n" for r in records)).decode("utf-8"))
            self.handle.flush()
        except OSError as exc:  # a closed pipe (`| head`) or a full disk behind a redirect
            raise OutputError(f"{self.name}: cannot write ({exc.strerror or exc})") from exc

    def close(self) -> None:
        pass


def prepare_targets(targets: Mapping[str, Path | None], *, overwrite: bool) -> None:
    """Check output files before any work: distinct, not existing unless `overwrite`, writable.

    `targets` maps each option (`-o`, `--summary`...) to its file. A missing
    folder is created now, so a typo costs seconds, not a whole run.
    """
    seen: dict[Path, str] = {}
    for option, path in targets.items():
        if path is None:
            continue
        key = path.resolve()
        if key in seen:
            raise RefusedError(f"{path}: {seen[key]} and {option} name the same file; give each its own")
        seen[key] = option
        if path.is_dir():
            raise RefusedError(f"{path}: {option} is a folder; give a file name")
        if path.exists() and not overwrite:
            raise RefusedError(f"{path} exists; pass --overwrite to replace it")
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot create the folder for {option} ({exc.strerror})") from exc
        if not os.access(folder, os.W_OK):
            raise OutputError(f"{folder}: the folder for {option} is not writable")


def write_text(path: Path, text: str) -> None:
    """Write a whole file aside and rename it into place; OutputError (no half file) on failure."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from exc


def write_json(path: Path, data: object) -> None:
    """`write_text` of indented, key-sorted JSON (byte-identical across reruns, as the model's)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def looks_like_output(path: Path) -> bool:
    """Whether a file is a stancetopic output (journal, JSON Lines, CSV, summary), by its start."""
    name = path.name.lower()
    if not name.endswith((".partial", ".jsonl", ".json", ".csv")):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0].strip()
    if name.endswith(".csv"):
        return first.decode("utf-8", "replace").startswith(CSV_HEADER)
    if name.endswith(".json"):
        return head.startswith(b'{\n  "files": {')
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and (
        HEADER_KEY in obj or {"source", "paragraph", "stance", "topic_scores"} <= set(obj)
    )

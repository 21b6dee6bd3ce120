"""Find article files, decode them, and cut each into paragraph units.

Formats: .txt and .md (paragraphs split on blank lines), .html/.htm (main text
by trafilatura, see `html_text`), .json (one object or a list of objects) and
.jsonl (one object a line); a JSON object's article is its `text`, with
`title` or `headline`, when present, as the headline before it. Only regular
files are read, each in time linear in its size (docs/reading.md).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from stancetopic import decoding, html_text
from stancetopic.languages import readable
from stancetopic.paragraphs import Segment, lines_to_blocks, units

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
TITLE_KEYS = ("title", "headline")
NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)
LOCATE_WINDOW = 200_000  # characters searched past the previous unit for the next one
SURROGATE = re.compile("[\ud800-\udfff]")
MAX_INT_DIGITS = 4_000  # longer JSON integers are read as floats (Python refuses to convert them)


class ReadError(Exception):
    """A file that cannot be labelled; the message is the reason, for the user."""


@dataclass
class Article:
    """The paragraph units of one file, and problems with parts of it."""

    units: list[Segment]
    # Skipped records as (where, reason): where is a line number (.jsonl) or "item N" (.json).
    problems: list[tuple[str, str]] = field(default_factory=list)
    # Units left out because they are not in a language the model reads (see `languages`).
    other_language: int = 0


def discover(
    root: Path, pattern: str = "*", problems: list[tuple[str, str]] | None = None
) -> Iterator[tuple[Path, str]]:
    """Every file under `root` matching `pattern`, recursively, in sorted order.

    Yields (path, path relative to root). Symbolic links are followed, but a
    folder already visited (a link loop) is not entered again. A folder below
    `root` that cannot be opened (no permission, a path past PATH_MAX) goes to
    `problems` as (relative path, reason) and the walk goes on; `root` itself
    raises OSError.
    """
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path) -> Iterator[tuple[Path, str]]:
        try:
            stat = folder.stat()
            if (stat.st_dev, stat.st_ino) in seen:
                return
            seen.add((stat.st_dev, stat.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            if folder == root or problems is None:
                raise
            problems.append(
                (folder.relative_to(root).as_posix(), f"cannot open this folder ({exc.strerror})")
            )
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                yield from walk(path)
            else:
                relative = path.relative_to(root).as_posix()
                if fnmatch(relative, pattern) or fnmatch(entry.name, pattern):
                    yield path, relative

    yield from walk(root)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, never more than `max_bytes`; ReadError for anything else.

    The one place that decides what may be read: the file is opened without
    blocking (a FIFO would hang a plain open) and checked to be a regular file
    through its open descriptor, so a symlink to `/dev/zero`, a FIFO or a
    device is refused, and a file growing while it is read is cut at the limit.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ReadError(f"unreadable ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in NOT_REGULAR if test(status.st_mode)), "not a file")
            raise ReadError(f"not a regular file ({kind}): skipped")
        if status.st_size > max_bytes:
            raise ReadError(f"larger than the {max_bytes:,}-byte limit ({status.st_size:,} bytes)")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ReadError(f"unreadable ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise ReadError(f"larger than the {max_bytes:,}-byte limit")
    return data


def decode(data: bytes, markup: bool = False) -> str:
    """The text of a file's bytes (see `decoding`); ReadError when it is not text."""
    try:
        return decoding.decode(data, markup)
    except decoding.DecodeError as exc:
        raise ReadError(str(exc)) from exc


def _locate(source: str, text: str, cursor: int) -> Segment:
    """The segment at its verbatim position after `cursor`, or unlocated.

    Searched within a bounded window, so a page of many unlocatable units
    costs linear time, not the file's size per unit.
    """
    start = source.find(text, cursor, cursor + LOCATE_WINDOW + len(text))
    return Segment(text, start, start + len(text)) if start >= 0 else Segment(text, None, None)


def _located_blocks(source: str, texts: list[list[str]]) -> list[list[Segment]]:
    """Blocks of lines with offsets found by a forward search in the file."""
    cursor = 0
    blocks = []
    for block in texts:
        located = []
        for text in block:
            segment = _locate(source, text, cursor)
            cursor = segment.end if segment.end is not None else cursor
            located.append(segment)
        blocks.append(located)
    return blocks


def html_blocks(source: str) -> list[list[str]]:
    """Main-text blocks of an HTML page (trafilatura, see `html_text`); ReadError when it cannot."""
    try:
        return html_text.main_text(source)
    except html_text.PageError as exc:
        raise ReadError(str(exc)) from exc


def _clean(text: str) -> str:
    """A JSON string without lone surrogates (`\\ud800`), which no file or cache can store."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def _object_blocks(obj: object) -> list[list[str]]:
    """Headline and body blocks of one JSON article object (a headline alone will do)."""
    if not isinstance(obj, dict):
        raise ReadError("no string 'text' field")
    title = next((obj[k] for k in TITLE_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    text = obj.get("text", "" if title else None)
    if not isinstance(text, str):
        raise ReadError("no string 'text' field")
    blocks = [[" ".join(_clean(title).split())]] if title else []
    return blocks + [[s.text for s in block] for block in lines_to_blocks(_clean(text))]


def record_units(obj: dict) -> list[Segment]:
    """The paragraph units of one article object (headline and text), as `label` cuts them."""
    return units([[Segment(text, None, None) for text in block] for block in _object_blocks(obj)])


def _int(digits: str) -> int | float:
    """A JSON integer; one too long for Python's int conversion becomes a float."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


def parse_json(text: str) -> object:
    """One JSON document; JSONDecodeError for bad JSON, nesting too deep included.

    Python's parser recurses once per level: a deeply nested document raises
    RecursionError, which is turned into the same error as any other bad JSON.
    """
    try:
        return json.loads(text, parse_int=_int)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deep", text, 0) from exc


def json_blocks(source: str, lines: bool) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Blocks of a .json or .jsonl file, and the records that had to be skipped.

    JSON Lines are split on newlines only: a raw U+2028 or U+0085 inside a
    string is part of the record, not a line break.
    """
    problems: list[tuple[str, str]] = []
    blocks: list[list[str]] = []
    if lines:
        items = []
        for number, line in enumerate(source.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                items.append((str(number), parse_json(line)))
            except json.JSONDecodeError as exc:
                problems.append((str(number), f"bad JSON ({exc.msg})"))
    else:
        try:
            data = parse_json(source)
        except json.JSONDecodeError as exc:
            raise ReadError(f"bad JSON at line {exc.lineno} ({exc.msg})") from exc
        data = data if isinstance(data, list) else [data]
        items = [(f"item {n}", item) for n, item in enumerate(data, start=1)]
    for where, item in items:
        try:
            blocks += [*_object_blocks(item), []]  # [] ends the record: no merging across it
        except ReadError as exc:
            problems.append((where, str(exc)))
    return blocks, problems


def read_article(path: Path, max_bytes: int, all_languages: bool = True) -> Article:
    """Read one file and return its paragraph units; ReadError when it cannot be used.

    Without `all_languages`, units the English model cannot read are left out
    and counted in `Article.other_language`.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(f"unsupported file type {suffix or '(none)'!r}")
    source = decode(read_bytes(path, max_bytes), markup=suffix in HTML_SUFFIXES)
    if suffix in TEXT_SUFFIXES:
        article = Article(units(lines_to_blocks(source, markdown=suffix == ".md"), source))
    elif suffix in HTML_SUFFIXES:
        article = Article(units(_located_blocks(source, html_blocks(source))))
    else:
        blocks, problems = json_blocks(source, lines=suffix == ".jsonl")
        article = Article(units(_located_blocks(source, blocks)), problems)
    if not all_languages:
        kept = [unit for unit in article.units if readable(unit.text)]
        article.other_language = len(article.units) - len(kept)
        article.units = kept
    return article

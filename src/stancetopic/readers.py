"""Find article files, decode them, and cut each into paragraph units.

Formats: .txt and .md (paragraphs split on blank lines), .html/.htm (main text
by selectolax), .json (one object or a list of objects) and .jsonl (one object
a line); a JSON object's article is its `text`, with `title` or `headline`, when
present, as the headline before it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from stancetopic.paragraphs import Segment, lines_to_blocks, units

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
HTML_DROP = "script, style, noscript, template, nav, aside, figure, iframe, svg, button, select"
HTML_SITE_FURNITURE = "header, footer"  # dropped unless inside the article itself
HTML_CONTENT = "article, main"
HTML_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, dd, dt, td, th"
TITLE_KEYS = ("title", "headline")


class ReadError(Exception):
    """A file that cannot be labelled; the message is the reason, for the user."""


@dataclass
class Article:
    """The paragraph units of one file, and problems with parts of it."""

    units: list[Segment]
    # Skipped records as (where, reason): where is a line number (.jsonl) or "item N" (.json).
    problems: list[tuple[str, str]] = field(default_factory=list)


def discover(root: Path, pattern: str = "*") -> Iterator[tuple[Path, str]]:
    """Every file under `root` matching `pattern`, recursively, in sorted order.

    Yields (path, path relative to root). Symbolic links are followed, but a
    folder already visited (a link loop) is not entered again.
    """
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path) -> Iterator[tuple[Path, str]]:
        stat = folder.stat()
        if (stat.st_dev, stat.st_ino) in seen:
            return
        seen.add((stat.st_dev, stat.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
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


def decode(data: bytes) -> str:
    """UTF-8 when it is, else the encoding charset-normalizer detects."""
    if b"\0" in data[:8192]:
        raise ReadError("binary file (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ReadError("undecodable: no text encoding fits")
    return str(best)


def _locate(source: str, text: str, cursor: int) -> Segment:
    """The segment at its verbatim position after `cursor`, or unlocated."""
    start = source.find(text, cursor)
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


def _inside(node: Any, tags: str) -> bool:
    """Whether an ancestor of `node` is one of the comma-separated `tags`."""
    wanted = {t.strip() for t in tags.split(",")}
    parent = node.parent
    while parent is not None:
        if parent.tag in wanted:
            return True
        parent = parent.parent
    return False


def html_blocks(source: str) -> list[list[str]]:
    """Main-text blocks of an HTML page: one per innermost block element."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(source)
    for node in tree.css(HTML_DROP):
        node.decompose()
    for node in tree.css(HTML_SITE_FURNITURE):
        if not _inside(node, HTML_CONTENT):
            node.decompose()
    root = tree.body or tree.root
    if root is None:
        return []
    blocks = []
    for node in root.css(HTML_BLOCKS):
        if any(inner.mem_id != node.mem_id for inner in node.css(HTML_BLOCKS)):
            continue  # a container: its inner blocks are taken one by one
        text = " ".join(node.text(deep=True).split())
        if text:
            blocks.append([text])
    return blocks


def _object_blocks(obj: object) -> list[list[str]]:
    """Headline and body blocks of one JSON article object (a headline alone will do)."""
    if not isinstance(obj, dict):
        raise ReadError("no string 'text' field")
    title = next((obj[k] for k in TITLE_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    text = obj.get("text", "" if title else None)
    if not isinstance(text, str):
        raise ReadError("no string 'text' field")
    blocks = [[" ".join(title.split())]] if title else []
    return blocks + [[s.text for s in block] for block in lines_to_blocks(text)]


def record_units(obj: dict) -> list[Segment]:
    """The paragraph units of one article object (headline and text), as `label` cuts them."""
    return units([[Segment(text, None, None) for text in block] for block in _object_blocks(obj)])


def json_blocks(source: str, lines: bool) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Blocks of a .json or .jsonl file, and the records that had to be skipped."""
    problems: list[tuple[str, str]] = []
    blocks: list[list[str]] = []
    if lines:
        items = []
        for number, line in enumerate(source.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append((str(number), json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append((str(number), f"bad JSON ({exc.msg})"))
    else:
        try:
            data = json.loads(source)
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


def read_article(path: Path, max_bytes: int) -> Article:
    """Read one file and return its paragraph units; ReadError when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(f"unsupported file type {suffix or '(none)'!r}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError(f"larger than the {max_bytes:,}-byte limit ({size:,} bytes)")
        source = decode(path.read_bytes())
    except OSError as exc:
        raise ReadError(f"unreadable ({exc.strerror or exc})") from exc
    if suffix in TEXT_SUFFIXES:
        return Article(units(lines_to_blocks(source, markdown=suffix == ".md"), source))
    if suffix in HTML_SUFFIXES:
        return Article(units(_located_blocks(source, html_blocks(source))))
    blocks, problems = json_blocks(source, lines=suffix == ".jsonl")
    return Article(units(_located_blocks(source, blocks)), problems)

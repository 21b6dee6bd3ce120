"""Seconds per MB to read each hostile input, at two sizes: a linear reader keeps the figure flat.

Usage: python benchmarks/hostile_inputs.py [--mb 1.0]

Each case is written at SIZE and 4 x SIZE megabytes into a temporary folder and
read with `stancetopic.readers.read_article` (what `label` does before any
scoring), three times, best time kept. Printed: what came back (units or the
one-line error), seconds per MB at both sizes and their ratio (about 1 for
linear time, about 4 for quadratic). Special files (a link to /dev/zero, a
FIFO, a link loop) are read once and must answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from machine import machine

from stancetopic.readers import ReadError, read_article

SENTENCE = "The ministry confirmed on Monday that the new border checks would start in May. "
LIMIT = 200_000_000


def repeat(unit: bytes, size: int) -> bytes:
    return unit * max(1, size // len(unit))


def numbered(size: int) -> bytes:
    """Distinct HTML paragraphs (a page of one repeated paragraph is another case)."""
    paragraph = "<p>Paragraph {}: " + SENTENCE + "&amp; more.</p>\n"
    return "".join(paragraph.format(i) for i in range(max(1, size // len(paragraph)))).encode()


CASES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "nested <div>s": (
        ".html",
        lambda n: b"<html><body>" + repeat(b"<div>", n // 2) + repeat(b"</div>", n // 2),
    ),
    "HTML, one paragraph repeated": (
        ".html",
        lambda n: b"<html><body><article>" + repeat(b"<p>" + SENTENCE.encode() + b"</p>\n", n),
    ),
    "nested <blockquote>s": (".html", lambda n: b"<html><body>" + repeat(b"<blockquote>", n) + b"x"),
    "HTML, many paragraphs with entities": (".html", lambda n: b"<html><body><article>" + numbered(n)),
    "hard-wrapped text, no blank lines": (".txt", lambda n: repeat(b"the talks went on and on and on\n", n)),
    "one line, no newline": (".txt", lambda n: repeat(b"the talks went on and on ", n)),
    "Markdown list, one item a line": (".md", lambda n: repeat(b"* " + SENTENCE.encode() + b"\n", n)),
    "JSON nested deep": (".json", lambda n: repeat(b"[", n // 2) + repeat(b"]", n // 2)),
    "JSON Lines, each line nested deep": (".jsonl", lambda n: repeat(b"[" * 5_000 + b"\n", n)),
    "JSON, 5,000-digit integers": (
        ".json",
        lambda n: b"[" + repeat(b'{"id": ' + b"9" * 5_000 + b', "text": "x"},', n)[:-1] + b"]",
    ),
    "JSON Lines with U+2028 in strings": (
        ".jsonl",
        lambda n: repeat(
            json.dumps({"text": SENTENCE + "\u2028" + SENTENCE}, ensure_ascii=False).encode() + b"\n", n
        ),
    ),
    "UTF-16 text with a BOM": (
        ".txt",
        lambda n: (
            (SENTENCE + "\n\n").encode("utf-16")[:2] + repeat((SENTENCE + "\n\n").encode("utf-16-le"), n)
        ),
    ),
    "nearly UTF-8 (a stray byte every KB)": (
        ".txt",
        lambda n: repeat((SENTENCE * 12).encode() + b"\xe9\n\n", n),
    ),
    "NUL byte at the end": (".txt", lambda n: repeat(SENTENCE.encode(), n) + b"\0"),
}


def seconds_per_mb(path: Path) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(3):
        start = time.perf_counter()
        try:
            units = read_article(path, LIMIT, all_languages=False).units
            outcome = f"{len(units)} units"
        except ReadError as exc:
            outcome = f"error: {exc}"
        best = min(best, time.perf_counter() - start)
    return best / (path.stat().st_size / 1e6), outcome


def special(folder: Path) -> None:
    """Special files: answered at once, one error each."""
    (folder / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.txt")
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    print("\n| special file | seconds | outcome |\n|---|---:|---|")
    for name in ("zero.txt", "pipe.txt", "a.txt"):
        start = time.perf_counter()
        try:
            outcome = f"{len(read_article(folder / name, LIMIT).units)} units"
        except ReadError as exc:
            outcome = f"error: {exc}"
        print(f"| {name} | {time.perf_counter() - start:.4f} | {outcome} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="the smaller size, in MB (the larger is 4x)")
    args = parser.parse_args()
    print(f"# Hostile inputs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    small = int(args.mb * 1e6)
    print(f"\n| case | s/MB at {args.mb:g} MB | s/MB at {4 * args.mb:g} MB | ratio | outcome |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, (suffix, make) in CASES.items():
            figures = []
            for size in (small, 4 * small):
                path = folder / f"case{suffix}"
                path.write_bytes(make(size))
                figures.append(seconds_per_mb(path))
                path.unlink()
            (low, outcome), (high, _) = figures
            print(f"| {name} | {low:.3f} | {high:.3f} | {high / low:.2f} | {outcome[:70]} |")
        special(folder)


if __name__ == "__main__":
    main()

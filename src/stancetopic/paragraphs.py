"""Paragraph rules: which pieces of an article get labelled, and as what unit.

Input is a list of blocks (blank-line separated in text, one per element in
HTML), each a list of lines with their offsets. Output is the units to label:
boilerplate lines dropped, fragments dropped, and a headline directly followed
by its teaser merged with it into one unit.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENCIES = frozenset(
    [
        "ians",
        "pti",
        "reuters",
        "afp",
        "ap",
        "ani",
        "uni",
        "dpa",
        "xinhua",
        "efe",
        "ansa",
        "kyodo",
        "yonhap",
        "bernama",
        "anadolu",
        "ana",
        "tass",
        "bloomberg",
        "apa",
        "ntb",
        "tt",
        "sda",
        "belga",
        "bta",
        "mena",
        "wam",
        "spa",
        "irna",
    ]
)
NAVIGATION = (
    "read next", "read previous", "read more", "also read", "also see", "see also",
    "powered by", "share this", "share on", "share:", "follow us", "subscribe",
    "sign up", "advertisement", "click here", "related:", "related stories",
    "related articles", "recommended", "trending", "download the app", "copyright",
    "©", "all rights reserved", "with inputs from", "(with inputs from", "edited by",
    "reporting by", "writing by", "tags:", "previous article", "next article",
)  # fmt: skip
SENTENCE_END = tuple(end + close for end in ".!?" for close in ("", '"', "'", "\u201d", "\u2019", ")"))
MIN_SENTENCE_WORDS = 4
MIN_HEADLINE_WORDS = 8
MAX_HEADLINE_WORDS = 30
MARKDOWN_MARKERS = "#>*-+ \t"


@dataclass(frozen=True)
class Segment:
    """A piece of text and where it lies in the decoded file (None: not verbatim)."""

    text: str
    start: int | None
    end: int | None


def is_sentence(text: str) -> bool:
    """Ends like a sentence (closing quotes and brackets allowed)."""
    return text.rstrip().endswith(SENTENCE_END)


def is_boilerplate(line: str) -> bool:
    """An agency tag alone, or a navigation, sharing or credit line."""
    bare = line.strip().strip("-\u2013\u2014|()[]:.*_#> \t").lower()
    if bare in AGENCIES or bare.replace("(", "").replace(")", "") in AGENCIES:
        return True
    lowered = line.strip().strip("[*_#> \t").lower()
    return lowered.startswith(NAVIGATION)


def is_headline(line: str) -> bool:
    """A single line that reads as a headline: no sentence ending, not too long."""
    words = len(line.split())
    return 2 <= words <= MAX_HEADLINE_WORDS and not is_sentence(line) and "\n" not in line.strip()


def is_teaser(text: str) -> bool:
    """A paragraph that can follow a headline: a sentence, not another headline."""
    return is_sentence(text) and len(text.split()) >= MIN_SENTENCE_WORDS


def is_fragment(text: str) -> bool:
    """A few words that are not a sentence, and not a headline making a full claim."""
    words = len(text.split())
    if words < MIN_SENTENCE_WORDS:
        return True
    return not is_sentence(text) and words < MIN_HEADLINE_WORDS


def lines_to_blocks(text: str, markdown: bool = False) -> list[list[Segment]]:
    """Split text into blank-line separated blocks of lines with exact offsets.

    With `markdown`, heading, quote and list markers are left out of each line
    (its offsets start after them), so `# Title` labels as `Title`.
    """
    blocks: list[list[Segment]] = []
    current: list[Segment] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        lead = len(line) - len(line.lstrip(MARKDOWN_MARKERS if markdown else " \t"))
        content = line[lead:].rstrip()
        if content:
            start = position + lead
            current.append(Segment(content, start, start + len(content)))
        elif current:
            blocks.append(current)
            current = []
        position += len(raw)
    if current:
        blocks.append(current)
    return blocks


def _join(first: Segment, second: Segment, source: str | None, separator: str) -> Segment:
    """One unit spanning two segments; its text is the file's slice when exact."""
    if source is not None and first.start is not None and second.end is not None:
        return Segment(source[first.start : second.end], first.start, second.end)
    start = first.start if first.start is not None and second.end is not None else None
    end = second.end if start is not None else None
    return Segment(first.text + separator + second.text, start, end)


def units(blocks: list[list[Segment]], source: str | None = None) -> list[Segment]:
    """Apply the paragraph rules and return the units to label, in order.

    `source` is the decoded file for plain-text formats, whose units are exact
    slices of it; for HTML and JSON it is None and lines are joined instead.
    """
    runs: list[Segment | None] = []  # None marks dropped boilerplate between runs
    for block in blocks:
        run: Segment | None = None
        for line in block:
            if is_boilerplate(line.text):
                if run is not None:
                    runs.append(run)
                    run = None
                runs.append(None)
                continue
            run = line if run is None else _join(run, line, source, "\n")
        if run is not None:
            runs.append(run)
    merged: list[Segment] = []
    index = 0
    while index < len(runs):
        run = runs[index]
        index += 1
        if run is None:
            continue
        following = runs[index] if index < len(runs) else None
        if is_headline(run.text) and following is not None and is_teaser(following.text):
            merged.append(_join(run, following, source, "\n\n"))
            index += 1
        elif not is_fragment(run.text):
            merged.append(run)
    return merged

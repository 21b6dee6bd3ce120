"""Paragraph rules: which pieces of an article get labelled, and as what unit.

Input is a list of blocks (blank-line separated in text, one per element in
HTML, and an empty block as a hard boundary between JSON records), each a list
of lines with their offsets. Output is the units to label: boilerplate lines
dropped, fragments dropped, and a headline directly followed by its teaser
merged with it into one unit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from stancetopic.languages import words

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
# Site furniture: a line starting with one of these words is navigation or sharing...
NAVIGATION = (
    "read next", "read previous", "read more", "also read", "also see", "see also",
    "powered by", "share this", "share on", "share", "follow us", "subscribe", "sign up",
    "advertisement", "click here", "related", "related stories", "related articles",
    "recommended", "trending", "download the app", "tags", "previous article", "next article",
    # the same furniture in the languages news sites most often mix into English pages
    "lesen sie auch", "auch lesen", "mehr zum thema", "siehe auch", "weitere artikel", "anzeige", "werbung",
    "lea también", "lee también", "le puede interesar", "te puede interesar", "ver también", "publicidad",
    "lire aussi", "à lire aussi", "voir aussi", "publicité", "leggi anche", "vedi anche", "leia também",
    "czytaj też", "czytaj także", "zobacz też", "zobacz także", "reklama",
)  # fmt: skip
# ...and these are credit lines, dropped even when they end like a sentence.
CREDITS = (
    "copyright", "©", "all rights reserved", "with inputs from", "edited by", "reporting by",
    "writing by", "additional reporting by", "only the headline",
    "credit:", "credits:", "photo:", "photo by", "image:", "picture:", "source:", "illustration:",
    "foto:", "bild:", "quelle:", "fuente:", "tel.:", "telefon:", "phone:", "fax:", "e-mail:", "email:",
)  # fmt: skip
# A call to the reader to subscribe, log in or write in: paywall and newsletter prompts.
READER_ADDRESS = re.compile(r"\b(?:you|your|you're|you\u2019re|please)\b", re.IGNORECASE)
CALL_TO_ACTION = re.compile(
    r"\b(?:subscri\w*|log in|sign in|sign up|newsletter|inbox|letter to the editor|register|donat\w+|support us)\b",
    re.IGNORECASE,
)
MAX_PROMPT_WORDS = 40
FURNITURE = re.compile(
    r"^(?:" + "|".join(re.escape(p) for p in sorted(NAVIGATION + CREDITS, key=len, reverse=True)) + r")(?!\w)"
)
MAX_FURNITURE_WORDS = 15
CLOSERS = "\"'\u201d\u2019)\u300d\u300f\uff09"  # and the CJK corner brackets and parenthesis
SENTENCE_END = tuple(end + close for end in ".!?\u3002\uff01\uff1f\uff61" for close in ("", *CLOSERS))
QUESTION_MARKS = "?\uff1f"
EMPHASIS = "*_ \t"
MIN_SENTENCE_WORDS = 3
MIN_HEADLINE_WORDS = 8
MAX_HEADLINE_WORDS = 30
# Markdown structure at a line's start: headings, quotes, list items (a marker then a space).
MARKDOWN_MARKERS = re.compile(r"[ \t]*(?:(?:#{1,6}|[*+-]|\d{1,9}[.)])(?:[ \t]+|$)|>[ \t]?)*")
MARKDOWN_NEW_BLOCK = re.compile(r"[ \t>]*(?:#{1,6}|[*+-]|\d{1,9}[.)])(?:[ \t]|$)")
MARKDOWN_WRAPPERS = ("**", "__", "*", "_")
BYLINE = re.compile(r"^by\s+\w", re.IGNORECASE)


@dataclass(frozen=True)
class Segment:
    """A piece of text and where it lies in the decoded file (None: not verbatim)."""

    text: str
    start: int | None
    end: int | None


def is_sentence(text: str) -> bool:
    """Ends like a sentence (closing quotes, brackets and Markdown emphasis allowed)."""
    return text.rstrip(EMPHASIS).endswith(SENTENCE_END)


def is_agency_tag(line: str) -> bool:
    """An agency name alone: `IANS`, `(PTI)`, `-- Reuters`, `AFP.`"""
    return line.strip().strip("-\u2013\u2014|()[]:.*_#> \t").lower() in AGENCIES


def is_reader_prompt(line: str) -> bool:
    """A short line asking the reader to subscribe, log in or write in (`Please subscribe to...`)."""
    return (
        len(line) < 20 * MAX_PROMPT_WORDS
        and len(line.split()) <= MAX_PROMPT_WORDS
        and READER_ADDRESS.search(line) is not None
        and CALL_TO_ACTION.search(line) is not None
    )


def _furniture(line: str) -> str | None:
    """The line, lowered and unwrapped, when it starts with a navigation or credit word and is short."""
    lowered = line.strip().lstrip("([*_#> \t").lower()
    if not FURNITURE.match(lowered) or len(words(lowered)) > MAX_FURNITURE_WORDS:
        return None
    return lowered


def is_credit(line: str) -> bool:
    """A short line that starts with a credit word (`Source: ...`, `Photo by ...`, `Copyright ...`)."""
    lowered = _furniture(line)
    return lowered is not None and lowered.startswith(CREDITS)


def is_boilerplate(line: str) -> bool:
    """An agency tag alone, a reader prompt, or a short navigation, sharing or credit line."""
    if is_agency_tag(line) or is_reader_prompt(line):
        return True
    lowered = _furniture(line)
    return lowered is not None and (lowered.startswith(CREDITS) or not is_sentence(lowered))


def is_label(line: str) -> bool:
    """Navigation that introduces the next line (`Also read:`): that line is a link."""
    return is_boilerplate(line) and line.rstrip(EMPHASIS).endswith(":")


def is_headline(line: str) -> bool:
    """One line that reads as a headline: words, no sentence end, not a byline or date.

    A question mark is allowed: question headlines are common. A line ending in
    `.)` or `."` is a sentence, not a headline. Three of its words must be words
    (two letters or more, or a one-letter word such as "A"), so a date or a
    score line is not one.
    """
    if len(line) > MAX_HEADLINE_WORDS * 40:  # far too long: no need to count its words
        return False
    tokens = words(line)
    wordy = sum(1 for w in tokens if sum(c.isalpha() for c in w) >= 2 or (len(w) == 1 and w.isalpha()))
    return (
        MIN_SENTENCE_WORDS <= len(tokens) <= MAX_HEADLINE_WORDS
        and wordy >= 3
        and "\n" not in line.strip()
        and not (is_sentence(line) and not line.rstrip(EMPHASIS + CLOSERS).endswith(tuple(QUESTION_MARKS)))
        and not BYLINE.match(line.strip())
    )


def is_teaser(text: str) -> bool:
    """A paragraph that can follow a headline: a sentence, not another headline."""
    return (
        is_sentence(text)
        and not text.rstrip(EMPHASIS).endswith(tuple(QUESTION_MARKS))
        and len(words(text)) >= MIN_SENTENCE_WORDS
    )


def is_fragment(text: str) -> bool:
    """A few words that are not a sentence, and not a headline making a full claim."""
    count = len(words(text))
    if count < MIN_SENTENCE_WORDS:
        return True
    return not is_sentence(text) and count < MIN_HEADLINE_WORDS


@dataclass
class _Run:
    """Consecutive lines becoming one unit; its text is built once, at the end (linear time)."""

    lines: list[Segment] = field(default_factory=list)
    words: int = 0

    def add(self, line: Segment) -> None:
        self.lines.append(line)
        self.words += len(line.text.split())

    def ends_sentence(self) -> bool:
        return is_sentence(self.lines[-1].text)

    def is_boilerplate(self) -> bool:
        """As `is_boilerplate` on the joined text, which only a short run can be."""
        return self.words <= MAX_FURNITURE_WORDS + 1 and is_boilerplate("\n".join(s.text for s in self.lines))

    def segment(self, source: str | None) -> Segment:
        """The joined unit: the file's slice when `source` is given, else lines joined, unlocated."""
        if len(self.lines) == 1:
            return self.lines[0]
        first, last = self.lines[0], self.lines[-1]
        if source is not None and all(
            _blank_between(a, b, source) for a, b in itertools.pairwise(self.lines)
        ):
            return Segment(source[first.start : last.end], first.start, last.end)
        return Segment("\n".join(s.text for s in self.lines), None, None)


def is_continuation(previous: _Run, line: Segment) -> bool:
    """A hard-wrapped line that carries on the previous line's sentence.

    Such a line is never boilerplate, even when it reads like some (`Reuters.`
    at the end of "...in an interview with / Reuters.").
    """
    if previous.ends_sentence() or previous.is_boilerplate():
        return False
    return line.text[:1].islower() or (is_agency_tag(line.text) and is_sentence(line.text))


def _markdown_content(line: str) -> tuple[int, str]:
    """Where a Markdown line's text starts, and the text, without structure markers.

    Emphasis wrapping the whole line (`**Headline**`) goes too; emphasis inside it stays.
    """
    marked = MARKDOWN_MARKERS.match(line).end()  # type: ignore[union-attr]
    bare = line[marked:].lstrip()  # NBSP too
    lead, content = len(line) - len(bare), bare.rstrip()
    for wrapper in MARKDOWN_WRAPPERS:
        inner = content[len(wrapper) : -len(wrapper)]
        if content.startswith(wrapper) and content.endswith(wrapper) and inner.strip() == inner != "":
            return lead + len(wrapper), inner
    return lead, content


def lines_to_blocks(text: str, markdown: bool = False) -> list[list[Segment]]:
    """Split text into blank-line separated blocks of lines with exact offsets.

    With `markdown`, heading, quote and list markers are left out of each line
    (its offsets start after them), so `# Title` labels as `Title`; a heading
    or a list item starts a block of its own.
    """
    blocks: list[list[Segment]] = []
    current: list[Segment] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if markdown:
            lead, content = _markdown_content(line)
            if current and MARKDOWN_NEW_BLOCK.match(line):
                blocks.append(current)
                current = []
        else:
            bare = line.lstrip()  # NBSP too
            lead, content = len(line) - len(bare), bare.rstrip()
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


def _blank_between(first: Segment, second: Segment, source: str) -> bool:
    """Whether only whitespace lies between two located segments (no Markdown marker)."""
    if first.end is None or second.start is None:
        return False
    return first.end == second.start or source[first.end : second.start].isspace()


def _join(first: Segment, second: Segment, source: str | None, separator: str) -> Segment:
    """One unit spanning two segments: the file's slice when only whitespace lies between them.

    Otherwise (HTML and JSON, or a Markdown marker in between) the texts are
    joined and the offsets are null: they are only ever set where
    `text == decoded[start:end]`.
    """
    if source is not None and _blank_between(first, second, source):
        return Segment(source[first.start : second.end], first.start, second.end)
    return Segment(first.text + separator + second.text, None, None)


def _runs(blocks: list[list[Segment]], source: str | None) -> list[Segment | None]:
    """Blocks with boilerplate lines removed; None marks a break (dropped line, record end)."""
    runs: list[Segment | None] = []
    skip_link = False
    for block in blocks:
        if not block:
            runs.append(None)
            continue
        run: _Run | None = None
        for line in block:
            if run is not None and is_continuation(run, line):
                run.add(line)
                continue
            link, skip_link = skip_link and is_headline(line.text), False
            if link or is_boilerplate(line.text):
                skip_link = is_label(line.text)
                if run is not None:
                    runs.append(run.segment(source))
                    run = None
                runs.append(None)
                continue
            if run is None:
                run = _Run()
            run.add(line)
        if run is not None:
            runs.append(run.segment(source))
    return runs


def units(blocks: list[list[Segment]], source: str | None = None) -> list[Segment]:
    """Apply the paragraph rules and return the units to label, in order.

    `source` is the decoded file for plain-text formats, whose units are exact
    slices of it; for HTML and JSON it is None and lines are joined instead.
    """
    merged: list[Segment] = []
    for record in _records(blocks):
        runs = _runs(record, source)
        present = [run for run in runs if run is not None]
        lines = [line for block in record for line in block]
        if len(present) == 1 and is_headline(present[0].text):
            merged += present  # a headline alone in its file or record is the news itself
        elif len(lines) == 1 and is_credit(lines[0].text) and is_headline(lines[0].text):
            merged += lines  # ...even one that opens like a credit: `Source: hackers send Sony a new message`
        else:
            merged += _merge(runs, source)
    return merged


def _records(blocks: list[list[Segment]]) -> Iterator[list[list[Segment]]]:
    """The blocks of each JSON record (an empty block ends one), or of the whole file."""
    record: list[list[Segment]] = []
    for block in blocks:
        if block:
            record.append(block)
        elif record:
            yield record
            record = []
    if record:
        yield record


def _merge(runs: list[Segment | None], source: str | None) -> list[Segment]:
    """Headlines joined with their teasers; fragments dropped."""
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

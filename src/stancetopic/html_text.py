"""The main text of an HTML page, as blocks of lines, by trafilatura.

trafilatura finds the article among navigation, sidebars, comments and
related-links blocks (it reads class and id names, link density and text
density, with readability and jusText as fallbacks): it leads the public
extraction benchmarks. Our own paragraph rules (`paragraphs`) then run on the
blocks it keeps. Its output tree is walked once, with start/end events, so
the walk is linear in the page and never recursive.
"""

from __future__ import annotations

from typing import Any

from stancetopic.paragraphs import is_sentence

# Elements of trafilatura's output that are blocks; `lb` is a line break inside one.
BLOCK_TAGS = frozenset({"p", "head", "item", "quote", "code", "row", "list", "table", "div", "body"})
LINE_BREAK = "lb"
CELL = "cell"
# lxml's HTML parser (libxml2) stops nesting at 256 levels and drops what lies
# deeper (it says so in its error log): such a page is reported, not half read.
MAX_DEPTH = 256
DEPTH_ERROR = "Excessive depth in document"
# trafilatura's main pass slows down more than linearly on huge pages (about 15 s
# for 20,000 repeated paragraphs); news pages have a few thousand elements (the
# largest of trafilatura's 990 benchmark pages about 10,000), so larger ones are reported.
MAX_ELEMENTS = 25_000


class PageError(ValueError):
    """A page whose main text cannot be extracted; the message says why."""


def _lines(buffer: list[str]) -> list[str]:
    """Non-empty lines of a block, whitespace collapsed."""
    return [line for line in (" ".join(part.split()) for part in buffer) if line]


def tree_blocks(body: Any) -> list[list[str]]:
    """Blocks of lines from trafilatura's output tree (`p`, `head`, `item`, `quote`...).

    Text directly inside a container (a `quote` holding `p`s) becomes a block
    of its own, in document order. A table row is one line, cells spaced. A
    line break after a sentence starts a new block.
    """
    from lxml import etree

    blocks: list[list[str]] = []
    stack: list[list[str]] = []  # the open blocks' current lines, innermost last

    def flush() -> None:
        lines = _lines(stack[-1])
        if lines:
            blocks.append(lines)
        stack[-1][:] = [""]

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS:
                if stack:
                    flush()
                stack.append([""])
            elif tag == LINE_BREAK:
                # A <br> after a sentence ends a paragraph (the div + br layout of many
                # blogs); one inside a sentence is a line of the same paragraph.
                if is_sentence(stack[-1][-1].strip()):
                    flush()
                else:
                    stack[-1].append("")
            elif tag == CELL:
                stack[-1][-1] += " "
            if tag:
                stack[-1][-1] += element.text or ""
            continue
        if tag in BLOCK_TAGS:
            flush()
            stack.pop()
        if stack:
            stack[-1][-1] += element.tail or ""
    return blocks


def main_text(source: str) -> list[list[str]]:
    """The page's headline and main-text blocks, comments left out.

    The headline trafilatura finds (`<h1>`, `og:title` or `<title>`, site
    name removed) comes first unless the text already starts with it. Raises
    PageError for markup nested deeper than MAX_DEPTH or pages of more than
    MAX_ELEMENTS elements, which bounds the time a page can take.
    """
    from trafilatura import bare_extraction, utils
    from trafilatura.metadata import extract_opengraph, extract_title

    tree = utils.load_html(source)
    if tree is None:
        return []
    if any(DEPTH_ERROR in error.message for error in utils.HTML_PARSER.error_log):  # this parse's log
        raise PageError(f"HTML nested more than {MAX_DEPTH} elements deep (the parser's limit)")
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_ELEMENTS:
        raise PageError(f"HTML page of {elements:,} elements, more than the {MAX_ELEMENTS:,} read")
    # The headline as trafilatura's metadata finds it, without its (slow) date search.
    title = " ".join((extract_opengraph(tree).get("title") or extract_title(tree) or "").split())
    try:
        document = bare_extraction(tree, include_comments=False, include_tables=True)
    except RecursionError as exc:
        raise PageError("HTML nested too deep to parse") from exc
    if document is None or isinstance(document, dict) or document.body is None:
        return [[title]] if title else []
    blocks = tree_blocks(document.body)
    if title and not (blocks and blocks[0][0] == title):
        blocks.insert(0, [title])
    return blocks

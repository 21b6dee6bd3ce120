"""HTML main text by trafilatura: main text kept, comments and sidebars dropped, bounds (no model)."""

from __future__ import annotations

import pytest
from lxml import etree

from stancetopic.html_text import MAX_DEPTH, MAX_ELEMENTS, PageError, main_text, tree_blocks

HEADLINE = "Council approves new tram line"
ARTICLE = (
    "<p>The city council voted on Tuesday to build a new tram line between the station and the "
    "university campus, officials said.</p>"
    "<p>Construction is due to start next spring and the line should open in three years, the "
    "transport department said in a statement.</p>"
    "<p>Opponents said the project would cost far more than the council had budgeted and called for "
    "a referendum.</p>"
)
PAGE = f"""<html><head><title>{HEADLINE} | City Herald</title></head><body>
<nav class="menu"><a href="/">Home</a> <a href="/news">News</a></nav>
<article>{ARTICLE}</article>
<aside class="sidebar widget"><h3>Most read</h3><ul>
<li><a href="/a">Bakery closes after forty years on Main Street downtown</a></li>
<li><a href="/b">Bridge works delayed again because of the weather</a></li></ul></aside>
<section id="comments" class="comments-area">
<div class="comment"><p>What a terrible waste of taxpayers money this whole tram idea is, honestly.</p></div>
<div class="comment"><p>Finally some common sense from the council, I will use it every day.</p></div>
</section>
<footer>Copyright City Herald</footer>
</body></html>"""


def text(blocks: list[list[str]]) -> str:
    return "\n".join(line for block in blocks for line in block)


def test_the_main_text_is_kept_and_comments_sidebar_and_menu_are_dropped():
    found = text(main_text(PAGE))
    for kept in (
        "voted on Tuesday to build a new tram line",
        "open in three years",
        "called for a referendum",
    ):
        assert kept in found, kept
    for dropped in ("terrible waste", "common sense", "Bakery closes", "Most read", "Home", "Copyright"):
        assert dropped not in found, dropped


def test_the_headline_comes_first_without_the_site_name():
    blocks = main_text(PAGE)
    assert blocks[0] == [HEADLINE]
    assert blocks[1][0].startswith("The city council voted on Tuesday")
    assert [HEADLINE] not in blocks[1:]


def test_a_page_without_main_text_gives_its_headline_or_nothing():
    assert main_text(f"<html><head><title>{HEADLINE}</title></head><body></body></html>") == [[HEADLINE]]
    assert main_text("") == []


def test_markup_nested_deeper_than_the_parser_reads_is_a_page_error():
    deep = (
        "<html><body>" + "<div>" * (MAX_DEPTH + 50) + "text" + "</div>" * (MAX_DEPTH + 50) + "</body></html>"
    )
    with pytest.raises(PageError, match=f"nested more than {MAX_DEPTH}"):
        main_text(deep)


def test_a_page_of_too_many_elements_is_a_page_error():
    with pytest.raises(PageError, match="more than the 25,000 read"):
        main_text("<html><body>" + "<p>x</p>" * MAX_ELEMENTS + "</body></html>")


def test_tree_blocks_joins_a_row_splits_after_a_sentence_and_keeps_lines_inside_one():
    body = etree.fromstring(
        "<body><p>First line<lb/>second line</p><table><row><cell>Year</cell><cell>Votes</cell></row></table>"
        "<p>The vote passed. <lb/>Turnout was low.</p><quote>Said first<p>Inner paragraph</p></quote></body>"
    )
    assert tree_blocks(body) == [
        ["First line", "second line"],
        ["Year Votes"],
        ["The vote passed."],
        ["Turnout was low."],
        ["Said first"],
        ["Inner paragraph"],
    ]

"""HTML main text: small pages of our own in the shapes real sites use (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancetopic.readers import ReadError, read_article

PAGES = Path(__file__).parent / "data" / "html"
LIMIT = 1_000_000


def texts(path: Path, **options) -> list[str]:
    return [unit.text for unit in read_article(path, LIMIT, **options).units]


def test_text_directly_in_a_div_with_br_breaks_is_read():
    found = "\n".join(texts(PAGES / "div_br.html"))
    assert "union accepted a pay offer of six percent" in found
    assert "denied claims that it had hired replacement crews" in found
    assert "Union leaders said members voted" in found
    assert "Ferry timetable" not in found  # the sidebar's popular posts
    assert "Blog Archive" not in found


def test_comments_sidebars_newsletters_and_related_links_are_left_out():
    found = "\n".join(texts(PAGES / "comments_sidebar.html"))
    for kept in ("rejected an appeal by farmers", "ordered the farmers to pay the costs", "reservoir should"):
        assert kept in found
    for dropped in ("terrible decision", "common sense", "morning briefing", "Bakery", "old mill car park"):
        assert dropped not in found, dropped


def test_the_headline_leads_and_is_joined_with_its_teaser():
    units = texts(PAGES / "comments_sidebar.html")
    assert units[0].startswith("Court rejects appeal over river dam\n\nThe regional high court")


def test_main_text_inside_header_is_kept():
    found = texts(PAGES / "header_main.html")
    assert found[0].startswith("Budget deficit narrows as tax receipts rise\n\nThe finance ministry said")
    assert any("Opposition politicians rejected the figures" in text for text in found)
    assert not any("Privacy" in text for text in found)


def test_a_chinese_page_gives_its_paragraphs():
    found = texts(PAGES / "cjk.html")
    assert found[0].startswith("港口工人接受加薪方案\uff0c罢工结束\n\n北方港口的码头工人在星期四复工")
    assert any("港务局否认" in text for text in found)
    assert not any(text in ("首页", "版权所有") for text in found)


def test_a_chinese_page_is_skipped_as_another_language_unless_all_languages():
    article = read_article(PAGES / "cjk.html", LIMIT, all_languages=False)
    assert article.units == []
    assert article.other_language == len(texts(PAGES / "cjk.html")) > 0


def test_offsets_are_verbatim_or_null(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><body><article><h1>Tariff talks resume in Geneva next week</h1>"
        "<p>Trade ministers from both countries agreed to meet again, officials said on Monday.</p>"
        "<p>The ministry denied that steel &amp; aluminium quotas were on the table this time.</p>"
        "</article></body></html>"
    )
    source = page.read_text()
    units = read_article(page, LIMIT).units
    assert len(units) == 2
    headline, second = units
    assert headline.start is None and headline.end is None  # a joined headline is not verbatim
    assert "steel & aluminium" in second.text and second.start is None  # an entity is not verbatim
    page.write_text(source.replace("&amp;", "and"))
    second = read_article(page, LIMIT).units[1]
    assert page.read_text()[second.start : second.end] == second.text


def nearly_utf8_page(charset: str) -> bytes:
    body = (
        "<p>Die Regierung in Zürich bestätigte am Montag, dass die Gespräche über den Zollvertrag "
        "fortgesetzt werden, wie ein Sprecher des Ministeriums erklärte.</p>"
        "<p>Die Opposition wies die Berichte über einen Abbruch der Verhandlungen als völlig falsch zurück "
        "und verlangte eine Erklärung vor dem Parlament.</p>"
    )
    data = f'<html><head><meta charset="{charset}"><title>Zollvertrag</title></head><body><article>{body}'
    data += "</article></body></html>"
    raw = data.encode("utf-8")
    return raw.replace("Erklärung".encode(), b"Erkl\xe4rung")  # one stray Latin-1 byte


def test_a_nearly_utf8_page_with_a_meta_charset_is_read_as_utf8(tmp_path):
    page = tmp_path / "z.html"
    page.write_bytes(nearly_utf8_page("utf-8"))
    found = "\n".join(texts(page))
    assert "Zürich bestätigte" in found and "völlig falsch" in found
    assert "Erkl\ufffdrung" in found  # the stray byte is replaced, nothing else changes


def test_a_declared_single_byte_charset_is_honoured(tmp_path):
    page = tmp_path / "l.html"
    text = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    text += "<body><article><p>" + "Le ministère a confirmé la réforme des retraites mardi à Genève. " * 3
    page.write_bytes((text + "</p></article></body></html>").encode("cp1252"))
    assert "ministère a confirmé la réforme" in "\n".join(texts(page))


def test_markup_nested_beyond_the_bound_is_one_error(tmp_path):
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + "<div>" * 5_000 + "text" + "</div>" * 5_000 + "</body></html>")
    with pytest.raises(ReadError, match="nested"):
        read_article(page, LIMIT)

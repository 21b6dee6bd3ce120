"""Paragraph rules: boilerplate, fragments, headline + teaser units, exact offsets."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stancetopic.paragraphs import Segment, is_boilerplate, lines_to_blocks, units


def texts(source: str, markdown: bool = False) -> list[str]:
    return [u.text for u in units(lines_to_blocks(source, markdown), source)]


def test_agency_tags_and_navigation_lines_are_boilerplate():
    for line in ("IANS", "(PTI)", "-- Reuters", "AFP.", "Read Next", "Read Previous: Budget row",
                 "Also read: Army confirms drone order", "Powered By WordPress", "Share this",
                 "[Read next](https://example.org/x)", "(With inputs from IANS)"):  # fmt: skip
        assert is_boilerplate(line), line
    for line in ("Reuters reported that the talks had collapsed, citing two officials.",
                 "Share prices fell 3 percent on Monday."):  # fmt: skip
        assert not is_boilerplate(line), line


def test_boilerplate_and_fragments_are_not_labelled_but_real_headlines_are():
    source = (
        "IANS\n\nRead Next\n\nMore to follow\n\n"
        "Government denies that troops crossed the border into the disputed valley\n\n"
        "Short title\n\nPowered By Example CMS\n"
    )
    assert texts(source) == ["Government denies that troops crossed the border into the disputed valley"]


def test_headline_directly_followed_by_teaser_is_one_unit():
    source = (
        "Court quashes conviction of former mayor\n"
        "The appeals court ruled the evidence had been unlawfully obtained.\n\n"
        "Exports fall for a third month\n\n"
        "Customs data showed shipments down 4 percent in September.\n"
    )
    assert texts(source) == [
        "Court quashes conviction of former mayor\n"
        "The appeals court ruled the evidence had been unlawfully obtained.",
        "Exports fall for a third month\n\nCustoms data showed shipments down 4 percent in September.",
    ]


def test_boilerplate_between_headline_and_paragraph_breaks_the_unit():
    source = (
        "Army confirms order\n\nShare this\n\nThe ministry signed the contract on Monday, officials said.\n"
    )
    assert texts(source) == ["The ministry signed the contract on Monday, officials said."]


def test_markdown_markers_are_outside_the_unit():
    source = "# Central bank raises rates by a quarter point\n\nThe bank said inflation was too high.\n"
    [unit] = units(lines_to_blocks(source, markdown=True), source)
    assert unit.text.startswith("Central bank raises")
    assert source[unit.start : unit.end] == unit.text


LINE = st.one_of(
    st.sampled_from(["IANS", "Read Next", "Share this", "More to follow", "(Reuters)", "  "]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Zl", "Zp", "Cc")),
            max_size=60),
    st.lists(st.sampled_from(["the", "court", "army", "said", "that", "tax", "rose", "fell", "denied", "migrants", "."]),
             min_size=1, max_size=25).map(" ".join),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@example(["\xa00", "0", "0 0", "0 0 0 0"], "\n", False)  # a leading no-break space, found by hypothesis
@given(st.lists(LINE, max_size=25), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_units_are_exact_ordered_slices_of_the_source(lines, newline, markdown):
    source = newline.join(lines)
    found = units(lines_to_blocks(source, markdown), source)
    previous_end = 0
    for unit in found:
        assert unit.text.strip() == unit.text and unit.text
        assert not is_boilerplate(unit.text.splitlines()[0])
        if unit.start is None:  # Markdown lines with a marker between them: not one slice
            assert markdown and unit.end is None
            continue
        assert source[unit.start : unit.end] == unit.text
        assert unit.start >= previous_end
        previous_end = unit.end
    assert units(lines_to_blocks(source, markdown), source) == found


def test_credit_lines_bylines_and_links_after_labels_are_not_labelled():
    source = (
        "Court clears mayor of graft charges in landmark ruling\n\n"
        "By Giulia Ferrante\n\n"
        "The court in Lyon acquitted the mayor on Tuesday, saying the evidence was thin.\n\n"
        "(Reporting by Jean Martin; Editing by Ana Silva)\n\n"
        "Also read:\nArmy confirms order for forty new drones\n\n"
        "Copyright 2025 Example News. All rights reserved.\n"
    )
    assert texts(source) == [
        "Court clears mayor of graft charges in landmark ruling",
        "The court in Lyon acquitted the mayor on Tuesday, saying the evidence was thin.",
    ]


def test_real_paragraphs_that_start_like_furniture_are_kept():
    source = (
        "Subscribers to the state pension scheme rose 4 percent last year, data showed.\n\n"
        "Advertisement revenue at the broadcaster fell 30% in the quarter.\n\n"
        "He denied it.\n"
    )
    assert texts(source) == source.strip().split("\n\n")


def test_hard_wrapped_lines_stay_in_their_paragraph():
    source = "The minister made the remarks in an interview with\nReuters. She did not elaborate.\n"
    assert texts(source) == [source.strip()]


def test_question_headline_takes_its_teaser_but_a_byline_does_not():
    source = (
        "Will the ECB cut rates again in September?\n\nMost economists polled said they expect a pause.\n"
    )
    assert len(texts(source)) == 1
    assert texts("By Giulia Ferrante\n\nThe mayor denied the report on Monday.\n") == [
        "The mayor denied the report on Monday."
    ]


def test_an_empty_block_stops_a_headline_from_taking_the_next_record():
    title = [[Segment("Supreme court upholds the prison sentence of a former minister", None, None)]]
    body = [[Segment("Judges dismissed the appeal on Friday.", None, None)]]
    assert [u.text for u in units([*title, [], *body])] == [
        "Supreme court upholds the prison sentence of a former minister",
        "Judges dismissed the appeal on Friday.",
    ]


def test_a_headline_alone_in_its_file_or_record_is_labelled():
    headline = "Egypt's President denies offering land to Palestinians"
    assert texts(headline + "\n") == [headline]
    assert texts("Share this\n\n" + headline + "\n") == [headline]  # boilerplate does not count
    record = [[Segment(headline, None, None)]]
    lone = [[Segment("Minister quits", None, None)]]
    assert [u.text for u in units([*record, [], *lone, []])] == [headline]  # two words: still a fragment
    assert texts("A Forged Vermeer\n") == ["A Forged Vermeer"]  # three words, one of them a letter
    assert texts("12 May 2015\n") == []  # a date is not a headline
    assert texts("Ministry denies report\n\nThe ministry denied the report on Monday.\n") == [
        "Ministry denies report\n\nThe ministry denied the report on Monday."
    ]  # not alone: it is joined with its teaser as before


def test_a_headline_alone_is_labelled_even_when_it_opens_like_a_credit_line():
    headline = "Source: Hackers send a new message to the studio"
    assert texts(headline + "\n") == [headline]  # attribution headlines read as the news
    assert texts(headline + "\n\nThe studio said it was reviewing the message.\n") == [
        "The studio said it was reviewing the message."
    ]  # in an article it is a credit line, dropped as before
    assert texts("Source: Reuters\n") == []  # two words: a credit, not a headline
    assert texts("Read more: Hackers send a new message to the studio\n") == []  # navigation stays out


def test_a_headline_in_a_list_of_headlines_still_needs_eight_words():
    assert texts("Minister denies offering land\n\nBank raises rates again\n") == []


def test_a_line_ending_in_a_bracketed_full_stop_is_a_sentence_not_a_headline():
    source = (
        "The ministry rejected the report (first published by Dawn on Sunday, citing officials.)\n\n"
        "Officials said talks would resume next week after the holiday.\n"
    )
    assert texts(source) == [
        "The ministry rejected the report (first published by Dawn on Sunday, citing officials.)",
        "Officials said talks would resume next week after the holiday.",
    ]


def test_markdown_list_items_on_consecutive_lines_are_separate_units_without_markers():
    source = (
        "Officials described the ruling in three points.\n"
        "* **The appeal was dismissed and the sentence of six years stands.**\n"
        "- The judges rejected the claim that the evidence was obtained unlawfully.\n"
        "1. The defendant must also pay the costs of the appeal, the court said.\n"
    )
    found = units(lines_to_blocks(source, markdown=True), source)
    assert [u.text for u in found] == [
        "Officials described the ruling in three points.",
        "The appeal was dismissed and the sentence of six years stands.",
        "The judges rejected the claim that the evidence was obtained unlawfully.",
        "The defendant must also pay the costs of the appeal, the court said.",
    ]
    for unit in found:
        assert source[unit.start : unit.end] == unit.text


def test_a_heading_joined_with_a_list_item_has_no_marker_and_null_offsets():
    source = "## Court dismisses the appeal of the former mayor\n* The sentence of six years stands.\n"
    (unit,) = units(lines_to_blocks(source, markdown=True), source)
    assert unit.text == "Court dismisses the appeal of the former mayor\n\nThe sentence of six years stands."
    assert unit.start is None and unit.end is None


def test_chinese_and_thai_words_and_sentence_ends_are_counted():
    chinese = "港务局否认在罢工期间雇用了替代工人。"
    thai = "รัฐบาลยืนยันว่าการเจรจาการค้าจะเริ่มขึ้นอีกครั้งในสัปดาห์หน้า"
    assert texts(f"{chinese}\n\n首页\n") == [chinese]
    assert texts(f"{thai}\n\nหน้าแรก\n") == [thai]

"""Paragraph rules: boilerplate, fragments, headline + teaser units, exact offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stancetopic.paragraphs import is_boilerplate, lines_to_blocks, units


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
@given(st.lists(LINE, max_size=25), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_units_are_exact_ordered_slices_of_the_source(lines, newline, markdown):
    source = newline.join(lines)
    found = units(lines_to_blocks(source, markdown), source)
    previous_end = 0
    for unit in found:
        assert source[unit.start : unit.end] == unit.text
        assert unit.start >= previous_end and unit.text.strip() == unit.text and unit.text
        assert not is_boilerplate(unit.text.splitlines()[0])
        previous_end = unit.end
    assert units(lines_to_blocks(source, markdown), source) == found

"""The label sets are the ones the docs promise, in one place."""

from __future__ import annotations

import re
from pathlib import Path

from stancetopic.labels import FIXTURE_STANCES, HARD_TAGS, STANCES, TOPICS, UNVERIFIED

ROOT = Path(__file__).resolve().parents[1]


def test_the_topics_are_the_ones_the_docs_list():
    listed = "`defence`, `economy`, `migration`, `courts` or `other`"
    assert listed in (ROOT / "README.md").read_text() and listed in (ROOT / "data" / "README.md").read_text()
    assert tuple(re.findall(r"`(\w+)`", listed)) == TOPICS


def test_unverified_is_a_fixture_stance_but_never_an_output_label():
    assert STANCES == ("affirms", "denies")
    assert (*STANCES, UNVERIFIED) == FIXTURE_STANCES and UNVERIFIED not in STANCES


def test_every_hard_tag_is_documented_in_the_labelling_guide():
    guide = (ROOT / "data" / "README.md").read_text()
    documented = re.findall(r"^\| `([a-z-]+)` \| ", guide, flags=re.MULTILINE)
    assert set(HARD_TAGS) <= set(documented) and len(set(HARD_TAGS)) == len(HARD_TAGS)

"""The HTML report: one self-contained page, every figure embedded, user text escaped."""

from __future__ import annotations

import re

from stancetopic.html_report import render
from stancetopic.report import build_report
from tests.test_report import MANIFEST, RECORDS, STANCE, TOPIC


def page(title: str = "stancetopic: test split") -> str:
    return render(build_report(RECORDS, STANCE, TOPIC, MANIFEST, "d" * 64), title)


def test_every_figure_is_embedded_and_nothing_is_fetched():
    html = page()
    images = re.findall(r'<img alt="figure" src="([^"]+)"', html)
    assert len(images) == 5  # two confusion maps, F1 bars, reliability, coverage
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "http://" not in html and "https://" not in html


def test_user_text_is_escaped():
    html = page("<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Exports fell &lt;b&gt;again&lt;/b&gt;." in html  # the worst error's text


def test_the_summary_table_shows_the_reports_figures():
    html = page()
    assert '<td>stance</td><td class="n">0.667</td><td class="n">0.667</td>' in html
    assert "4 paragraphs · data sha256 dddddddddddd" in html
    assert "embedder embedder (4-d)" in html

"""`stancetopic overview`: the page's figures and tables, exact counts, `--by`, refusals and bad input."""

from __future__ import annotations

import base64
import datetime
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from stancetopic.cli import main
from stancetopic.output import finish, partial_path
from stancetopic.overview import _date_buckets, summarise
from stancetopic.tables import TableError

# A hand-made label output: (source, paragraph, stance, stance score, topic, topic score, uncertain, date, outlet).
RECORDS = [
    ("a.txt", 0, "denies", 0.95, "defence", 0.90, False, "2026-03-01", "Daily Ledger"),
    ("a.txt", 1, "affirms", 0.90, "defence", 0.85, False, "2026-03-01", "Daily Ledger"),
    ("b.txt", 0, "denies", 0.70, "courts", 0.80, False, "2026-03-02", "Evening Courier"),
    ("b.txt", 1, "affirms", 0.55, "courts", 0.60, True, "2026-03-02", "Evening Courier"),
    ("c.txt", 0, "denies", 0.85, "economy", 0.40, True, "2026-03-02", "Daily Ledger"),
    ("c.txt", 1, "affirms", 0.99, "economy", 0.95, False, "", "Daily Ledger"),
    ("d.txt", 0, "denies", 0.60, "migration", 0.70, True, "2026-03-03", "Evening Courier"),
    ("d.txt", 1, "denies", 0.99, "defence", 0.92, False, "2026-03-03", "Evening Courier"),
]
TOPICS = ["defence", "economy", "migration", "courts", "other"]


def record(row: tuple, kept: bool = True) -> dict:
    source, paragraph, stance, stance_score, topic, topic_score, uncertain, date, outlet = row
    scores = dict.fromkeys(TOPICS, round((1 - topic_score) / 4, 4)) | {topic: topic_score}
    out = {"source": source, "paragraph": paragraph, "start": 0, "end": 10,
           "text": f"Paragraph {paragraph} of {source}: a {stance} line about {topic}.",
           "stance": stance, "stance_score": stance_score, "topic": topic, "topic_score": topic_score,
           "topic_scores": scores, "uncertain": uncertain}  # fmt: skip
    return out | ({"date": date, "outlet": outlet} if kept else {})


def write_labels(path: Path, fmt: str = "jsonl", kept: bool = True) -> Path:
    """A label output written by `output.finish`, as `label` writes it."""
    partial = partial_path(path)
    partial.write_text("".join(json.dumps(record(r, kept)) + "\n" for r in RECORDS))
    finish(partial, path, fmt, TOPICS)
    return path


def invoke(*args: object):
    return CliRunner().invoke(main, ["overview", *map(str, args)], catch_exceptions=False)


def figures(page: str) -> dict[str, bytes]:
    """The page's figures by id, as decoded PNG bytes."""
    found = re.findall(r'<figure id="([a-z-]+)"><img alt="figure" src="data:image/png;base64,([^"]+)">', page)
    return {name: base64.b64decode(data) for name, data in found}


@pytest.mark.parametrize(("name", "fmt"), [("labels.jsonl", "jsonl"), ("labels.csv", "csv"),
                                           ("labels.parquet", "parquet"), ("labels.out", "jsonl")])  # fmt: skip
def test_counts_are_exact_in_every_output_format(tmp_path, name, fmt):
    overview = summarise(write_labels(tmp_path / name, fmt, kept=False))
    per_topic = overview.tally(lambda c: c[1])
    assert overview.n == 8
    assert {t: per_topic[t].n for t in per_topic} == {"defence": 3, "courts": 2, "economy": 2, "migration": 1}
    assert {t: per_topic[t].stances["denies"] for t in per_topic} == {
        "defence": 2, "courts": 1, "economy": 1, "migration": 1
    }  # fmt: skip
    assert overview.total().uncertain == 3
    assert overview.topics() == ["defence", "economy", "migration", "courts"]
    # Most confident denials first; most uncertain by the lower of the two scores.
    assert [e.source for e in overview.examples("denials", "defence")] == ["d.txt ¶1", "a.txt ¶0"]
    assert [(e.source, e.topic_score) for e in overview.examples("unsure", "economy")] == [("c.txt ¶0", 0.4)]
    assert overview.examples("unsure", "defence") == []


def test_the_page_has_every_figure_and_table_and_is_self_contained(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    page_path = tmp_path / "page.html"
    result = invoke(labels, "-o", page_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"8 paragraphs -> {page_path}"
    page = page_path.read_text()
    shown = figures(page)
    assert set(shown) == {"topics"}
    assert all(png.startswith(b"\x89PNG") and len(png) > 2000 for png in shown.values())
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing loaded from elsewhere
    # The summary table: topic, paragraphs, share, share affirms, share denies, share uncertain.
    assert ('<tr><td>defence</td><td class="n">3</td><td class="n">0.375</td><td class="n">0.333</td>'
            '<td class="n">0.667</td><td class="n">0.000</td></tr>') in page  # fmt: skip
    assert ('<tr><td>all</td><td class="n">8</td><td class="n">1.000</td><td class="n">0.375</td>'
            '<td class="n">0.625</td><td class="n">0.375</td></tr>') in page  # fmt: skip
    denials = page.split("Most confident denials")[1].split("Most uncertain")[0]
    assert denials.index("d.txt ¶1") < denials.index("a.txt ¶0")
    assert "Paragraph 1 of d.txt: a denies line about defence." in denials
    unsure = page.split("Most uncertain paragraphs")[1]
    assert "c.txt ¶0" in unsure and "a.txt ¶0" not in unsure
    assert "--by COLUMN" in page


def test_by_a_date_column_draws_lines_over_days(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    result = invoke(labels, "-o", tmp_path / "page.html", "--by", "date")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "page.html").read_text()
    assert "by-dates" in figures(page)
    assert "one point per day; 1 paragraphs without a date are left out." in page
    overview = summarise(labels, by="date")
    per_day = overview.tally(lambda c: c[0])
    assert {d: t.n for d, t in per_day.items()} == {
        "2026-03-01": 2,
        "2026-03-02": 3,
        "2026-03-03": 2,
        "(none)": 1,
    }


def test_dates_are_bucketed_by_their_span_and_one_non_date_makes_a_text_column():
    assert _date_buckets(["2026-03-01", "2026-03-02T09:30:00+00:00", "(none)"]) == (
        {"2026-03-01": datetime.date(2026, 3, 1), "2026-03-02T09:30:00+00:00": datetime.date(2026, 3, 2)},
        "day",
    )
    weeks, step = _date_buckets(["2026-01-01", "2026-06-03"])  # a Thursday and a Wednesday
    assert (set(weeks.values()), step) == (
        {datetime.date(2025, 12, 29), datetime.date(2026, 6, 1)},
        "week (from Monday)",
    )
    months, step = _date_buckets(["2024-02-10", "2026-06-03"])
    assert (set(months.values()), step) == ({datetime.date(2024, 2, 1), datetime.date(2026, 6, 1)}, "month")
    assert _date_buckets(["2026-03-01", "Daily Ledger"]) is None
    assert _date_buckets(["(none)"]) is None


def test_by_a_text_column_draws_bars_and_a_table(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    result = invoke(labels, "-o", tmp_path / "page.html", "--by", "outlet")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "page.html").read_text()
    assert "by-values" in figures(page)
    # outlet, paragraphs, share of all, share denies, share uncertain, main topic
    assert (
        '<tr><td>Daily Ledger</td><td class="n">4</td><td class="n">0.500</td><td class="n">0.500</td>'
        '<td class="n">0.250</td><td>defence</td></tr>'
    ) in page  # fmt: skip  (a tie: the first seen)
    assert ('<tr><td>Evening Courier</td><td class="n">4</td><td class="n">0.500</td><td class="n">0.750</td>'
            '<td class="n">0.500</td><td>courts</td></tr>') in page  # fmt: skip
    # The example tables name each paragraph's outlet.
    assert "<th>outlet</th>" in page.split("Most confident denials")[1]


def test_by_source_on_a_parquet_output(tmp_path):
    labels = write_labels(tmp_path / "labels.parquet", "parquet", kept=False)
    result = invoke(labels, "-o", tmp_path / "page.html", "--by", "source")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "page.html").read_text()
    assert "by-values" in figures(page)  # source names are not dates
    assert page.count("<td>a.txt</td>") == 1


def test_a_run_without_paragraphs_is_a_page_that_says_so(tmp_path):
    empty_jsonl, header_only = tmp_path / "empty.jsonl", tmp_path / "empty.csv"
    empty_jsonl.write_text("")
    header_only.write_text(
        "source,paragraph,start,end,text,stance,stance_score,topic,topic_score,uncertain\n"
    )
    for labels in (empty_jsonl, header_only):
        page = tmp_path / f"{labels.name}.html"
        result = invoke(labels, "-o", page, "--by", "source")
        assert result.exit_code == 0, result.stderr
        assert "No labelled paragraphs in this output" in page.read_text()


def test_an_existing_output_is_not_replaced_without_overwrite(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    page = tmp_path / "page.html"
    page.write_text("mine")
    result = invoke(labels, "-o", page)
    assert result.exit_code == 2
    assert "exists; pass --overwrite to replace it" in result.stderr
    assert page.read_text() == "mine"
    assert invoke(labels, "-o", labels, "--overwrite").exit_code == 2  # never over its own input
    assert invoke(labels, "-o", page, "--overwrite").exit_code == 0
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_bad_input_is_one_line_with_file_and_line_and_exit_5(tmp_path):
    labels = tmp_path / "labels.jsonl"
    lines = [json.dumps(record(r)) for r in RECORDS]
    lines[2] = lines[2].replace('"stance_score": 0.7', '"stance_score": "high"')
    labels.write_text("\n".join(lines) + "\n")
    page = tmp_path / "page.html"
    result = invoke(labels, "-o", page)
    assert result.exit_code == 5
    assert result.stderr == f"error: {labels}:3: stance_score 'high' is not a number\n"
    assert not page.exists()

    lines[2:5] = [lines[3], "{broken", lines[4]]  # fixed the score; line 4 is not JSON
    labels.write_text("\n".join(lines) + "\n")
    result = invoke(labels, "-o", page)
    assert (result.exit_code, result.stderr.count("\n")) == (5, 1)
    assert result.stderr.startswith(f"error: {labels}:4: not JSON")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no column 'uncertain'"),
        (("--by", "outlet"), "no column 'uncertain', 'outlet'"),
    ],
)
def test_missing_columns_are_named(tmp_path, args, message):
    labels = tmp_path / "old.csv"
    labels.write_text(
        "source,paragraph,text,stance,stance_score,topic,topic_score\na.txt,0,t,denies,0.9,courts,0.8\n"
    )
    result = invoke(labels, "-o", tmp_path / "page.html", *args)
    assert result.exit_code == 5
    assert result.stderr.startswith(f"error: {labels}: {message} (the columns are: source, paragraph")


def test_library_raises_table_error_on_a_score_out_of_range(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(record(RECORDS[0]) | {"topic_score": 1.5}) + "\n")
    with pytest.raises(TableError, match=r"labels.jsonl:1: topic_score 1.5 is not a probability"):
        summarise(labels)


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs Debian's chromium (apt-get install chromium)"
)
def test_the_page_renders_in_headless_chromium(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    page, shot = tmp_path / "page.html", tmp_path / "page.png"
    assert invoke(labels, "-o", page, "--by", "date").exit_code == 0
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pixels = (imread(shot)[..., :3] * 255).round()

    def painted(colour: str) -> int:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).max(axis=-1) <= 8).sum())

    # The browser drew the embedded figures: the defence bars and the denial bars are there.
    assert painted("#4c72b0") > 2000
    assert painted("#c44e52") > 2000

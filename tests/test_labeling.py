"""`labeling`: choosing files, paragraph units with offsets, records, per-file summaries. No model needed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancetopic import labeling, output
from stancetopic.errors import RefusedError
from stancetopic.paragraphs import Segment
from tests.helpers import write_corpus

STANCES = ["affirms", "denies"]
TOPICS = ["courts", "defence", "economy", "migration", "other"]


def scored(stance: str, score: float, topic: str, source: str = "a.txt", sure: float = 0.8) -> dict:
    """A record whose `topic` has probability `sure`, the rest shared by the other topics."""
    scores = {t: sure if t == topic else (1 - sure) / (len(TOPICS) - 1) for t in TOPICS}
    return {"source": source, "stance": stance, "stance_score": score, "topic": topic, "topic_scores": scores}


def test_the_article_topic_has_the_highest_mean_probability_and_shares_add_up():
    summary = labeling.FileSummary()
    for topic in ["economy", "courts", "economy", "other", "economy", "courts"]:
        summary.add(scored("denies" if topic == "courts" else "affirms", 0.9, topic))
    row = summary.as_dict(STANCES)
    assert row["dominant_topic"] == "economy"
    assert row["topic_scores"]["economy"] == pytest.approx((3 * 0.8 + 3 * 0.05) / 6, abs=1e-4)
    assert sum(row["topic_scores"].values()) == pytest.approx(1, abs=1e-3)
    assert row["paragraphs"] == 6
    assert row["stance_share"] == {"affirms": pytest.approx(0.6667), "denies": pytest.approx(0.3333)}
    tie = labeling.FileSummary()
    for topic in ["other", "courts"]:
        tie.add(scored("affirms", 0.9, topic))
    assert tie.as_dict(STANCES)["dominant_topic"] == "courts"  # ties: alphabetical, stable across runs
    assert labeling.FileSummary().as_dict(STANCES) == {
        "paragraphs": 0, "stance_share": {"affirms": 0.0, "denies": 0.0}, "dominant_topic": None, "other_language": 0}  # fmt: skip


def test_sure_paragraphs_outweigh_a_majority_of_unsure_ones():
    summary = labeling.FileSummary()
    for topic, sure in [
        ("economy", 0.4),
        ("economy", 0.4),
        ("economy", 0.4),
        ("other", 0.95),
        ("other", 0.95),
    ]:
        summary.add(scored("affirms", 0.9, topic, sure=sure))
    row = summary.as_dict(STANCES)
    assert row["dominant_topic"] == "other"  # a vote would say economy, 3 to 2
    assert row["topic_scores"]["other"] > row["topic_scores"]["economy"]


def test_outcome_counts_recovered_and_new_records_alike():
    outcome = labeling.Outcome()
    outcome.opened("empty.txt")
    assert outcome.add([scored("affirms", 0.9, "courts"), scored("denies", 0.8, "courts", "b.txt")]) == 2
    assert outcome.add(iter([scored("denies", 0.7, "economy")])) == 1
    summary = outcome.summary("out.jsonl", STANCES, None, 0.5)
    assert {name: row["paragraphs"] for name, row in summary["files"].items()} == {
        "empty.txt": 0, "a.txt": 2, "b.txt": 1}  # fmt: skip
    assert summary["files"]["a.txt"]["stance_share"] == {"affirms": 0.5, "denies": 0.5}


def test_records_follow_the_contract_and_each_heads_threshold():
    nothing = labeling.NOTHING_KEPT
    items = [("a.txt", 0, Segment("One.", 0, 4), nothing), ("a.txt", 1, Segment("Two.", None, None), nothing)]
    stance = np.array([[0.9, 0.1], [0.3, 0.7]])
    topic = np.array([[0.1, 0.1, 0.6, 0.1, 0.1], [0.05, 0.05, 0.05, 0.05, 0.8]])
    records = labeling.to_records(items, stance, topic, STANCES, TOPICS, {"stance": 0.8, "topic": 0.7})
    assert list(records[0]) == list(output.FIELDS)
    assert [(r["stance"], r["topic"], r["uncertain"]) for r in records] == [
        ("affirms", "economy", True), ("denies", "other", True)]  # fmt: skip
    assert (records[1]["start"], records[1]["end"]) == (None, None)
    assert records[0]["topic_scores"] == dict(zip(TOPICS, [0.1, 0.1, 0.6, 0.1, 0.1], strict=True))


def test_html_and_json_offsets_point_at_the_verbatim_text(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    (corpus / "plain.html").write_text(
        "<html><body><p>The port authority confirmed on Monday that the new terminal would open.</p>"
        "<p>Dock workers denied <b>claims</b> that the strike had ended, a union official said.</p></body></html>"
    )
    chosen = labeling.files(corpus, "*", labeling.Outcome())
    units = {
        (source, unit.text): unit
        for source, _, unit, _ in labeling.paragraphs(chosen, 10**6, labeling.Outcome())
    }
    verbatim = [
        ("plain.html", "The port authority confirmed on Monday that the new terminal would open."),
        ("e.json", "Heavy rain will continue across the south until Sunday, the weather service said."),
        ("sub/d.jsonl", "The minister had denied the charges."),
    ]
    for source, text in verbatim:
        unit = units[(source, text)]
        assert unit.start is not None, source
        assert (corpus / source).read_text()[unit.start : unit.end] == text
    for source, text in [
        ("plain.html", "Dock workers denied claims that the strike had ended, a union official said."),
        ("sub/c.html", "The mayor denied that the reception centre was full & said beds were free."),
    ]:
        assert units[(source, text)].start is None  # markup or `&amp;` inside: not verbatim, no offsets
    for (source, text), unit in units.items():  # joined headline units: the readers' own tests
        if unit.start is not None and "\n" not in text:
            assert (corpus / source).read_text()[unit.start : unit.end] == text


def test_files_takes_a_folder_or_one_file_and_notes_unsupported(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    outcome = labeling.Outcome()
    names = [name for _, name in labeling.files(corpus, "*", outcome)]
    assert names == ["a.txt", "b.md", "e.json", "sub/c.html", "sub/d.jsonl"]
    assert outcome.skipped == ["notes.pdf"]
    assert labeling.files(corpus / "sub" / "c.html", "*", labeling.Outcome()) == [
        (corpus / "sub" / "c.html", "c.html")
    ]
    assert [n for _, n in labeling.files(corpus, "sub/*", labeling.Outcome())] == [
        "sub/c.html",
        "sub/d.jsonl",
    ]


def test_nothing_to_label_is_refused_in_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RefusedError, match=r"empty: nothing to label: no file$"):
        labeling.files(empty, "*", labeling.Outcome())
    corpus = write_corpus(tmp_path / "in")
    with pytest.raises(RefusedError, match=r"nothing to label: no file matches --glob '\*.xml'"):
        labeling.files(corpus, "*.xml", labeling.Outcome())
    (empty / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(RefusedError, match="none of the 1 files is of a supported type"):
        labeling.files(empty, "*", labeling.Outcome())


def test_an_old_output_among_the_inputs_is_refused(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    old = corpus / "labels.jsonl"
    old.write_text(
        json.dumps({"source": "a.txt", "paragraph": 0, "stance": "affirms", "topic_scores": {}}) + "\n"
    )
    with pytest.raises(RefusedError, match=r"labels\.jsonl: a stancetopic output among the inputs"):
        labeling.files(corpus, "*", labeling.Outcome())
    assert len(labeling.files(corpus, "*.txt", labeling.Outcome())) == 1  # left out by --glob: fine


def test_a_file_name_that_is_not_utf8_becomes_a_valid_source(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = b"caf\xff.txt"
    with open(bytes(folder) + b"/" + name, "w") as handle:
        handle.write("The ministry confirmed on Monday that the new bridge would open in May.\n")
    chosen = labeling.files(folder, "*", labeling.Outcome())
    assert [source for _, source in chosen] == ["caf\ufffd.txt"]
    assert [u.text[:12] for _, _, u, _ in labeling.paragraphs(chosen, 10**6, labeling.Outcome())] == [
        "The ministry"
    ]


def test_the_stderr_table_keeps_a_screenful_and_the_totals():
    files = {f"f{i:03d}.txt": {"paragraphs": i % 7 + 1, "stance_share": {"affirms": 1.0, "denies": 0.0},
                               "dominant_topic": "courts"} for i in range(50)}  # fmt: skip
    table = labeling.summary_table({"output": "o.jsonl", "files": files}, STANCES, limit=5).splitlines()
    shown = [line.split()[0] for line in table[1:-2]]
    assert shown == [
        "f006.txt",
        "f013.txt",
        "f020.txt",
        "f027.txt",
        "f034.txt",
    ]  # the largest, in input order
    assert table[-2] == "... 45 more files (every file is in --summary)"
    assert table[-1] == f"{sum(r['paragraphs'] for r in files.values())} paragraphs in 50 files -> o.jsonl"
    small = labeling.summary_table(
        {"output": "o", "files": dict(list(files.items())[:3])}, STANCES
    ).splitlines()
    assert len(small) == 5 and "more files" not in small[-2]

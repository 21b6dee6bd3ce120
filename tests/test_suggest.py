"""`stancetopic suggest`: which paragraphs are chosen for review, and what is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from stancetopic import suggest
from stancetopic.cli import main
from tests.helpers import label, read, write_corpus

TOPICS = ("courts", "defence", "economy", "migration", "other")


def record(source: str, topic: str, top: float, runner_up: float, stance_score: float = 0.99) -> dict:
    """A `label` record (as compare.read_label_output gives it) with made-up scores."""
    rest = (1 - top - runner_up) / 3
    second = next(t for t in TOPICS if t != topic)
    scores = {t: top if t == topic else runner_up if t == second else rest for t in TOPICS}
    return {"source": source, "paragraph": 0, "text": f"{source} {topic} {top}", "stance": "affirms",
            "stance_score": stance_score, "topic": topic, "topic_scores": scores}  # fmt: skip


def unit(*weights: tuple[int, float]) -> np.ndarray:
    """A unit vector from (dimension, weight) pairs."""
    vector = np.zeros(32, dtype=np.float32)
    for dimension, weight in weights:
        vector[dimension] = weight
    return vector / np.linalg.norm(vector)


def test_priority_is_the_weaker_head_plus_disagreeing_with_the_file_plus_the_files_doubt():
    records = [
        record("a.txt", "economy", 0.90, 0.05),  # sure of both heads
        record("a.txt", "economy", 0.50, 0.40),  # unsure of the topic
        record("a.txt", "economy", 0.90, 0.05, stance_score=0.55),  # unsure of the stance
        record("a.txt", "other", 0.90, 0.05),  # sure, but not the topic of its file
    ]
    value, doubt = suggest.priorities(records), suggest.file_uncertainty(records)
    assert np.ptp(doubt) == 0 and doubt[0] > 0  # one file: the same term for each of its paragraphs
    assert value - doubt == pytest.approx([0.15, 0.90, 0.90, 1.15])


def test_file_uncertainty_is_one_minus_the_margin_of_the_files_topic():
    records = [
        record("close.txt", "economy", 0.90, 0.05),
        record("close.txt", "economy", 0.50, 0.40),  # file means: economy 0.70, courts 0.225
        record("clear.txt", "economy", 0.90, 0.05),  # economy 0.90, courts 0.05
    ]
    assert suggest.file_uncertainty(records) == pytest.approx([0.525, 0.525, 0.15])


def test_selection_is_seeded_and_skips_near_duplicates_and_known_paragraphs():
    records = [record(f"f{i % 3}.txt", "economy", 0.5, 0.4) for i in range(9)]  # all equally unsure
    vectors = np.stack([unit((i, 1.0)) for i in range(9)])  # orthogonal: no two alike
    first = suggest.select(records, vectors, 5, seed=7)
    assert first == suggest.select(records, vectors, 5, seed=7)
    assert len({tuple(suggest.select(records, vectors, 5, seed=s)) for s in range(6)}) > 1

    vectors[1] = unit((0, 1.0), (1, 0.01))  # a near-copy of record 0
    chosen = suggest.select(records, vectors, 9, seed=7, known=np.stack([unit((4, 1.0))]))
    assert 4 not in chosen  # a copy of a paragraph already labelled
    assert not {0, 1} <= set(chosen)
    assert len(chosen) == 7


def test_no_file_gives_more_than_its_share():
    records = [record(f"f{i % 3}.txt", "economy", 0.5, 0.4) for i in range(18)]
    vectors = np.stack([unit((i, 1.0)) for i in range(18)])
    value = np.array([2.0 if r["source"] == "f0.txt" else 1.0 for r in records])  # f0 first
    chosen = suggest.select(records, vectors, 8, seed=0, value=value)
    assert [records[i]["source"] for i in chosen].count("f0.txt") == suggest.PER_FILE
    assert len(chosen) == 8
    # One file of many articles (a JSON Lines file, say) is not held to PER_FILE.
    alone = [{**r, "source": "all.jsonl"} for r in records]
    assert len(suggest.select(alone, vectors, 12, seed=0)) == 12


def test_the_most_uncertain_come_first():
    records = [record(f"f{i}.txt", "economy", top, 0.05) for i, top in enumerate((0.9, 0.4, 0.7, 0.6))]
    vectors = np.stack([unit((i, 1.0)) for i in range(4)])
    assert suggest.select(records, vectors, 2, seed=0) == [1, 3]


@pytest.fixture
def labelled(model, tmp_path, monkeypatch) -> Path:
    """A `label` output of the small corpus, its embeddings cached in a private cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "labels.jsonl"
    assert label(write_corpus(tmp_path / "in"), "-o", out, "--model", model).exit_code == 0
    return out


def run_suggest(*args: object):
    return CliRunner().invoke(main, ["suggest", *map(str, args)])


def test_suggest_writes_reviewable_fixture_lines_never_from_the_fixtures(labelled, model, tmp_path):
    records = read(labelled)
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    taken = records[3]["text"]  # already labelled, with other case and spacing
    (fixtures / "old.jsonl").write_text(
        json.dumps({"id": "old-001", "text": "  " + taken.upper(), "stance": "affirms", "topic": "economy"})
        + "\n"
    )
    out = tmp_path / "review.jsonl"
    result = run_suggest(labelled, "-n", 5, "-o", out, "--model", model, "--fixtures", fixtures, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert "5 of 9 paragraphs suggested (1 already in the fixtures)" in result.output
    lines = read(out)
    assert len(lines) == 5
    by_place = {(r["source"], r["paragraph"]): r for r in records}
    for line in lines:
        assert set(line) == {"text", "stance", "topic", "review", "source", "paragraph"}
        assert line["review"] == "todo"
        original = by_place[(line["source"], line["paragraph"])]
        assert (line["text"], line["stance"], line["topic"]) == (
            original["text"], original["stance"], original["topic"],
        )  # fmt: skip
        assert line["text"] != taken
    again = tmp_path / "again.jsonl"
    run_suggest(labelled, "-n", 5, "-o", again, "--model", model, "--fixtures", fixtures, "--seed", 3)
    assert again.read_bytes() == out.read_bytes()

    refused = run_suggest(labelled, "-n", 5, "-o", out, "--model", model, "--fixtures", fixtures)
    assert refused.exit_code == 2 and "--overwrite" in refused.output


def test_suggest_reads_csv_label_output_alike(labelled, model, tmp_path):
    csv_out = tmp_path / "labels.csv"
    assert label(tmp_path / "in", "-o", csv_out, "--model", model).exit_code == 0
    from_jsonl, from_csv = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for source, out in ((labelled, from_jsonl), (csv_out, from_csv)):
        result = run_suggest(source, "-n", 4, "-o", out, "--model", model, "--fixtures", tmp_path / "none")
        assert result.exit_code == 0, result.output
    assert [r["text"] for r in read(from_csv)] == [r["text"] for r in read(from_jsonl)]


def test_a_file_that_is_not_a_label_output_is_one_error_line(model, tmp_path):
    bogus = tmp_path / "bogus.jsonl"
    bogus.write_text('{"text": "no scores here"}\n')
    result = run_suggest(bogus, "-o", tmp_path / "out.jsonl", "--model", model)
    assert result.exit_code == 5
    assert result.stderr.startswith(f"error: {bogus}:1: not a label record")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()

"""`stancetopic add`: reviewed lines validated, deduplicated, numbered and appended atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stancetopic.cli import main
from stancetopic.fixtures import fixture_files, normalised, read_labelled

EXISTING = [
    {"id": "mine-001", "text": "The central bank held its main rate at 4 percent on Thursday.",
     "stance": "affirms", "topic": "economy"},
    {"id": "mine-007", "text": "The ministry denied that troops had crossed the river.",
     "stance": "denies", "topic": "defence"},
]  # fmt: skip
OTHER_FILE = [{"id": "courts-001", "text": "The appeals court quashed the conviction of the former mayor.",
               "stance": "denies", "topic": "courts", "hard": "court-reversal"}]  # fmt: skip


def lines(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.fixture
def fixtures(tmp_path) -> Path:
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "mine.jsonl").write_text(lines(*EXISTING))
    (folder / "courts.jsonl").write_text(lines(*OTHER_FILE))
    return folder


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Run where `add`'s default folders (data/fixtures, data/added) do not exist, not in this checkout."""
    monkeypatch.chdir(tmp_path)


def add(reviewed: Path, target: Path, *folders: Path):
    options = [arg for folder in folders for arg in ("--fixtures", str(folder))]
    return CliRunner().invoke(
        main, ["add", str(reviewed), "-t", str(target), *options], catch_exceptions=False
    )


def test_good_lines_are_appended_with_the_next_ids_and_duplicates_dropped(fixtures, tmp_path):
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(
        lines(
            {
                "text": "Car sales fell for a third month, the industry body said.",
                "stance": "affirms",
                "topic": "economy",
                "review": "done",
                "source": "a.txt",
                "paragraph": 2,
            },
            # the same text as a fixture in another file, up to case and punctuation: dropped
            {
                "text": "the appeals court QUASHED the conviction of the former mayor",
                "stance": "denies",
                "topic": "courts",
            },
            {
                "text": "Officials rejected reports that the port would close.",
                "stance": "denies",
                "topic": "economy",
                "also": ["defence"],
                "hard": "reported-denial",
                "source": "b.txt",
                "paragraph": 0,
            },
            # a repeat of the line above within the batch: dropped too
            {
                "text": "Officials rejected reports that the port would close!",
                "stance": "denies",
                "topic": "economy",
            },
        )
        + "\n"  # a trailing blank line holds nothing to add
    )
    result = add(reviewed, fixtures / "mine.jsonl")
    assert result.exit_code == 0, result.output
    assert (
        "added 2 lines" in result.output and "2 duplicates" in result.output and "dvc repro" in result.output
    )
    written = [json.loads(line) for line in (fixtures / "mine.jsonl").read_text().splitlines()]
    assert written[:2] == EXISTING
    assert written[2:] == [
        {"id": "mine-008", "text": "Car sales fell for a third month, the industry body said.",
         "stance": "affirms", "topic": "economy"},
        {"id": "mine-009", "text": "Officials rejected reports that the port would close.", "stance": "denies",
         "topic": "economy", "also": ["defence"], "hard": "reported-denial"},
    ]  # fmt: skip
    assert len(read_labelled(fixture_files(fixtures))) == 5  # the whole set still validates


def test_lines_already_in_another_fixture_folder_are_dropped(fixtures, tmp_path):
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(lines({**OTHER_FILE[0], "id": "x-1", "text": OTHER_FILE[0]["text"].upper()},
                              {"text": "Ferry services resume after the storm.", "stance": "affirms", "topic": "other"}))  # fmt: skip
    added = tmp_path / "added"
    result = add(reviewed, added / "mine.jsonl", fixtures)
    assert result.exit_code == 0, result.output
    assert "1 duplicates of fixtures dropped" in result.output
    # ids are unique across the folders too: mine-001 is taken in the other one
    assert [r["id"] for r in read_labelled([added / "mine.jsonl"])] == ["mine-002"]


def test_a_new_fixture_file_is_created_and_numbered_from_one(fixtures, tmp_path):
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(lines({"text": "Heavy rain is forecast for the coast until Sunday.",
                               "stance": "affirms", "topic": "other"}))  # fmt: skip
    assert add(reviewed, fixtures / "local-news.jsonl").exit_code == 0
    assert json.loads((fixtures / "local-news.jsonl").read_text())["id"] == "local-news-001"


def test_any_bad_line_is_reported_with_file_and_line_and_nothing_is_appended(fixtures, tmp_path):
    target = fixtures / "mine.jsonl"
    before = target.read_bytes()
    good = {"text": "Exports rose 4 percent in May.", "stance": "affirms", "topic": "economy"}
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(
        lines(good)
        + '{"text": "Unclosed line", "stance": "affirms"\n'
        + lines(
            {"text": "The team won the cup.", "stance": "affirms", "topic": "sport"},
            {"text": "Prices rose.", "stance": "affirms", "topic": "economy", "review": "todo"},
            {"text": "Prices fell.", "topic": "economy"},
            {"text": "Rates held.", "stance": "affirms", "topic": "economy", "stnace": "affirms"},
            {"id": "mine-001", "text": "A new line with an old id.", "stance": "affirms", "topic": "economy"},
        )
    )
    result = CliRunner().invoke(main, ["add", str(reviewed), "-t", str(target)])
    assert result.exit_code == 5
    errors = result.stderr.splitlines()
    assert errors == [
        f"error: {reviewed}:2: bad JSON: Expecting ',' delimiter",
        f"error: {reviewed}:3: unknown topic 'sport' (expected one of defence, economy, migration, courts, other)",
        f'error: {reviewed}:4: still marked for review: check the labels, then delete "review" or set it to "done"',
        f"error: {reviewed}:5: missing key 'stance'",
        f"error: {reviewed}:6: unknown key 'stnace'",
        f"error: {reviewed}:7: duplicate id 'mine-001' (already in the fixtures or above)",
    ]  # fmt: skip
    assert target.read_bytes() == before
    assert not list(fixtures.glob(".*"))  # no temporary file left behind


def test_a_target_that_prepare_would_not_read_is_refused(fixtures, tmp_path):
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(lines({"text": "Exports rose.", "stance": "affirms", "topic": "economy"}))
    result = CliRunner().invoke(main, ["add", str(reviewed), "-t", str(fixtures / "mine.txt")])
    assert result.exit_code == 5
    assert "prepare` reads only *.jsonl" in result.stderr
    assert not (fixtures / "mine.txt").exists()


def test_normalised_text_ignores_case_punctuation_and_spacing():
    assert normalised("Officials  REJECTED reports, that the port...") == normalised(
        "officials rejected reports that the port"
    )
    assert normalised("Exports rose 4%") != normalised("Exports rose 5%")

"""The fixture validator, the split, and the bundled fixtures' own quotas."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stancetopic.fixtures import LabelledDataError, fixture_files, read_labelled, split, split_by_id
from stancetopic.labels import HARD_TAGS, STANCES, TOPICS

from .conftest import ROOT, TINY

GOOD = {"id": "x-1", "text": "The court upheld the verdict.", "stance": "affirms", "topic": "courts"}


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "f.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def problems(path: Path, strict: bool = True) -> list[str]:
    with pytest.raises(LabelledDataError) as info:
        read_labelled([path], strict=strict)
    return [str(p) for p in info.value.problems]


def line(**changes: object) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (line(stance="supports"), "unknown stance 'supports'"),
        (line(topic="sport"), "unknown topic 'sport'"),
        (line(text=None), "missing key 'text'"),
        (line(text=""), "'text' is empty"),
        (line(text="   "), "'text' must be a non-empty string"),
        (line(text=7), "'text' must be a non-empty string"),
        ('{"id": "x-1", "text": "broken"', "bad JSON"),
        ("", "blank line"),
        ("[1, 2]", "expected a JSON object"),
        (line(stnace="affirms"), "unknown key 'stnace'"),
        (line(also=["other"]), "'also' must be a list"),
        (line(also=["courts"]), "'also' repeats the main topic"),
        (line(hard="tricky"), "unknown hard tag 'tricky'"),
    ],
)
def test_each_bad_line_is_reported_with_file_and_line(tmp_path, bad, message):
    path = write(tmp_path, [line(id="ok-1", text="A first, valid paragraph."), bad])
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:2: ")
    assert message in found[0]


def test_duplicates_name_the_first_occurrence(tmp_path):
    path = write(tmp_path, [line(), line(text="Another text."), line(id="x-2")])
    assert problems(path) == [
        f"{path}:2: duplicate id 'x-1' (first at {path}:1)",
        f"{path}:3: duplicate text (first at {path}:1)",
    ]


def test_every_problem_is_collected_not_just_the_first(tmp_path):
    path = write(tmp_path, [line(stance="maybe"), "", "{", line(id="x-9", topic="?")])
    assert [p.split(":")[1] for p in problems(path)] == ["1", "2", "3", "4"]


def test_undecodable_bytes_are_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(line().encode() + b"\n" + b'{"id": "\xff"}\n')
    assert problems(path) == [f"{path}:2: not UTF-8 (invalid start byte)"]


def test_lenient_mode_ignores_extra_keys_and_custom_tags(tmp_path):
    path = write(tmp_path, [line(source="wire", hard="my-own-tag")])
    assert read_labelled([path], strict=False)[0]["source"] == "wire"
    assert "unknown key 'source'" in problems(path)[0]


def test_split_is_deterministic_stratified_and_seed_dependent():
    records = read_labelled([TINY])
    first = split(records, 0.4, seed=7)
    assert split(records, 0.4, seed=7) == first
    assert split(records, 0.4, seed=8) != first
    train, test = first
    assert sorted(r["id"] for r in train + test) == sorted(r["id"] for r in records)
    cells = {(r["stance"], r["topic"]) for r in records}
    assert {(r["stance"], r["topic"]) for r in test} == cells


def test_split_by_id_keeps_each_line_in_its_part_as_lines_are_added():
    records = read_labelled(fixture_files(ROOT / "data" / "fixtures"))
    first, later = records[:1000], records
    before = split_by_id(first, 0.2, 0.15, seed=7)
    after = split_by_id(later, 0.2, 0.15, seed=7)
    for old, new in zip(before, after, strict=True):
        assert {r["id"] for r in old} <= {r["id"] for r in new}
    assert [round(len(part) / len(later), 2) for part in after] == pytest.approx([0.65, 0.15, 0.2], abs=0.03)
    assert split_by_id(later, 0.2, 0.15, seed=8) != after
    part_of = {r["id"]: k for k, part in enumerate(after) for r in part}
    pairs = [i[:-1] for i in part_of if i.endswith("a") and i[:-1] + "b" in part_of]
    assert len(pairs) > 100
    assert all(part_of[p + "a"] == part_of[p + "b"] for p in pairs)


def test_bundled_fixtures_meet_their_quotas():
    records = read_labelled(fixture_files(ROOT / "data" / "fixtures"))
    assert len(records) >= 700
    cells = Counter((r["stance"], r["topic"]) for r in records)
    for topic in TOPICS[:4]:
        for stance in STANCES:
            assert cells[stance, topic] >= 60, (stance, topic)
    assert sum(cells[s, "other"] for s in STANCES) >= 100
    assert min(cells[s, "other"] for s in STANCES) >= 40
    hard = Counter(r["hard"] for r in records if "hard" in r)
    assert sum(hard.values()) >= 0.2 * len(records)
    assert set(hard) == set(HARD_TAGS)
    assert sum(1 for r in records if r.get("also")) >= 40
    assert sum(1 for r in records if r["stance"] == "unverified") >= 100  # real news reports rumours
    sentences = Counter(min(r["text"].count(". ") + 1, 6) for r in records)
    assert sentences[1] >= 50 and sentences[5] + sentences[6] >= 30


def test_holdout_is_valid_and_disjoint_from_the_fixtures():
    holdout = read_labelled([ROOT / "data" / "holdout" / "holdout.jsonl"])
    fixtures = read_labelled(fixture_files(ROOT / "data" / "fixtures"))
    assert len(holdout) == 200
    assert not {r["text"] for r in holdout} & {r["text"] for r in fixtures}
    assert Counter(r["topic"] for r in holdout) == dict.fromkeys(TOPICS, 40)


def test_candidate_lines_stay_valid_beside_the_fixtures():
    """Candidates are not trained on, but must be ready to copy in: valid, no id or text a fixture has,
    and no text of the held-out set."""
    fixtures = fixture_files(ROOT / "data" / "fixtures")
    candidates = fixture_files(ROOT / "data" / "candidates")
    assert candidates and not {c.name for c in candidates} & {f.name for f in fixtures}
    both = read_labelled(fixtures + candidates)
    lines = read_labelled(candidates)
    assert len(both) == len(read_labelled(fixtures)) + len(lines)
    holdout = read_labelled([ROOT / "data" / "holdout" / "holdout.jsonl"])
    assert not {r["text"] for r in lines} & {r["text"] for r in holdout}

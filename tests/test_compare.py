"""`compare`: reports and label outputs, and every file that is neither: one line, exit 5. No model needed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from stancetopic import compare, output
from stancetopic.cli import main
from stancetopic.errors import DataError, RefusedError
from tests.test_evaluate import STANCE_A, STANCE_B, hand_made_report
from tests.test_output import IDENTITY, record


def invoke(*args: object):
    return CliRunner().invoke(main, ["compare", *map(str, args)], catch_exceptions=False)


def labels_file(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file, not a report or a label output"),
        ("garbage that is not json\n", ":1: not a label record"),
        ('{"stance": {}, "topic": {}}', "not a complete stancetopic report (KeyError"),
        ('{"stance": {"confusion": {"labels": 5}}, "topic": {}}', "not a complete stancetopic report"),
        ("[" * 100_000 + "]" * 100_000, ":1: not a label record (nested too deeply)"),
        ('{"source": "a.txt", "paragraph": 1}\n', ":1: not a label record (no 'text')"),
        (
            '{"source": "a.txt", "paragraph": ' + "9" * 5000 + "}\n",
            ":1: not a label record (Exceeds the limit",
        ),
    ],
)
def test_a_file_that_is_neither_kind_is_one_error_line_and_exit_5(tmp_path, content, reason):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(DataError) as caught:
        compare.compare_files(bad, bad)
    assert reason in str(caught.value) and str(bad) in str(caught.value)
    result = invoke(bad, bad)
    assert result.exit_code == 5
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {bad}")
    assert "Traceback" not in result.output


def test_a_report_and_a_label_output_are_refused_together(tmp_path):
    report, labels = tmp_path / "r.json", tmp_path / "l.jsonl"
    report.write_text(json.dumps(hand_made_report(STANCE_A)))
    labels_file(labels, [record(0)])
    with pytest.raises(RefusedError, match="not one of each"):
        compare.compare_files(report, labels)
    assert invoke(report, labels).exit_code == 2


def test_reports_compare_through_compare_files(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(hand_made_report(STANCE_A)))
    b.write_text(json.dumps(hand_made_report(STANCE_B)))
    result = compare.compare_files(a, b)
    accuracy = result["heads"]["stance"]["metrics"][0]
    assert (accuracy["name"], accuracy["delta"], accuracy["mark"]) == ("accuracy", 0.25, "▲")
    assert result["warnings"] == []


def test_a_csv_output_with_neutralised_cells_matches_its_jsonl_twin(tmp_path):
    rows = [record(0, "=1+1 was the sum, officials said."), record(1, "-5 degrees were forecast.")]
    changed = [dict(rows[0]), {**rows[1], "stance": "denies", "topic": "other", "stance_score": 0.6,
                               "topic_scores": {"courts": 0.1, "other": 0.9}}]  # fmt: skip
    partial = tmp_path / "b.partial"
    journal = output.Journal.start(partial, IDENTITY, resume=False)
    journal.write(changed)
    journal.close()
    output.finish(partial, tmp_path / "b.csv", "csv", ["courts", "other"])
    labels_file(tmp_path / "a.jsonl", rows)
    result = compare.compare_files(tmp_path / "a.jsonl", tmp_path / "b.csv")
    assert result["warnings"] == []  # texts match once the `'` is taken off
    assert (result["matched"], result["stance_changed"], result["topic_changed"]) == (2, 1, 1)
    assert result["biggest"][0]["paragraph"] == 1


def test_two_empty_label_outputs_are_an_error_not_a_silent_zero(tmp_path):
    (tmp_path / "a.jsonl").write_text("\n")
    (tmp_path / "b.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no label records to compare"):
        compare.compare_files(tmp_path / "a.jsonl", tmp_path / "b.jsonl")

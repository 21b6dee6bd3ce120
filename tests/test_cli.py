"""Runs the CLI refuses before any work: one `error:` line, a documented exit code, nothing written.

Most need no model: they are refused before one is loaded (`--model` points
nowhere to prove it). The evaluate cases use the session's trained model.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from stancetopic.cli import main
from tests.helpers import label, write_corpus


def one_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "in")


def test_outputs_that_collide_are_refused(corpus, tmp_path):
    nowhere = tmp_path / "no-model"
    out = tmp_path / "o.jsonl"
    one_error(
        label(corpus, "-o", out, "--summary", out, "--model", nowhere),
        2,
        "-o and --summary name the same file",
    )
    one_error(
        label(corpus, "-o", corpus / "sub" / "o.jsonl", "--model", nowhere), 2, "lies inside the input folder"
    )
    one_error(label(corpus, "-o", tmp_path / "o.csv", "--summary", corpus / "s.json", "--model", nowhere), 2,
              "--summary lies inside the input folder")  # fmt: skip
    article = corpus / "a.txt"
    before = article.read_bytes()
    one_error(label(article, "-o", article, "--overwrite", "--model", nowhere), 2, "-o is the input")
    assert article.read_bytes() == before
    assert not out.exists() and not (corpus / "sub" / "o.jsonl").exists()


def test_an_old_output_inside_the_input_folder_is_refused(corpus, tmp_path):
    (corpus / "old.jsonl").write_text(json.dumps({"source": "a.txt", "paragraph": 0, "text": "x", "stance": "affirms",
                                                  "topic_scores": {"courts": 1.0}}) + "\n")  # fmt: skip
    one_error(label(corpus, "-o", tmp_path / "o.jsonl", "--model", tmp_path / "none"), 2,
              "old.jsonl: a stancetopic output among the inputs")  # fmt: skip


def test_nothing_to_label_is_one_line_and_exit_2(tmp_path, corpus):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_error(
        label(empty, "-o", tmp_path / "o.jsonl", "--model", tmp_path / "none"), 2, "nothing to label: no file"
    )
    one_error(label(corpus, "-o", tmp_path / "o.jsonl", "--glob", "*.xml", "--model", tmp_path / "none"), 2,
              "no file matches --glob '*.xml'")  # fmt: skip
    one_error(label(tmp_path / "missing", "-o", tmp_path / "o.jsonl"), 2, "No such file or directory")
    assert not (tmp_path / "o.jsonl").exists()


def test_a_path_over_path_max_is_one_short_line(tmp_path):
    deep = tmp_path
    for _ in range(25):  # 25 x 201 characters: past Linux's 4,096
        deep = deep / ("d" * 200)
    result = label(deep, "-o", tmp_path / "o.jsonl")
    one_error(result, 2, "cannot use this input")
    assert len(result.stderr) < 300


def test_a_summary_folder_that_cannot_be_made_is_found_before_the_run(corpus, tmp_path):
    (tmp_path / "file").write_text("")
    result = label(corpus, "-o", tmp_path / "o.jsonl", "--summary", tmp_path / "file" / "s.json",
                   "--model", tmp_path / "none")  # fmt: skip
    one_error(result, 7, "cannot create the folder for --summary")


def test_stdout_takes_no_resume_and_no_other_format(corpus, tmp_path):
    one_error(label(corpus, "-o", "-", "--resume"), 2, "stdout gets JSON Lines only")
    one_error(label(corpus, "-o", "-", "--format", "csv"), 2, "stdout gets JSON Lines only")
    assert not (tmp_path / "-").exists() and not os.path.exists("-")


def test_a_missing_default_model_names_the_option(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the checkout: no ./models here
    one_error(label(corpus, "-o", tmp_path / "o.jsonl"), 3, "pass --model DIR")
    assert "no model manifest here" in label(corpus, "-o", tmp_path / "p.jsonl", "--model", tmp_path).stderr


def test_engine_options_are_one_line(corpus, tmp_path):
    one_error(
        label(corpus, "-o", tmp_path / "o.jsonl", "--ray-address", "auto"),
        2,
        "--ray-address needs --engine ray",
    )


def evaluate(*args: object):
    return CliRunner().invoke(main, ["evaluate", *map(str, args)], catch_exceptions=False)


def test_evaluate_refuses_one_file_for_two_reports(tmp_path):
    labelled = tmp_path / "l.jsonl"
    labelled.write_text("")
    report = tmp_path / "r.out"
    one_error(evaluate(labelled, "--out", report, "--html", report, "--model", tmp_path), 2,
              "--out and --html name the same file")  # fmt: skip


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "no labelled lines to evaluate"),
        ("[" * 100_000 + "]" * 100_000 + "\n", ":1: bad JSON: nested too deeply"),
        ('{"id": ' + "1" * 5000 + "}\n", ":1: bad JSON: Exceeds the limit (4300 digits)"),
    ],
)
def test_evaluate_bad_files_exit_5_in_one_line(trained_repo, tmp_path, content, reason):
    labelled = tmp_path / "l.jsonl"
    labelled.write_text(content)
    one_error(evaluate(labelled, "--model", trained_repo / "models"), 5, f"{labelled}", reason)

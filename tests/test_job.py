"""The label job's checks and run identity, all before a model is loaded (no model needed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from stancetopic.errors import EXIT_PARTIAL, RefusedError
from stancetopic.job import LabelJob, LabelResult, check
from tests.helpers import write_corpus

THRESHOLDS = {"stance": 0.5, "topic": 0.4}


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "in")


def refused(job: LabelJob, fragment: str) -> None:
    with pytest.raises(RefusedError) as caught:
        check(job)
    assert fragment in str(caught.value)


def test_a_good_job_passes_and_only_its_output_folder_is_made(corpus, tmp_path):
    out = tmp_path / "new" / "o.jsonl"
    check(LabelJob(corpus, out, summary=tmp_path / "s.json"))
    assert out.parent.is_dir() and list(out.parent.iterdir()) == []
    assert not (tmp_path / "s.json").exists()


def test_an_output_inside_the_input_folder_is_refused(corpus, tmp_path):
    refused(LabelJob(corpus, corpus / "sub" / "o.jsonl"), "-o lies inside the input folder")
    refused(LabelJob(corpus, tmp_path / "o.jsonl", summary=corpus / "s.json"), "--summary lies inside")
    refused(LabelJob(corpus / "a.txt", corpus / "a.txt", overwrite=True), "-o is the input")
    assert not (corpus / "sub" / "o.jsonl").exists()


def test_a_summary_equal_to_the_output_is_refused(corpus, tmp_path):
    out = tmp_path / "o.jsonl"
    refused(LabelJob(corpus, out, summary=out), "-o and --summary name the same file")


def test_stdout_takes_neither_resume_nor_another_format(corpus):
    refused(LabelJob(corpus, None, resume=True), "stdout gets JSON Lines only")
    refused(LabelJob(corpus, None, format="csv"), "stdout gets JSON Lines only")
    check(LabelJob(corpus, None))


def test_unknown_engine_and_format_are_refused(corpus, tmp_path):
    refused(
        LabelJob(corpus, tmp_path / "o.jsonl", engine="spark"), "--engine 'spark': choose one of local, ray"
    )
    refused(LabelJob(corpus, tmp_path / "o.jsonl", format="xml"), "--format 'xml': choose one of jsonl")


def test_engine_options_that_do_not_fit_are_refused(corpus, tmp_path):
    out = tmp_path / "o.jsonl"
    refused(LabelJob(corpus, out, ray_address="auto"), "--ray-address needs --engine ray")
    refused(LabelJob(corpus, out, engine="ray", cache_dir=tmp_path / "c"), "does not use the embedding cache")


def test_table_options_need_a_table_and_a_missing_input_is_refused(corpus, tmp_path):
    out = tmp_path / "o.jsonl"
    refused(LabelJob(corpus, out, text_column="body"), "--text-column: only for a table file")
    refused(LabelJob(tmp_path / "missing", out), "cannot use this input")
    table = tmp_path / "t.csv"
    table.write_text("text\nThe court dismissed the appeal on Monday.\n")
    refused(LabelJob(table, out, engine="ray"), "the Ray engine does not read table files")


def test_the_format_comes_from_the_output_suffix_unless_given(tmp_path):
    assert LabelJob(tmp_path, tmp_path / "o.CSV").fmt == "csv"
    assert LabelJob(tmp_path, tmp_path / "o.parquet").fmt == "parquet"
    assert LabelJob(tmp_path, tmp_path / "o.txt").fmt == "jsonl"
    assert LabelJob(tmp_path, tmp_path / "o.csv", format="jsonl").fmt == "jsonl"


def test_identity_changes_with_what_changes_the_records(corpus, tmp_path):
    job = LabelJob(corpus, tmp_path / "o.jsonl")
    base = job.identity("digest", "torch", THRESHOLDS)
    assert base["inputs"] == str(corpus.resolve())
    assert "columns" not in base
    for changed in (
        {"glob": "*.txt"},
        {"batch_size": 8},
        {"all_languages": True},
        {"max_file_size": 1000},
        {"format": "csv"},
        {"inputs": corpus / "sub"},
    ):
        assert replace(job, **changed).identity("digest", "torch", THRESHOLDS) != base, changed
    assert job.identity("other", "torch", THRESHOLDS) != base
    assert job.identity("digest", "onnx", THRESHOLDS) != base
    assert job.identity("digest", "torch", {"stance": 0.5, "topic": 0.5}) != base


def test_identity_leaves_out_what_moves_only_last_digits(corpus, tmp_path):
    job = LabelJob(corpus, tmp_path / "o.jsonl")
    base = job.identity("digest", "torch", THRESHOLDS)
    for same in ({"threads": 2}, {"engine": "ray"}, {"use_cache": False}, {"workers": 3}, {"resume": True}):
        assert replace(job, **same).identity("digest", "torch", THRESHOLDS) == base, same


def test_a_table_inputs_identity_names_its_columns(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("body,title\nThe court dismissed the appeal on Monday.,Appeal dismissed\n")
    job = LabelJob(table, tmp_path / "o.jsonl", text_column="body", headline_column="title")
    identity = job.identity("digest", "torch", THRESHOLDS)
    assert identity["columns"] == {"text": "body", "headline": "title", "id": None, "keep": []}
    assert replace(job, keep_columns=("title",)).identity("digest", "torch", THRESHOLDS) != identity


def test_a_result_exits_4_when_something_was_skipped():
    clean = LabelResult({"problems": []}, ["affirms"], scored=3, recovered=0)
    skipped = LabelResult({"problems": [{"source": "a.txt", "reason": "binary"}]}, ["affirms"], 3, 0)
    assert clean.exit_code == 0 and skipped.exit_code == EXIT_PARTIAL == 4

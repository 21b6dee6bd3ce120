"""The Python API: light to import, and the same records and reports as the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import stancetopic
from stancetopic.cli import main
from stancetopic.output import FIELDS
from tests.conftest import TINY
from tests.helpers import label, read

ROOT = Path(__file__).resolve().parents[1]
PARAGRAPHS = [
    "The defence ministry denied reports that the frigate order had been cancelled.",
    "Parliament approved the new asylum law on Tuesday after a long debate.",
    "The appeals court overturned the conviction of the former mayor on Friday.",
]


@pytest.fixture(scope="module")
def loaded(trained_repo):
    with stancetopic.load_model(trained_repo / "models", backend="torch") as model:
        yield model


def test_importing_the_package_loads_no_torch():
    code = "import sys, stancetopic; stancetopic.load_model; print(sorted({'torch', 'sklearn'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_label_gives_the_clis_records_for_the_same_paragraphs(loaded, model, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "story.txt").write_text("\n\n".join(PARAGRAPHS) + "\n")
    assert (
        label(tmp_path / "in", "-o", tmp_path / "out.jsonl", "--model", model, "--no-cache", "-q").exit_code
        == 0
    )
    from_cli = read(tmp_path / "out.jsonl")
    records = loaded.label(PARAGRAPHS, source="story.txt")
    assert [list(r) for r in records] == [list(FIELDS)] * 3

    def without_offsets(record: dict) -> dict:
        return {k: v for k, v in record.items() if k not in ("start", "end")}

    assert list(map(without_offsets, records)) == list(map(without_offsets, from_cli))  # scores to the digit
    assert [(r["start"], r["end"]) for r in records] == [(0, len(text)) for text in PARAGRAPHS]
    assert {r["source"] for r in loaded.label(PARAGRAPHS)} == {None}


def test_label_thresholds_and_arguments(loaded):
    assert loaded.labels == {
        "stance": ["affirms", "denies"],
        "topic": ["courts", "defence", "economy", "migration", "other"],
    }
    assert all(r["uncertain"] for r in loaded.label(PARAGRAPHS, uncertain_below=1.0))
    assert not any(r["uncertain"] for r in loaded.label(PARAGRAPHS, uncertain_below=0.0))
    assert loaded.label([]) == []
    with pytest.raises(TypeError, match="a list of texts, not one string"):
        loaded.label(PARAGRAPHS[0])


def test_evaluate_file_is_the_report_the_cli_writes(loaded, model, tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["evaluate", str(TINY), "--model", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = stancetopic.evaluate_file(TINY, model=loaded)
    assert report == json.loads(out.read_text())
    assert stancetopic.evaluate_file(TINY, model=model)["stance"] == report["stance"]  # a folder works too


def test_bad_inputs_raise_the_documented_errors(model_copy, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "A text.", "stance": "maybe", "topic": "courts"}\n')
    with pytest.raises(stancetopic.LabelledDataError, match=r"bad\.jsonl:1"):
        stancetopic.evaluate_file(bad, model=model_copy)
    (model_copy / "topic.joblib").write_bytes(b"swapped")
    with pytest.raises(stancetopic.ModelError, match=r"topic\.joblib: checksum does not match"):
        stancetopic.load_model(model_copy)


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_the_docs_first_example_runs_as_is(trained_repo):
    """From a repo root after `make demo` (here: the tiny trained pipeline), the block runs unchanged."""
    docs = ROOT / "docs" / "python-api.md"
    block = python_blocks(docs)[0]
    assert block in python_blocks(ROOT / "README.md")  # the README's "Python API" section shows it too
    result = subprocess.run([sys.executable, "-c", block], cwd=trained_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and re.fullmatch(r"test split macro-F1: [01]\.\d+ [01]\.\d+", lines[-1])
    assert lines[0].split()[0] in ("affirms", "denies") and lines[0].split()[-1] in ("True", "False")


def test_label_folder_writes_what_the_cli_writes_and_refuses_as_it_does(model, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "story.txt").write_text("\n\n".join(PARAGRAPHS) + "\n")
    assert (
        label(tmp_path / "in", "-o", tmp_path / "cli.jsonl", "--model", model, "--no-cache", "-q").exit_code
        == 0
    )
    result = stancetopic.label_folder(
        tmp_path / "in", tmp_path / "api.jsonl", model=model, use_cache=False, summary=tmp_path / "s.json"
    )
    assert result.exit_code == 0 and result.summary["files"]["story.txt"]["paragraphs"] == 3
    assert read(tmp_path / "api.jsonl") == read(tmp_path / "cli.jsonl")
    assert json.loads((tmp_path / "s.json").read_text()) == result.summary
    with pytest.raises(stancetopic.StancetopicError) as refused:
        stancetopic.label_folder(tmp_path / "in", tmp_path / "api.jsonl", model=model, use_cache=False)
    assert refused.value.exit_code == 2 and "exists" in str(refused.value)

"""Label Studio round trip: `suggest --format label-studio`, a person's export, `add`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

from click.testing import CliRunner

from stancetopic import label_studio
from stancetopic.cli import main
from stancetopic.labels import FIXTURE_STANCES, HARD_TAGS, TOPICS
from tests.helpers import label, write_corpus


def test_the_config_has_one_choices_control_per_fixture_field():
    root = ElementTree.fromstring(label_studio.config())
    text = root.find("Text")
    assert text is not None and text.get("value") == "$text"
    controls = {c.get("name"): c for c in root.iter("Choices")}
    assert list(controls) == ["stance", "topic", "also", "hard"]
    values = {name: [c.get("value") for c in control.iter("Choice")] for name, control in controls.items()}
    assert values == {
        "stance": list(FIXTURE_STANCES),
        "topic": list(TOPICS),
        "also": [t for t in TOPICS if t != "other"],
        "hard": list(HARD_TAGS),
    }
    assert {name: control.get("choice") for name, control in controls.items()} == {
        "stance": "single", "topic": "single", "also": "multiple", "hard": "single",
    }  # fmt: skip
    assert all(control.get("toName") == "text" for control in controls.values())


def choices(name: str, *values: str) -> dict:
    """One result of an export, as Label Studio writes it for a Choices control."""
    return {"id": f"r-{name}", "from_name": name, "to_name": "text", "type": "choices", "origin": "manual",
            "value": {"choices": list(values)}}  # fmt: skip


def test_only_the_last_annotation_that_was_not_cancelled_counts():
    task = {
        "id": 11,
        "data": {"text": "Exports fell.", "source": "a.txt", "paragraph": 0},
        "annotations": [
            {"id": 1, "was_cancelled": False, "result": [choices("stance", "denies"), choices("topic", "other")]},
            {"id": 2, "was_cancelled": False, "result": [choices("stance", "affirms"), choices("topic", "economy")]},
            {"id": 3, "was_cancelled": True, "result": [choices("stance", "denies")]},
        ],
    }  # fmt: skip
    line, problems = label_studio.from_task(task)
    assert problems == []
    assert line == {"text": "Exports fell.", "source": "a.txt", "paragraph": 0, "stance": "affirms",
                    "topic": "economy"}  # fmt: skip
    line, problems = label_studio.from_task({**task, "annotations": task["annotations"][2:]})
    assert line is None and problems == ["task 11: not annotated (still to review)"]
    two = {**task, "annotations": [{"id": 4, "result": [choices("topic", "economy", "other")]}]}
    assert label_studio.from_task(two)[1] == [
        "task 11: 'topic' needs exactly one choice, got ['economy', 'other']"
    ]


def test_round_trip_suggest_label_studio_export_add(model, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)  # `add` also reads ./data/fixtures and ./data/added: not this checkout's
    labels = tmp_path / "labels.jsonl"
    assert label(write_corpus(tmp_path / "in"), "-o", labels, "--model", model).exit_code == 0
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    tasks_path = tmp_path / "tasks.json"
    result = CliRunner().invoke(
        main,
        ["suggest", str(labels), "-n", "3", "-o", str(tasks_path), "--model", str(model),
         "--fixtures", str(fixtures), "--format", "label-studio"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = tmp_path / "tasks.label-config.xml"
    assert config.read_text() == label_studio.config()

    # The import format: a list of tasks, each with data and one prediction of choices results.
    tasks = json.loads(tasks_path.read_text())
    assert len(tasks) == 3
    result_ids = [r["id"] for t in tasks for r in t["predictions"][0]["result"]]
    assert len(result_ids) == len(set(result_ids))
    for task in tasks:
        assert set(task) == {"data", "predictions"}
        assert set(task["data"]) == {"text", "source", "paragraph"}
        (prediction,) = task["predictions"]
        assert prediction["model_version"].startswith("stancetopic-")
        assert 0 < prediction["score"] <= 1
        by_name = {r["from_name"]: r for r in prediction["result"]}
        assert {r["type"] for r in by_name.values()} == {"choices"}
        assert by_name["stance"]["value"]["choices"][0] in ("affirms", "denies")
        assert by_name["topic"]["value"]["choices"][0] in TOPICS

    # A person accepts the first, corrects the second (adds a second topic and a hard tag) and
    # skips the third; Label Studio's JSON export keeps data and predictions and adds annotations.
    exported = []
    for number, task in enumerate(tasks, start=1):
        accepted = task["predictions"][0]["result"]
        annotations = []
        if number == 1:
            annotations = [{"id": 100, "was_cancelled": False, "result": accepted}]
        elif number == 2:
            annotations = [{"id": 101, "was_cancelled": False, "result": [
                choices("stance", "denies"), choices("topic", "courts"), choices("also", "economy", "migration"),
                choices("hard", "court-reversal")]}]  # fmt: skip
        exported.append({"id": number, **task, "annotations": annotations, "project": 1})
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported, indent=2))
    target = fixtures / "mine.jsonl"
    refused = CliRunner().invoke(main, ["add", str(export), "-t", str(target)])
    assert refused.exit_code == 5
    assert refused.stderr == f"error: {export}:3: task 3: not annotated (still to review)\n"
    assert not target.exists()

    export.write_text(json.dumps(exported[:2], indent=2))
    result = CliRunner().invoke(main, ["add", str(export), "-t", str(target)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in target.read_text().splitlines())
    prediction = {r["from_name"]: r["value"]["choices"][0] for r in tasks[0]["predictions"][0]["result"]}
    assert first == {"id": "mine-001", "text": tasks[0]["data"]["text"], **prediction}
    assert second == {"id": "mine-002", "text": tasks[1]["data"]["text"], "stance": "denies", "topic": "courts",
                      "also": ["economy", "migration"], "hard": "court-reversal"}  # fmt: skip
    again = CliRunner().invoke(main, ["add", str(export), "-t", str(target)])
    assert "added 0 lines" in again.output and "2 duplicates" in again.output


def test_the_export_is_located_by_line_when_it_is_not_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "export.json"
    export.write_text('[\n  {"id": 1,\n  "data": }\n]\n')
    (tmp_path / "fixtures").mkdir()
    result = CliRunner().invoke(main, ["add", str(export), "-t", str(tmp_path / "fixtures" / "x.jsonl")])
    assert result.exit_code == 5
    assert result.stderr == f"error: {export}:3: bad JSON: Expecting value\n"

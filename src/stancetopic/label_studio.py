"""Label Studio's JSON formats: tasks with pre-annotations out, annotated exports in.

Label Studio (labelstud.io) imports a JSON list of tasks, each `{"data": {...},
"predictions": [{"model_version", "score", "result": [...]}]}`, shows the
predictions as pre-filled answers, and exports the same tasks with
`annotations[].result[]` holding what a person chose. Only `choices` results
are used here: one control per fixture field (stance, topic, also, hard), named
after the field, so an annotation maps back onto a fixture line by name.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from stancetopic.labels import FIXTURE_STANCES, HARD_TAGS, TOPICS

TEXT = "text"  # the Text object's name, and the data key holding the paragraph
# control name -> (its choices, several may be chosen)
CONTROLS: dict[str, tuple[tuple[str, ...], bool]] = {
    "stance": (FIXTURE_STANCES, False),
    "topic": (TOPICS, False),
    "also": (tuple(t for t in TOPICS if t != "other"), True),
    "hard": (HARD_TAGS, False),
}


def _result(task: int, name: str, values: list[str]) -> dict:
    """One `choices` result; Label Studio wants every result id distinct."""
    return {
        "id": f"t{task}-{name}",
        "from_name": name,
        "to_name": TEXT,
        "type": "choices",
        "value": {"choices": values},
    }


def to_task(index: int, line: dict, model_version: str, score: float) -> dict:
    """A suggested fixture line as a Label Studio task with the model's labels as a prediction.

    `line` is in the fixture format plus `source` and `paragraph`, which go to
    `data` so they come back in the export.
    """
    result = [_result(index, "stance", [line["stance"]]), _result(index, "topic", [line["topic"]])]
    if line.get("also"):
        result.append(_result(index, "also", list(line["also"])))
    return {
        "data": {TEXT: line["text"], "source": line["source"], "paragraph": line["paragraph"]},
        "predictions": [{"model_version": model_version, "score": round(score, 4), "result": result}],
    }


def config() -> str:
    """The labelling configuration (XML) for the tasks: one Choices control per fixture field."""
    lines = [
        "<View>",
        '  <Header value="$source, paragraph $paragraph"/>',
        f"  <Text name={quoteattr(TEXT)} value={quoteattr('$' + TEXT)}/>",
    ]
    for name, (values, multiple) in CONTROLS.items():
        required = name in ("stance", "topic")
        lines.append(f'  <Header value="{name}{"" if required else " (optional)"}"/>')
        lines.append(
            f'  <Choices name="{name}" toName="{TEXT}" choice="{"multiple" if multiple else "single"}"'
            f' required="{str(required).lower()}" showInline="true">'
        )
        lines += [f"    <Choice value={quoteattr(value)}/>" for value in values]
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def from_task(task: object) -> tuple[dict | None, list[str]]:
    """A fixture line (with `source`/`paragraph` when present) from one exported task.

    Uses the task's last annotation that was not cancelled. Returns the line,
    or None with the reasons it cannot be used.
    """
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        return None, ["not a Label Studio task (no 'data' object)"]
    data = task["data"]
    annotations = [
        a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if not annotations:
        return None, [f"task {task.get('id', '?')}: not annotated (still to review)"]
    line: dict = {key: data[key] for key in (TEXT, "source", "paragraph") if key in data}
    problems = []
    for result in annotations[-1].get("result") or []:
        name = result.get("from_name") if isinstance(result, dict) else None
        if name not in CONTROLS:
            continue  # other controls (a comment box, say) are not fixture fields
        values = (result.get("value") or {}).get("choices")
        if not isinstance(values, list):
            problems.append(f"task {task.get('id', '?')}: result {name!r} has no choices")
        elif CONTROLS[name][1]:
            line[name] = values
        elif len(values) == 1:
            line[name] = values[0]
        else:
            problems.append(f"task {task.get('id', '?')}: {name!r} needs exactly one choice, got {values!r}")
    return (None if problems else line), problems

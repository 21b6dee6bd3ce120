"""Append reviewed paragraphs to a fixture file: validated, deduplicated, numbered, atomic.

The input is what `suggest` wrote after a person corrected it (JSON Lines in
the fixture format, with `source`/`paragraph` for context and a `review`
marker), or a Label Studio JSON export of the tasks `suggest` wrote. Every
line is checked first; a single bad line means nothing is appended, so the
fixtures never hold half a batch.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stancetopic import label_studio
from stancetopic.fixtures import (
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    LabelledDataError,
    Problem,
    check_record,
    fixture_files,
    normalised,
    read_labelled,
)

REVIEW = "review"  # the marker `suggest` sets; a person removes it or sets it to DONE
TODO, DONE = "todo", "done"
CONTEXT_KEYS = ("source", "paragraph")  # where a suggestion came from; not a fixture field
ID_WIDTH = 3


@dataclass
class Added:
    """What `add` did: the lines appended (with their new ids) and the duplicates dropped."""

    target: Path
    lines: list[dict]
    duplicates: int


def _parsed(path: Path) -> tuple[list[tuple[int, object]], list[Problem]]:
    """(position, parsed object) per line of JSON Lines or per task of a Label Studio export."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), 0, f"cannot read: {exc}")]
    items: list[tuple[int, object]] = []
    problems: list[Problem] = []
    if raw.lstrip().startswith("["):  # a Label Studio export is one JSON list of tasks
        try:
            tasks = json.loads(raw)
        except json.JSONDecodeError as exc:
            return [], [Problem(str(path), exc.lineno, f"bad JSON: {exc.msg}")]
        for number, task in enumerate(tasks, start=1):
            line, errors = label_studio.from_task(task)
            problems += [Problem(str(path), number, message) for message in errors]
            if line is not None:
                items.append((number, line))
        return items, problems
    for number, text in enumerate(raw.split("\n"), start=1):
        if not text.strip():
            continue  # blank lines (a trailing one, say) hold nothing to add
        try:
            items.append((number, json.loads(text)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), number, f"bad JSON: {exc.msg}"))
    return items, problems


def _fixture_line(obj: object) -> tuple[dict | None, list[str]]:
    """The fixture line inside a reviewed object (context and marker stripped), or the reasons not."""
    if not isinstance(obj, dict):
        return None, [f"expected a JSON object, got {type(obj).__name__}"]
    if obj.get(REVIEW, DONE) != DONE:
        value = obj[REVIEW]
        why = "still marked for review" if value == TODO else f"unknown review marker {value!r}"
        return None, [f'{why}: check the labels, then delete "{REVIEW}" or set it to "{DONE}"']
    line = {k: v for k, v in obj.items() if k not in (REVIEW, *CONTEXT_KEYS)}
    errors = check_record({"id": "new", **line}, strict=True)  # ids are assigned below when missing
    ordered = {k: line[k] for k in (*REQUIRED_KEYS, *OPTIONAL_KEYS) if k in line}
    return (None if errors else ordered), errors


def _next_number(stem: str, ids: list[str]) -> int:
    """One past the highest `<stem>-<number>` id of the target file (1 for a new file)."""
    pattern = re.compile(rf"{re.escape(stem)}-(\d+)[a-z]?")
    numbers = [int(m.group(1)) for i in ids if (m := pattern.fullmatch(i))]
    return max(numbers, default=0) + 1


def add(reviewed: Path, target: Path, fixtures: Sequence[Path] = ()) -> Added:
    """Validate REVIEWED and append its new lines to TARGET, a fixture file, atomically.

    Duplicates (by `fixtures.normalised` text) of any line beside TARGET or in
    the `fixtures` folders (which `prepare` reads together with TARGET's), or
    of an earlier line of REVIEWED, are dropped and counted. Lines without an
    `id` get `<target stem>-<next free number>`. Raises LabelledDataError with
    every problem (file:line) and appends nothing when any line is bad.
    """
    if target.suffix != ".jsonl":
        raise LabelledDataError([Problem(str(target), 0, "not a fixture file: `prepare` reads only *.jsonl")])
    folders = dict.fromkeys(p.resolve() for p in (target.parent, *fixtures) if p.is_dir())
    existing = read_labelled(
        [f for folder in folders for f in fixture_files(folder)]
    )  # raises with file:line
    seen_texts = {normalised(r["text"]) for r in existing}
    seen_ids = {r["id"] for r in existing}
    items, problems = _parsed(reviewed)
    lines: list[dict] = []
    duplicates = 0
    for number, obj in items:
        line, errors = _fixture_line(obj)
        if line is not None and line.get("id") in seen_ids:
            errors = [f"duplicate id {line['id']!r} (already in the fixtures or above)"]
        if errors or line is None:
            problems += [Problem(str(reviewed), number, message) for message in errors]
            continue
        key = normalised(line["text"])
        if key in seen_texts:
            duplicates += 1
            continue
        seen_texts.add(key)
        if "id" in line:
            seen_ids.add(line["id"])
        lines.append(line)
    if problems:
        raise LabelledDataError(problems)
    mine = [r["id"] for r in read_labelled([target])] if target.exists() else []
    number = _next_number(target.stem, [*mine, *(line["id"] for line in lines if "id" in line)])
    for line in lines:
        if "id" not in line:
            while f"{target.stem}-{number:0{ID_WIDTH}d}" in seen_ids:
                number += 1
            line["id"] = f"{target.stem}-{number:0{ID_WIDTH}d}"
            seen_ids.add(line["id"])
            number += 1
    ordered = [{k: line[k] for k in (*REQUIRED_KEYS, *OPTIONAL_KEYS) if k in line} for line in lines]
    _append(target, ordered)
    return Added(target, ordered, duplicates)


def _append(target: Path, lines: list[dict]) -> None:
    """Write the old content plus the new lines to a file beside TARGET, then rename it over TARGET."""
    if not lines:
        return
    old = target.read_bytes() if target.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    new = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
    tmp = target.with_name(f".{target.name}.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(old + new)
    os.replace(tmp, target)

"""Read and validate labelled JSON Lines (the fixture format).

Every problem is collected with its file and line, so one run shows the user
everything to fix instead of stopping at the first bad line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stancetopic.errors import EXIT_DATA, StancetopicError
from stancetopic.labels import FIXTURE_STANCES, HARD_TAGS, TOPICS

REQUIRED_KEYS = ("id", "text", "stance", "topic")
OPTIONAL_KEYS = ("also", "hard")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one line of a labelled file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class LabelledDataError(StancetopicError, ValueError):
    """Raised with every problem found; `str()` gives one line per problem."""

    exit_code = EXIT_DATA

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def check_record(obj: object, strict: bool) -> list[str]:
    """Return the messages for one parsed line (empty when it is valid)."""
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {type(obj).__name__}"]
    errors = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in obj]
    if strict:
        allowed = set(REQUIRED_KEYS) | set(OPTIONAL_KEYS)
        errors += [f"unknown key {key!r}" for key in obj if key not in allowed]
    if "id" in obj and (not isinstance(obj["id"], str) or not obj["id"].strip()):
        errors.append("'id' must be a non-empty string")
    if "text" in obj and (not isinstance(obj["text"], str) or not obj["text"].strip()):
        errors.append("'text' is empty" if obj["text"] == "" else "'text' must be a non-empty string")
    if "stance" in obj and obj["stance"] not in FIXTURE_STANCES:
        errors.append(f"unknown stance {obj['stance']!r} (expected one of {', '.join(FIXTURE_STANCES)})")
    if "topic" in obj and obj["topic"] not in TOPICS:
        errors.append(f"unknown topic {obj['topic']!r} (expected one of {', '.join(TOPICS)})")
    also = obj.get("also", [])
    if not isinstance(also, list) or any(t not in TOPICS or t == "other" for t in also):
        errors.append(f"'also' must be a list of topics other than 'other', got {also!r}")
    elif obj.get("topic") in also:
        errors.append("'also' repeats the main topic")
    hard = obj.get("hard")
    if hard is not None and (not isinstance(hard, str) or (strict and hard not in HARD_TAGS)):
        errors.append(f"unknown hard tag {hard!r}")
    return errors


def read_labelled(paths: Iterable[Path | str], *, strict: bool = True) -> list[dict]:
    """Read labelled JSON Lines files in order and return their records.

    `strict` (the fixtures) also rejects unknown keys and hard tags; the CLI's
    `evaluate` reads users' files with `strict=False`, ignoring extra keys.
    Raises LabelledDataError listing every problem with its file:line.
    """
    records: list[dict] = []
    problems: list[Problem] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError as exc:
            problems.append(Problem(str(path), 0, f"cannot read: {exc.strerror or exc}"))
            continue
        if lines and lines[-1] == b"":
            lines.pop()  # the final newline ends the last line; it is not a blank line
        for number, raw in enumerate(lines, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(str(path), number, f"not UTF-8 ({exc.reason})"))
                continue
            if not line.strip():
                problems.append(Problem(str(path), number, "blank line"))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(path), number, f"bad JSON: {exc.msg}"))
                continue
            except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting past the stack
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                problems.append(Problem(str(path), number, f"bad JSON: {reason}"))
                continue
            errors = check_record(obj, strict)
            if not errors:
                if obj["id"] in seen_ids:
                    errors.append(f"duplicate id {obj['id']!r} (first at {seen_ids[obj['id']]})")
                elif obj["text"].strip() in seen_texts:
                    errors.append(f"duplicate text (first at {seen_texts[obj['text'].strip()]})")
            if errors:
                problems.extend(Problem(str(path), number, message) for message in errors)
                continue
            seen_ids[obj["id"]] = where
            seen_texts[obj["text"].strip()] = where
            records.append(obj)
    if problems:
        raise LabelledDataError(problems)
    return records


def normalised(text: str) -> str:
    """A text's duplicate key: case, punctuation and spacing ignored.

    Two paragraphs that differ only there are the same training example, so
    `suggest` and `add` treat them as one.
    """
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def fixture_files(folder: Path | str) -> list[Path]:
    """The fixture files of a folder, in a stable order."""
    return sorted(Path(folder).glob("*.jsonl"))


def split(records: list[dict], test_size: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Stratified train/test split over stance x topic cells, seeded.

    The split is made with `datasets` on record indexes, then records are
    returned in their original order so the output does not depend on hashing.
    """
    from datasets import Dataset

    cells = Dataset.from_dict(
        {"index": list(range(len(records))), "cell": [f"{r['stance']}/{r['topic']}" for r in records]}
    ).class_encode_column("cell")
    parts = cells.train_test_split(test_size=test_size, seed=seed, stratify_by_column="cell")
    return (
        [records[i] for i in sorted(parts["train"]["index"])],
        [records[i] for i in sorted(parts["test"]["index"])],
    )


def split_by_id(
    records: list[dict], test_size: float, calib_size: float, seed: int
) -> tuple[list[dict], list[dict], list[dict]]:
    """Train, calib and test parts by a seeded hash of each line's id.

    Used for the lines a user adds (`stancetopic add`): a line keeps its part
    when more lines are added, and a handful of lines splits without the
    per-cell minimum a stratified split needs. A minimal pair (ids ending in
    `a` / `b` after the number) stays in one part, so its twin cannot leak a
    test line's answer into training. Shares are of all lines, as in params.yaml.
    """
    parts: tuple[list[dict], list[dict], list[dict]] = ([], [], [])
    for record in records:
        key = (
            record["id"][:-1] if record["id"][-2:-1].isdigit() and record["id"][-1] in "ab" else record["id"]
        )
        draw = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
        parts[2 if draw < test_size else 1 if draw < test_size + calib_size else 0].append(record)
    return parts


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    """Write records as sorted-key JSON Lines (byte-identical for equal input)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")

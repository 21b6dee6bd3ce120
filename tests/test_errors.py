"""The library's errors: exit codes as the README documents them, short paths, one line each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stancetopic import errors
from stancetopic.errors import (
    EXIT_PARTIAL,
    SHOWN_PATH,
    DataError,
    EngineError,
    Interrupted,
    OutputError,
    RefusedError,
    StancetopicError,
    short_path,
)
from stancetopic.model import ModelError

README = Path(__file__).resolve().parents[1] / "README.md"


def exit_codes() -> dict[int, str]:
    """The README's "Exit codes" table: code to meaning."""
    section = README.read_text().split("### Exit codes", 1)[1].split("\n#", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)}


@pytest.mark.parametrize(
    "error, code, meaning",
    [
        (RefusedError, 2, "a run refused before it starts"),
        (ModelError, 3, "the model folder is unusable"),
        (DataError, 5, "bad labelled data"),
        (EngineError, 6, "the Ray engine failed"),
        (OutputError, 7, "an output could not be written"),
        (Interrupted, 130, "interrupted"),
    ],
)
def test_each_error_exits_with_the_code_the_readme_gives(error, code, meaning):
    assert issubclass(error, StancetopicError)
    assert error.exit_code == code
    assert meaning in exit_codes()[code]


def test_the_readme_lists_every_exit_code_and_no_other():
    constants = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert set(exit_codes()) == constants | {0}
    assert "skipped" in exit_codes()[EXIT_PARTIAL]


def test_a_short_path_is_shown_whole():
    assert short_path(Path("/data/in/article.txt")) == "/data/in/article.txt"
    assert short_path("x" * SHOWN_PATH) == "x" * SHOWN_PATH


def test_a_long_path_keeps_its_start_and_end():
    path = "/start/" + "d" * 5_000 + "/the-file-name.html"
    shown = short_path(Path(path))
    assert len(shown) == SHOWN_PATH
    assert shown.startswith("/start/ddd") and shown.endswith("d/the-file-name.html")
    assert "..." in shown


def test_lines_are_the_message_lines_or_the_class_name():
    assert RefusedError("a.txt: first\nb.txt: second").lines() == ["a.txt: first", "b.txt: second"]
    assert DataError("f.jsonl:3: bad JSON").lines() == ["f.jsonl:3: bad JSON"]
    assert OutputError().lines() == ["OutputError"]

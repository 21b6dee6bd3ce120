"""Helpers shared by the label and engine tests: the CLI in-process and small corpora."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from stancetopic.cli import main

ARTICLE = """KYIV, March 3 (Reuters) - The defence ministry confirmed on Monday that it had signed a
contract for 40 reconnaissance drones, officials said.

IANS

Read Next

Court quashes conviction of former mayor
The appeals court ruled on Tuesday that the evidence had been unlawfully obtained.

Officials dismissed reports that the trade talks had collapsed, saying negotiators would meet again.
"""


def label(*args: object, input: str | None = None):
    result = CliRunner().invoke(main, ["label", *map(str, args)], input=input, catch_exceptions=False)
    return result


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_corpus(folder: Path) -> Path:
    """Five small articles in every supported format, one in a subfolder."""
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(ARTICLE)
    (folder / "b.md").write_text("# Inflation eases to 3 percent in October\n\nThe statistics office "
                                 "said prices rose 3.0 percent.\n\nShare this\n")  # fmt: skip
    (folder / "sub" / "c.html").write_text(
        "<html><head><script>var x=1;</script></head><body><nav>Home | World</nav><article>"
        "<h1>Migrants arrive on Lampedusa after calm seas</h1><p>More than 500 people landed over the "
        "weekend, the interior ministry said.</p><p>The mayor denied that the reception centre was "
        "full &amp; said beds were free.</p></article><footer>Powered By Example</footer></body></html>"
    )
    (folder / "sub" / "d.jsonl").write_text(
        json.dumps({"title": "Supreme court upholds sentence of ex-minister",
                    "text": "Judges dismissed the appeal on Friday.\n\nThe minister had denied the charges."})
        + "\n"
    )  # fmt: skip
    (folder / "e.json").write_text(json.dumps([{"text": "Heavy rain will continue across the south "
                                                "until Sunday, the weather service said."}]))  # fmt: skip
    return folder


def many_paragraphs(folder: Path, files: int = 12, per_file: int = 120) -> Path:
    """Distinct one-sentence paragraphs, enough for several 512-paragraph chunks."""
    folder.mkdir()
    for f in range(files):
        body = "\n\n".join(
            f"Officials in district {f} said on day {p} that {p * 7 + f} new homes had been approved."
            for p in range(per_file)
        )
        (folder / f"article-{f:02d}.txt").write_text(body)
    return folder


def make_deep_folder(parent: Path, depth: int = 25) -> str:
    """A folder `depth` x 201 characters below `parent` (past Linux's 4,096), with a story in it.

    Built one level at a time relative to an open folder, as no single path
    could name it. Returns the first level's name.
    """
    fd = os.open(parent, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        story = os.open("story.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(story, b"The ministry confirmed the new tariff on Monday after weeks of talks.\n")
        os.close(story)
    finally:
        os.close(fd)
    return "d" * 200

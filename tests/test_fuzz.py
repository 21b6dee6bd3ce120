"""Hostile and random files of every format through the real `stancetopic label` CLI.

Asserted for every generated folder: no traceback, exit 0 or 4, every good file
labelled, no bad file named more than once, and reading time bounded per MB. Example counts are small: the suite must stay fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stancetopic.languages import readable
from stancetopic.readers import ReadError, read_article
from tests.helpers import label, read

SENTENCES = [
    "The defence ministry confirmed on Monday that it had ordered forty new drones.",
    "Officials dismissed reports that the trade talks had collapsed, saying negotiators would meet again.",
    "The appeals court upheld the sentence of the former mayor on Friday.",
    "Customs data showed exports fell four percent in September, the statistics office said.",
]
SECONDS_PER_MB = 30.0  # far above what a linear reader needs; a quadratic one blows through it
SECONDS_FIXED = 10.0  # a loaded two-core machine's noise


def good_file(kind: str, sentence: str) -> tuple[str, bytes]:
    """A small, valid article in the given format."""
    body = f"{sentence}\n\n{SENTENCES[0]}\n"
    files = {
        ".txt": body,
        ".md": f"# Ministry confirms drone order for the army\n\n* {sentence}\n* {SENTENCES[2]}\n",
        ".html": f"<html><head><meta charset='utf-8'><title>Drone order</title></head><body><article>"
        f"<h1>Ministry confirms drone order for the army</h1><p>{sentence}</p><p>{SENTENCES[2]}</p>"
        "</article></body></html>",
        ".json": json.dumps({"title": "Ministry confirms drone order for the army", "text": body}),
        ".jsonl": json.dumps({"text": sentence}) + "\n" + json.dumps({"text": SENTENCES[3]}) + "\n",
    }
    return kind, files[kind].encode("utf-8")


def hostile(kind: str, size: int, text: str, where: int) -> tuple[str, bytes]:
    """One of the inputs that took readers down, scaled by `size`."""
    nul = (SENTENCES[1] * 20).encode()
    cases: dict[str, tuple[str, bytes]] = {
        "deep-json": (".json", b"[" * size * 20 + b"]" * size * 20),
        "deep-jsonl": (
            ".jsonl",
            b"{" * size * 20 + b"\n" + json.dumps({"text": SENTENCES[1]}).encode() + b"\n",
        ),
        "big-int": (".json", b'{"id": ' + b"7" * size + b', "text": "' + SENTENCES[1].encode() + b'"}'),
        "deep-html": (".html", b"<html><body>" + b"<div>" * size * 3 + b"x" + b"</div>" * size * 3),
        "quotes": (".htm", b"<html><body>" + b"<blockquote>" * size + SENTENCES[1].encode() + b"</body>"),
        "wrapped": (".txt", "\n".join(f"word{i} " * 9 for i in range(size)).encode()),
        "nul": (".md", nul[: where % len(nul)] + b"\0" + nul[where % len(nul) :]),
        "utf16": (".txt", (text + " " + SENTENCES[1]).encode("utf-16")),
        "separators": (
            ".jsonl",
            json.dumps({"text": f"{text}\u2028{SENTENCES[1]}\u0085"}, ensure_ascii=False).encode(),
        ),
        "random-text": (".html", text.encode("utf-8", errors="surrogatepass")),
        "random-bytes": (
            ".txt",
            text.encode("utf-8", errors="surrogatepass")[::-1] + bytes([where % 256]) * 3,
        ),
        "surrogate": (".json", b'{"text": "' + SENTENCES[1].encode() + b' \\udc00"}'),
    }
    return cases[kind]


HOSTILE_KINDS = ["deep-json", "deep-jsonl", "big-int", "deep-html", "quotes", "wrapped", "nul", "utf16",
                 "separators", "random-text", "random-bytes", "surrogate"]  # fmt: skip
GOOD = st.builds(
    good_file, st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"]), st.sampled_from(SENTENCES)
)
BAD = st.builds(
    hostile,
    st.sampled_from(HOSTILE_KINDS),
    st.integers(min_value=1, max_value=5_000),
    st.text(max_size=200),
    st.integers(min_value=0, max_value=10_000),
)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.lists(GOOD, min_size=1, max_size=3), bad=st.lists(BAD, min_size=1, max_size=4))
def test_hostile_files_never_take_the_run_down(good, bad, model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    names = []
    for index, (suffix, data) in enumerate(good):
        names.append(f"good-{index}{suffix}")
        (folder / names[-1]).write_bytes(data)
    for index, (suffix, data) in enumerate(bad):
        (folder / f"bad-{index}{suffix}").write_bytes(data)
    megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    out = folder.parent / f"{folder.name}.jsonl"
    cache = tmp_path_factory.getbasetemp() / "fuzz-cache"  # shared: only new texts reach the embedder
    result = label(folder, "-o", out, "--model", model, "--cache-dir", cache, "--all-languages")
    assert result.exit_code in (0, 4), result.output
    assert "Traceback" not in result.output
    sources = {record["source"] for record in read(out)}
    assert set(names) <= sources, result.output
    for index, (suffix, _) in enumerate(bad):  # each bad file is labelled, or named at most once
        named = [line for line in result.output.splitlines() if f"/bad-{index}{suffix}:" in line]
        assert len(named) <= 1, named
    readable("Warm the language model up before the clock starts, once per process.")
    started = time.perf_counter()  # reading alone: the CLI's time is mostly the model's
    for path in folder.iterdir():
        with contextlib.suppress(ReadError):
            read_article(path, 20_000_000, all_languages=False)
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS_FIXED + SECONDS_PER_MB * megabytes, (elapsed, megabytes)


def test_devices_fifos_and_link_loops_are_named_once_and_skipped(model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "story.txt").write_text(SENTENCES[2] + "\n")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "random.txt").symlink_to("/dev/urandom")
    os.mkfifo(folder / "pipe.txt")
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    (folder / "a.dat").symlink_to(folder / "b.dat")
    (folder / "b.dat").symlink_to(folder / "a.dat")
    out = tmp_path / "out.jsonl"
    result = label(folder, "-o", out, "--model", model, "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 4, result.output
    assert [r["source"] for r in read(out)] == ["story.txt"]
    lines = [line for line in result.output.splitlines() if line.startswith(("error:", "note:"))]
    for name, reason in [("zero.txt", "a character device"), ("random.txt", "a character device"),
                         ("pipe.txt", "a FIFO"), ("a.txt", "unreadable"), ("b.txt", "unreadable"),
                         ("a.dat", "unsupported"), ("b.dat", "unsupported")]:  # fmt: skip
        named = [line for line in lines if f"{folder / name}:" in line]
        assert len(named) == 1 and reason in named[0], (name, lines)


def test_other_languages_are_counted_and_scored_only_with_all_languages(model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    german = "Die Regierung bestätigte am Montag, dass die Gespräche über den Zollvertrag fortgesetzt werden."
    (folder / "mixed.txt").write_text(f"{SENTENCES[0]}\n\n{german}\n")
    summary = tmp_path / "summary.json"
    out = tmp_path / "out.jsonl"
    result = label(folder, "-o", out, "--model", model, "--no-cache", "--summary", summary)
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in read(out)] == [SENTENCES[0]]
    assert json.loads(summary.read_text())["files"]["mixed.txt"]["other_language"] == 1
    assert "1 paragraphs not in English skipped" in result.output
    result = label(folder, "-o", out, "--model", model, "--no-cache", "--overwrite", "--all-languages")
    assert [r["text"] for r in read(out)] == [SENTENCES[0], german]

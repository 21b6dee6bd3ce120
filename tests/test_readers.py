"""Reading files: only regular files, decoding rules, hostile JSON, JSON Lines (no model needed)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from stancetopic.readers import ReadError, discover, read_article
from tests.helpers import make_deep_folder

LIMIT = 1_000_000
SENTENCE = "The ministry confirmed on Monday that the new border checks would start in May."


def texts(path: Path) -> list[str]:
    return [unit.text for unit in read_article(path, LIMIT).units]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_link_to_a_device_is_refused_without_reading_it(tmp_path, device):
    link = tmp_path / "x.txt"
    link.symlink_to(device)
    with pytest.raises(ReadError, match="not a regular file \\(a character device\\)"):
        read_article(link, LIMIT)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(ReadError, match="not a regular file \\(a FIFO\\)"):
        read_article(fifo, LIMIT)


def test_a_symlink_loop_is_one_error(tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    with pytest.raises(ReadError, match="unreadable"):
        read_article(tmp_path / "a.txt", LIMIT)


def test_the_size_limit_holds_whatever_stat_says(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(SENTENCE * 10)
    with pytest.raises(ReadError, match="larger than the 100-byte limit"):
        read_article(path, 100)


@pytest.mark.parametrize("where", [0, 100, 20_000])
def test_a_nul_byte_anywhere_means_binary(tmp_path, where):
    data = bytearray((SENTENCE + "\n\n") * 400, "ascii")
    data[where] = 0
    path = tmp_path / "n.txt"
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="binary"):
        read_article(path, LIMIT)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_text(tmp_path, encoding):
    path = tmp_path / "u.txt"
    data = SENTENCE.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    assert texts(path) == [SENTENCE]


def test_json_nested_100000_deep_is_one_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ReadError, match="nested too deep"):
        read_article(path, LIMIT)


def test_a_deep_jsonl_line_is_one_bad_record_and_the_rest_is_read(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"text": SENTENCE}) + "\n")
    article = read_article(path, LIMIT)
    assert [u.text for u in article.units] == [SENTENCE]
    assert article.problems == [("1", "bad JSON (nested too deep)")]


def test_a_5000_digit_integer_is_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"id": ' + "9" * 5_000 + ', "text": "' + SENTENCE + '"}')
    assert texts(path) == [SENTENCE]


def test_a_lone_surrogate_is_replaced(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"text": "' + SENTENCE[:-1] + ' \\ud800."}')
    assert texts(path) == [SENTENCE[:-1] + " \ufffd."]


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"])
def test_a_raw_line_separator_inside_a_jsonl_string_does_not_split_the_record(tmp_path, separator):
    first = {"text": f"Officials said the talks{separator} would resume on Friday in Brussels."}
    path = tmp_path / "r.jsonl"
    path.write_text(
        json.dumps(first, ensure_ascii=False) + "\n" + "{bad\n" + json.dumps({"text": SENTENCE}) + "\n"
    )
    article = read_article(path, LIMIT)
    assert len(article.units) == 2
    assert article.problems[0][0] == "2"  # line numbers are the file's


def test_joined_headline_offsets_are_null_in_json_and_a_slice_in_text(tmp_path):
    record = {"title": "Court quashes conviction of former mayor", "text": SENTENCE}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(record))
    (unit,) = read_article(path, LIMIT).units
    assert unit.text == record["title"] + "\n\n" + SENTENCE and unit.start is None and unit.end is None
    text = tmp_path / "h.txt"
    text.write_text(record["title"] + "\n\n" + SENTENCE + "\n")
    (unit,) = read_article(text, LIMIT).units
    assert text.read_text()[unit.start : unit.end] == unit.text


def test_hard_wrapped_text_without_blank_lines_is_one_paragraph_with_exact_offsets(tmp_path):
    words = [f"word{i}" for i in range(60_000)]
    lines = [" ".join(words[i : i + 10]) for i in range(0, len(words), 10)]
    path = tmp_path / "wrapped.txt"
    path.write_text("\n".join(lines) + ".\n")
    (unit,) = read_article(path, 10_000_000).units
    assert unit.text == path.read_text()[unit.start : unit.end] == "\n".join(lines) + "."


class Messages(logging.Handler):
    """Every message logged to the logger it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_paragraph_over_256_tokens_is_covered_by_its_windows_without_a_warning(tmp_path, embedder_model):
    from stancetopic.embedder import _windows

    sentences = [f"The court in district {n} dismissed appeal number {n * 13} on Monday." for n in range(60)]
    path = tmp_path / "long.txt"
    path.write_text(" ".join(sentences) + "\n")
    (unit,) = read_article(path, LIMIT).units
    tokenizer = embedder_model.tokenizer
    # the warning is given once per tokenizer: make sure an earlier test did not use it up
    tokenizer.deprecation_warnings.pop("sequence-length-is-longer-than-the-specified-maximum", None)
    messages = Messages()
    logging.getLogger("transformers").addHandler(messages)
    try:
        pieces, owners = _windows(embedder_model, [unit.text])
    finally:
        logging.getLogger("transformers").removeHandler(messages)
    limit = embedder_model.get_max_seq_length() - 2
    assert len(pieces) >= 2 and set(owners) == {0}
    assert all(len(tokenizer(p, add_special_tokens=False)["input_ids"]) <= limit for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(unit.text.split())  # every token, once
    assert not [m for m in messages.messages if "Token indices sequence length" in m]


def test_a_folder_past_path_max_is_one_problem_and_the_walk_goes_on(tmp_path):
    (tmp_path / "a.txt").write_text("A first story.\n")
    first = make_deep_folder(tmp_path)
    (tmp_path / "z.txt").write_text("A last story.\n")
    problems: list[tuple[str, str]] = []
    found = [relative for _, relative in discover(tmp_path, "*", problems)]
    assert found == ["a.txt", "z.txt"]
    assert len(problems) == 1 and problems[0][0].startswith(first + "/")
    assert "cannot open this folder" in problems[0][1]
    with pytest.raises(OSError):  # without a list to report to, the walk cannot go on quietly
        list(discover(tmp_path, "*"))

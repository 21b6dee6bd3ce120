"""The embedding cache: keyed by producer and text, and never the reason a run stops."""

from __future__ import annotations

import hashlib
import logging
import sqlite3

import numpy as np

from stancetopic.cache import FILE, EmbeddingCache, default_dir, embed_through, open_cache, text_key


def vector(seed: int, size: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).random(size).astype(np.float32)


def test_vectors_come_back_for_their_producer_only(tmp_path):
    cache = EmbeddingCache(tmp_path, "export-a", 4)
    cache.put({text_key("one"): vector(1), text_key("two"): vector(2)})
    found = cache.get([text_key("one"), text_key("two"), text_key("three")])
    assert set(found) == {text_key("one"), text_key("two")}
    assert np.array_equal(found[text_key("one")], vector(1))
    cache.close()
    assert EmbeddingCache(tmp_path, "export-b", 4).get([text_key("one")]) == {}
    assert EmbeddingCache(tmp_path, "export-a", 8).get([text_key("one")]) == {}  # wrong size: a miss


def test_more_keys_than_one_query_may_hold(tmp_path):
    cache = EmbeddingCache(tmp_path, "e", 4)
    items = {text_key(str(i)): vector(i) for i in range(1234)}
    cache.put(items)
    assert len(cache.get(list(items))) == 1234


def test_a_text_key_is_the_sha256_of_the_utf8_text():
    assert text_key("Grüße") == hashlib.sha256("Grüße".encode()).digest()  # existing caches stay valid


def test_a_lone_surrogate_does_not_crash_the_key():
    assert text_key("a \ud800 b") != text_key("a \ufffd b")
    assert len(text_key("\udfff")) == 32


def test_a_corrupt_database_means_no_cache_and_one_warning_line(tmp_path, caplog):
    (tmp_path / FILE).write_bytes(b"this is not an SQLite database, it was overwritten " * 100)
    with caplog.at_level(logging.WARNING, logger="stancetopic"):
        assert open_cache(tmp_path, "e", 4) is None
    (record,) = caplog.records
    assert record.getMessage().startswith(f"warning: {tmp_path / FILE}: embedding cache unusable (")
    assert record.getMessage().endswith("; continuing without it") and "\n" not in record.getMessage()


def test_a_database_locked_by_another_process_means_no_cache(tmp_path, caplog):
    other = sqlite3.connect(tmp_path / FILE)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")  # rollback-journal mode: nobody else may even read
    try:
        with caplog.at_level(logging.WARNING, logger="stancetopic"):
            assert open_cache(tmp_path, "e", 4, timeout=0.1) is None
    finally:
        other.rollback()
        other.close()
    assert "database is locked" in caplog.records[0].getMessage()


def test_a_lock_taken_mid_run_turns_the_cache_off_without_an_error(tmp_path, caplog):
    cache = open_cache(tmp_path, "e", 4, timeout=0.1)
    assert cache is not None
    cache.put({text_key("kept"): vector(1)})
    other = sqlite3.connect(tmp_path / FILE)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the WAL write lock
    try:
        with caplog.at_level(logging.WARNING, logger="stancetopic"):
            cache.put({text_key("new"): vector(2)})  # skipped, with a warning
            assert cache.get([text_key("kept")]) == {}  # the cache is off from now on
            cache.put({text_key("newer"): vector(3)})  # no second warning
    finally:
        other.rollback()
        other.close()
    assert len(caplog.records) == 1 and "database is locked" in caplog.records[0].getMessage()
    cache.close()


def test_an_unwritable_cache_place_means_no_cache(tmp_path, caplog):
    (tmp_path / "file").write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="stancetopic"):
        assert open_cache(tmp_path / "file" / "cache", "e", 4) is None
    assert len(caplog.records) == 1


def test_the_default_place_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_dir() == tmp_path / "stancetopic"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_dir().parts[-2:] == (".cache", "stancetopic")


def test_embed_through_encodes_only_the_misses_once_each(tmp_path):
    cache = EmbeddingCache(tmp_path, "embedder-a", 3)
    asked: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        asked.append(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    first = embed_through(cache, ["ab", "abc", "ab"], encode, 3)
    second = embed_through(cache, ["abc", "abcd"], encode, 3)
    assert asked == [["ab", "abc"], ["abcd"]]
    assert first[:, 0].tolist() == [2, 3, 2] and second[:, 0].tolist() == [3, 4]
    assert embed_through(None, [], encode, 3).shape == (0, 3)

"""Digests: the identities behind manifests, caches and reports."""

from __future__ import annotations

import hashlib

from stancetopic.digest import sha256_file, sha256_folder


def test_a_file_digest_is_its_sha256(tmp_path):
    data = bytes(range(256)) * 9000  # over one read block
    (tmp_path / "f.bin").write_bytes(data)
    assert sha256_file(tmp_path / "f.bin") == hashlib.sha256(data).hexdigest()


def test_a_folder_digest_follows_names_and_bytes_but_not_hidden_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "sub" / "b.txt").write_text("weights")
    first = sha256_folder(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / ".DS_Store").write_text("x")
    assert sha256_folder(tmp_path) == first
    (tmp_path / "sub" / "b.txt").write_text("weightz")
    assert sha256_folder(tmp_path) != first
    (tmp_path / "sub" / "b.txt").write_text("weights")
    (tmp_path / "sub" / "b.txt").rename(tmp_path / "sub" / "c.txt")
    assert sha256_folder(tmp_path) != first


def test_a_pattern_limits_the_folder_digest(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    only = sha256_folder(tmp_path, "*.jsonl")
    (tmp_path / "notes.md").write_text("not a fixture")
    assert sha256_folder(tmp_path, "*.jsonl") == only != sha256_folder(tmp_path)

"""Module tests of `stancetopic.packaged`: the installed packages themselves, unpacked in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancetopic import packaged
from stancetopic.digest import sha256_file


def test_names_map_to_installed_folders_and_others_pass_through():
    minilm = packaged.folder("sentence-transformers/all-MiniLM-L6-v2")
    assert minilm is not None and (Path(minilm) / "config.json").is_file()
    assert packaged.folder("all-MiniLM-L6-v2") == minilm
    assert packaged.folder("./my-own-model") is None


def test_mpnet_is_joined_checked_and_unpacked_once(tmp_path):
    target = packaged._mpnet_folder(tmp_path)
    weights = target / "model.safetensors"
    assert sha256_file(weights) == packaged.MPNET_WEIGHTS_SHA256
    assert (target / "modules.json").is_file() and not list(target.rglob("desktop.ini"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all-mpnet-base-v2"]  # no scratch left
    stamp = weights.stat().st_mtime_ns
    assert packaged._mpnet_folder(tmp_path) == target
    assert weights.stat().st_mtime_ns == stamp


def test_mpnet_weights_with_another_digest_are_refused_and_nothing_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(packaged, "MPNET_WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(OSError, match="not the published one"):
        packaged._mpnet_folder(tmp_path)
    assert list(tmp_path.iterdir()) == []

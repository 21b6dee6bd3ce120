"""An on-disk embedding cache keyed by (what produced the vectors, text hash).

SQLite in WAL mode: concurrent runs can read and write the same cache safely,
and a run killed mid-write leaves the cache consistent. Relabelling a corpus
after retraining the heads then skips the embedder entirely.

The cache only ever saves time, so it never stops a run: a cache that cannot
be opened, or fails later (corrupt, locked by another process past the
timeout, read-only, disk full), is dropped with one warning line on the
`stancetopic` logger and the run carries on embedding everything itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

SCHEMA = """CREATE TABLE IF NOT EXISTS embeddings (
    embedder TEXT NOT NULL, text_sha256 BLOB NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (embedder, text_sha256)) WITHOUT ROWID"""
QUERY_CHUNK = 500  # SQLite caps the number of parameters in one statement
FILE = "embeddings.sqlite3"
TIMEOUT_S = 30.0  # how long to wait for another process's write lock

log = logging.getLogger("stancetopic")


def default_dir() -> Path:
    """$XDG_CACHE_HOME/stancetopic, else ~/.cache/stancetopic."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stancetopic"


def text_key(text: str) -> bytes:
    """SHA-256 of the text's UTF-8 bytes; a lone surrogate (valid in a str, not in UTF-8) is kept as is."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Float32 vectors of one embedder, stored by the SHA-256 of their text.

    Raises sqlite3.Error or OSError when the database cannot be opened (use
    `open_cache` for the fall-back); after that, a failing read is a miss and
    a failing write is skipped, and the cache switches itself off.
    """

    def __init__(self, folder: Path, embedder_id: str, dimension: int, timeout: float = TIMEOUT_S) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILE
        self.embedder_id = embedder_id
        self.dimension = dimension
        self.db: sqlite3.Connection | None = sqlite3.connect(self.path, timeout=timeout)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(SCHEMA)
            self.db.commit()
        except sqlite3.Error:
            self.db.close()
            raise

    def _give_up(self, exc: Exception) -> None:
        log.warning(f"warning: {self.path}: embedding cache unusable ({exc}); continuing without it")
        if self.db is not None:
            self.db.close()
        self.db = None

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `keys`."""
        found: dict[bytes, np.ndarray] = {}
        try:
            for first in range(0, len(keys), QUERY_CHUNK):
                if self.db is None:
                    break
                chunk = keys[first : first + QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    f"SELECT text_sha256, vector FROM embeddings WHERE embedder = ? AND text_sha256 IN ({marks})",
                    [self.embedder_id, *chunk],
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dimension,):
                        found[key] = vector
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        return found

    def put(self, items: dict[bytes, np.ndarray]) -> None:
        """Store vectors; one transaction, so a kill never leaves half a batch."""
        if self.db is None:
            return
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [(self.embedder_id, k, v.astype(np.float32).tobytes()) for k, v in items.items()],
                )
        except sqlite3.Error as exc:
            self._give_up(exc)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def open_cache(
    folder: Path, embedder_id: str, dimension: int, timeout: float = TIMEOUT_S
) -> EmbeddingCache | None:
    """The cache in `folder`, or None (after one warning line) when it cannot be used."""
    try:
        return EmbeddingCache(folder, embedder_id, dimension, timeout)
    except (sqlite3.Error, OSError) as exc:
        log.warning(f"warning: {folder / FILE}: embedding cache unusable ({exc}); continuing without it")
        return None


def embed_through(
    cache: EmbeddingCache | None, texts: list[str], encode: Callable[[list[str]], np.ndarray], dimension: int
) -> np.ndarray:
    """One row per text, each distinct text encoded at most once.

    Texts are looked up by hash in `cache` first (None: no cache); only the
    misses, once each, go to `encode`, and are then stored. A cached vector
    can differ from a fresh one in the last bits (the batch it was made in
    padded differently), never more.
    """
    keys = [text_key(text) for text in texts]
    vectors = cache.get(list(set(keys))) if cache else {}
    missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in vectors}
    if missing:
        fresh = dict(zip(missing, encode(list(missing.values())), strict=True))
        if cache:
            cache.put(fresh)
        vectors.update(fresh)
    if not keys:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.stack([vectors[key] for key in keys])

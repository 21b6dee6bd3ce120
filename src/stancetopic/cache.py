"""An on-disk embedding cache keyed by (embedder identity, text hash).

SQLite in WAL mode: concurrent runs can read and write the same cache safely,
and a run killed mid-write leaves the cache consistent. Relabelling a corpus
after retraining the heads then skips the embedder entirely.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np

SCHEMA = """CREATE TABLE IF NOT EXISTS embeddings (
    embedder TEXT NOT NULL, text_sha256 BLOB NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (embedder, text_sha256)) WITHOUT ROWID"""
QUERY_CHUNK = 500  # SQLite caps the number of parameters in one statement


def default_dir() -> Path:
    """$XDG_CACHE_HOME/stancetopic, else ~/.cache/stancetopic."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stancetopic"


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Float32 vectors of one embedder, stored by the SHA-256 of their text."""

    def __init__(self, folder: Path, embedder_id: str, dimension: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.embedder_id = embedder_id
        self.dimension = dimension
        self.db = sqlite3.connect(folder / "embeddings.sqlite3", timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)
        self.db.commit()

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `keys`."""
        found = {}
        for first in range(0, len(keys), QUERY_CHUNK):
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
        return found

    def put(self, items: dict[bytes, np.ndarray]) -> None:
        """Store vectors; one transaction, so a kill never leaves half a batch."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                [(self.embedder_id, k, v.astype(np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self.db.close()

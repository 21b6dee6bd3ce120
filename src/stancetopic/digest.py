"""SHA-256 of files and folders: the identities behind manifests, caches and reports."""

from __future__ import annotations

import hashlib
from pathlib import Path


def _update(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of one file, read in blocks."""
    digest = hashlib.sha256()
    _update(digest, Path(path))
    return digest.hexdigest()


def sha256_folder(folder: Path | str, pattern: str = "*") -> str:
    """Hex SHA-256 over a folder's files matching `pattern` (relative names and bytes).

    Hidden files (VCS and cache leftovers) are skipped: they are not content.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        digest.update(relative.encode() + b"\0")
        _update(digest, path)
    return digest.hexdigest()

"""The model folder: heads saved with joblib, guarded by a manifest of checksums.

joblib files are pickles, and unpickling runs code. A folder is therefore only
loaded when every file listed in its manifest is present and has the SHA-256
recorded at training time; nothing is unpickled before that check passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stancetopic.articles import ArticleRule
from stancetopic.digest import sha256_file
from stancetopic.errors import EXIT_MODEL, StancetopicError

MANIFEST = "manifest.json"
FORMAT = 2  # 2: n-gram weights per head ("ngram_weights")
HEADS = ("stance", "topic")
NGRAMS = "ngrams.joblib"


class ModelError(StancetopicError, RuntimeError):
    """A model folder that cannot be used; the message is one line for the user."""

    exit_code = EXIT_MODEL


def write_json(path: Path, data: object) -> None:
    """Write JSON the same way every time, so reruns are byte-identical."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def save(folder: Path, heads: dict[str, Any], manifest: dict, extra_files: list[Path] = ()) -> dict:
    """Dump the heads and write a manifest holding the SHA-256 of every model file.

    `extra_files` are further files already in `folder` (a fine-tuned embedder)
    that must be checksummed too. Returns the manifest written.
    """
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, estimator in heads.items():
        path = folder / f"{name}.joblib"
        joblib.dump(estimator, path)
        files[path.name] = sha256_file(path)
    for path in extra_files:
        files[path.relative_to(folder).as_posix()] = sha256_file(path)
    manifest = {**manifest, "files": dict(sorted(files.items()))}
    write_json(folder / MANIFEST, manifest)
    return manifest


def read_manifest(folder: Path) -> dict:
    """Read a model folder's manifest, or fail with a one-line reason."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelError(f"{path}: no model manifest here; train one with `dvc repro`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ModelError(f"{path}: manifest has no 'files' table")
    if manifest.get("format") != FORMAT:
        raise ModelError(
            f"{path}: model format {manifest.get('format')} is not {FORMAT}; retrain it with `dvc repro`"
        )
    return manifest


def verify(folder: Path, manifest: dict) -> None:
    """Check every listed file against its recorded SHA-256."""
    root = folder.resolve()
    for name, expected in manifest["files"].items():
        path = folder / name
        if root not in path.resolve().parents:
            raise ModelError(f"{folder / MANIFEST}: file {name!r} lies outside the model folder")
        if not path.is_file():
            raise ModelError(f"{path}: missing (listed in {MANIFEST})")
        if sha256_file(path) != expected:
            raise ModelError(
                f"{path}: checksum does not match {MANIFEST}; refusing to load a file "
                "that is not the one trained (joblib files are pickles)"
            )


@dataclass
class Heads:
    """The two trained heads and the manifest they were loaded under."""

    manifest: dict
    stance: Any
    topic: Any
    ngrams: Any = None  # the heads' n-gram vectorizer, when either uses one

    @property
    def stances(self) -> list[str]:
        return list(self.manifest["labels"]["stance"])

    @property
    def topics(self) -> list[str]:
        return list(self.manifest["labels"]["topic"])

    @property
    def article_rule(self) -> ArticleRule | None:
        """The article-stance rule fitted at training time, when the model has one."""
        data = self.manifest.get("article")
        return ArticleRule.from_dict(data) if data else None

    def predict_proba(self, embeddings: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities, columns in manifest label order."""
        from stancetopic.heads import features

        weights = self.manifest.get("ngram_weights", {})
        return tuple(
            getattr(self, head).predict_proba(
                features(embeddings, texts, self.ngrams, weights.get(head, 0.0))
            )
            for head in HEADS
        )


def load_heads(folder: Path | str) -> Heads:
    """Verify the folder against its manifest, then unpickle the heads."""
    import joblib

    folder = Path(folder)
    manifest = read_manifest(folder)
    verify(folder, manifest)
    heads = {name: joblib.load(folder / f"{name}.joblib") for name in HEADS}
    for name, estimator in heads.items():
        if list(estimator.classes_) != list(manifest["labels"][name]):
            raise ModelError(f"{folder / MANIFEST}: {name} labels differ from the saved head")
    if NGRAMS in manifest["files"]:
        heads["ngrams"] = joblib.load(folder / NGRAMS)
    return Heads(manifest=manifest, **heads)


def check_dimension(manifest: dict, dimension: int, folder: Path) -> None:
    """Refuse an embedder whose vectors the heads were not trained on."""
    expected = manifest["embedder"]["dimension"]
    if dimension != expected:
        raise ModelError(
            f"{folder / MANIFEST}: heads expect {expected}-dimensional embeddings but embedder "
            f"{manifest['embedder']['name']!r} gives {dimension}"
        )

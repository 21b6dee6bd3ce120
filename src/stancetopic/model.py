"""The model folder: heads saved with joblib, guarded by a manifest of checksums.

joblib files are pickles, and unpickling runs code. A folder is therefore only
loaded when every file that will be loaded (the heads, the n-gram vectorizer,
every file of a bundled embedder) is listed in its manifest, and every listed
file is present with the SHA-256 recorded at training time; nothing is
unpickled before that check passes. The manifest is not signed: it guards
against corrupted and swapped files, not against someone who can edit the
folder (and so the manifest too). `load_heads(..., manifest_sha256=...)` pins
the manifest itself to a digest obtained elsewhere (docs/security.md).

`Manifest` is the one schema of `manifest.json`: the `train` stage writes it,
everything that loads a model reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stancetopic import embedder as emb
from stancetopic.articles import ArticleRule
from stancetopic.digest import sha256_file
from stancetopic.errors import EXIT_MODEL, StancetopicError
from stancetopic.output import write_json

MANIFEST = "manifest.json"
FORMAT = 2  # 2: n-gram weights per head ("ngram_weights")
HEADS = ("stance", "topic")
NGRAMS = "ngrams.joblib"
# Every pickle `load_heads` opens: each must be listed in the manifest, or nothing is loaded.
PICKLES = {"stance": "stance.joblib", "topic": "topic.joblib", "ngrams": NGRAMS}


class ModelError(StancetopicError, RuntimeError):
    """A model folder that cannot be used; the message is one line for the user."""

    exit_code = EXIT_MODEL


@dataclass(frozen=True)
class EmbedderInfo:
    """Which embedder the heads were trained on.

    `bundled`: `name` is a folder inside the model folder (the fine-tuned
    embedder), whose files the manifest checksums; otherwise `name` is a model
    name or path loaded as such, and `sha256` (its folder digest) is checked.
    """

    name: str
    bundled: bool
    dimension: int
    sha256: str | None = None
    base: str | None = None
    finetuned: bool | None = None
    precision: str | None = None  # fp32 or bf16: what fine-tuning ran in (finetune.precision: auto chooses)


@dataclass(frozen=True)
class Manifest:
    """`manifest.json`: what the heads need at run time, and the record of how they were made."""

    labels: dict[str, list[str]]  # per head, the heads' own class order (probability columns)
    embedder: EmbedderInfo
    uncertain_below: dict[str, float]  # per head, chosen on the calib slice
    ngram_weights: dict[str, float] = field(default_factory=dict)  # per head; 0: embedding only
    backend: str = "torch"  # `label`'s default backend (params.yaml label.backend)
    article: dict[str, Any] | None = None  # the article-stance rule (ArticleRule.as_dict + cv_macro_f1)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> SHA-256
    params: dict[str, Any] = field(default_factory=dict)
    calib_size: int = 0
    train_size: int = 0
    fixtures_sha256: str | None = None
    added_sha256: str | None = None  # the user's added lines (prepare.added); None when there are none
    versions: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.article is None:
            del data["article"]
        return data

    @classmethod
    def from_dict(cls, data: object, where: Path) -> Manifest:
        """Check the shape of a parsed manifest; `where` names it in the one-line error."""
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ModelError(f"{where}: manifest has no 'files' table")
        if data.get("format") != FORMAT:
            raise ModelError(
                f"{where}: model format {data.get('format')} is not {FORMAT}; retrain it with `dvc repro`"
            )
        try:
            fields = {**data, "embedder": EmbedderInfo(**data["embedder"])}
            manifest = cls(**fields)
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{where}: manifest lacks or misnames a field ({exc})") from exc
        for head in HEADS:
            if not isinstance(manifest.labels.get(head), list) or head not in manifest.uncertain_below:
                raise ModelError(f"{where}: manifest has no {head} labels or threshold")
        return manifest

    @property
    def article_rule(self) -> ArticleRule | None:
        return ArticleRule.from_dict(self.article) if self.article else None

    def embedder_source(self, folder: Path) -> str:
        """Where the embedder lives: inside the model folder when bundled."""
        return str(folder / self.embedder.name) if self.embedder.bundled else self.embedder.name


def save(
    folder: Path, heads: dict[str, Any], manifest: Manifest, extra_files: Sequence[Path] = ()
) -> Manifest:
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
    manifest = replace(manifest, files=dict(sorted(files.items())))
    write_json(folder / MANIFEST, manifest.to_dict())
    return manifest


def read_manifest(folder: Path | str, manifest_sha256: str | None = None) -> Manifest:
    """Read a model folder's manifest, or fail with a one-line reason.

    With `manifest_sha256`, the manifest file must have that digest: a digest
    obtained from a trusted place (a release note, `dvc.lock`) then vouches for
    every file the manifest lists.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ModelError(f"{path}: no model manifest here; train one with `dvc repro`")
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc})") from exc
    if manifest_sha256 is not None and hashlib.sha256(raw).hexdigest() != manifest_sha256.lower():
        raise ModelError(f"{path}: manifest digest is not the pinned {manifest_sha256}; refusing the folder")
    return Manifest.from_dict(data, path)


def _inside(folder: Path, name: str) -> Path:
    """`folder / name`, refused when it leads outside the folder (`..`, absolute paths, links)."""
    path = folder / name
    if folder.resolve() not in path.resolve().parents:
        raise ModelError(f"{folder / MANIFEST}: file {name!r} lies outside the model folder")
    return path


def loaded_files(folder: Path, manifest: Manifest) -> set[str]:
    """The relative names of every model-folder file loading this model reads."""
    names = set(PICKLES.values())
    if manifest.embedder.bundled:
        embedder_dir = _inside(folder, manifest.embedder.name)
        if embedder_dir.is_dir():
            names |= {p.relative_to(folder).as_posix() for p in embedder_dir.rglob("*") if p.is_file()}
    return names


def verify(folder: Path, manifest: Manifest) -> None:
    """Check that every file that will be loaded is listed, and every listed file matches.

    A file missing from the list is refused, not skipped: deleting a head's
    entry must not let an unchecked pickle through. An embedder outside the
    folder must have the digest recorded at training time.
    """
    where = folder / MANIFEST
    unlisted = sorted(loaded_files(folder, manifest) - set(manifest.files))
    if unlisted:
        raise ModelError(
            f"{folder / unlisted[0]}: not listed in {MANIFEST}; refusing to load a file it does not vouch for"
        )
    for name, expected in manifest.files.items():
        path = _inside(folder, name)
        if not path.is_file():
            raise ModelError(f"{path}: missing (listed in {MANIFEST})")
        if sha256_file(path) != expected:
            raise ModelError(
                f"{path}: checksum does not match {MANIFEST}; refusing to load a file "
                "that is not the one trained (joblib files are pickles)"
            )
    if not manifest.embedder.bundled and manifest.embedder.sha256:
        try:
            found = emb.identity(manifest.embedder.name)
        except OSError as exc:
            raise ModelError(f"{where}: embedder {manifest.embedder.name!r} not found ({exc})") from exc
        if found != manifest.embedder.sha256:
            raise ModelError(
                f"{where}: embedder {manifest.embedder.name!r} is not the one the heads were trained on"
            )


@dataclass
class Heads:
    """The two trained heads, their n-gram vectorizer and the manifest they were loaded under."""

    manifest: Manifest
    stance: Any
    topic: Any
    ngrams: Any

    @property
    def stances(self) -> list[str]:
        return list(self.manifest.labels["stance"])

    @property
    def topics(self) -> list[str]:
        return list(self.manifest.labels["topic"])

    @property
    def article_rule(self) -> ArticleRule | None:
        """The article-stance rule fitted at training time, when the model has one."""
        return self.manifest.article_rule

    def predict_proba(self, embeddings: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities, columns in manifest label order."""
        from stancetopic.heads import features

        def proba(head: str) -> np.ndarray:
            weight = self.manifest.ngram_weights.get(head, 0.0)
            x = features(embeddings, texts, self.ngrams, weight)
            return np.asarray(getattr(self, head).predict_proba(x))

        return proba("stance"), proba("topic")


def load_heads(folder: Path | str, manifest_sha256: str | None = None) -> Heads:
    """Verify the folder against its manifest, then unpickle the heads."""
    import joblib

    folder = Path(folder)
    manifest = read_manifest(folder, manifest_sha256)
    verify(folder, manifest)
    heads = {name: joblib.load(folder / file) for name, file in PICKLES.items()}
    for name in HEADS:
        if list(heads[name].classes_) != list(manifest.labels[name]):
            raise ModelError(f"{folder / MANIFEST}: {name} labels differ from the saved head")
    return Heads(manifest=manifest, **heads)


def check_dimension(manifest: Manifest, dimension: int | None, folder: Path) -> None:
    """Refuse an embedder whose vectors the heads were not trained on."""
    expected = manifest.embedder.dimension
    if dimension != expected:
        raise ModelError(
            f"{folder / MANIFEST}: heads expect {expected}-dimensional embeddings but embedder "
            f"{manifest.embedder.name!r} gives {dimension}"
        )

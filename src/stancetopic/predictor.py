"""Text in, probabilities out: the embedder and the verified heads together.

`label` and `evaluate` both score through this class, so a model behaves the
same in the CLI as in the DVC evaluate stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np

from stancetopic import embedder as emb
from stancetopic import onnx_backend
from stancetopic.cache import EmbeddingCache, embed_through, open_cache
from stancetopic.model import Heads, ModelError, check_dimension, load_heads


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's CPU thread count is process-wide: set it for the work inside, then put it back."""
    if not threads:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class Predictor:
    """Scores texts with one embedder and the heads trained on its vectors.

    The embedder is loaded on first use: a run whose paragraphs are all in the
    embedding cache never imports torch, which is what makes relabelling after
    retraining the heads fast. `backend` picks torch or an ONNX Runtime export
    (see `onnx_backend`); `threads` sets the embedder's CPU threads (default:
    the runtime's own, all cores; for torch, set only while it embeds). Thread
    count changes float rounding in some matrix shapes, so runs meant to match
    record for record use the same.
    """

    def __init__(
        self,
        heads: Heads,
        source: str,
        folder: Path,
        *,
        backend: str = "torch",
        batch_size: int = 32,
        model: emb.Encoder | None = None,
        cache: EmbeddingCache | None = None,
        threads: int | None = None,
    ) -> None:
        if backend not in onnx_backend.BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; choose one of {', '.join(onnx_backend.BACKENDS)}")
        self.heads = heads
        self.source = source
        self.folder = folder
        self.backend = backend
        self.batch_size = batch_size
        self.cache = cache
        self.threads = threads
        self._model = model
        if model is not None:
            check_dimension(heads.manifest, model.get_embedding_dimension(), folder)

    @classmethod
    def from_folder(
        cls,
        folder: Path | str,
        *,
        backend: str | None = None,
        batch_size: int = 32,
        model: emb.Encoder | None = None,
        cache_dir: Path | None = None,
        lazy: bool = False,
        threads: int | None = None,
        manifest_sha256: str | None = None,
    ) -> Predictor:
        """Verified heads plus their embedder (given, loaded now, or when `lazy` on first use).

        `backend` defaults to the one the model was trained to use (its
        manifest's, from params.yaml `label.backend`), else torch. With
        `cache_dir`, embeddings are cached there under the identity of what
        makes them (see `cache_identity`); an unusable cache is left out with
        a warning. `manifest_sha256` pins the manifest (see `model.read_manifest`).
        """
        folder = Path(folder)
        heads = load_heads(folder, manifest_sha256)
        source = heads.manifest.embedder_source(folder)
        backend = backend or heads.manifest.backend
        predictor = cls(
            heads, source, folder, backend=backend, batch_size=batch_size, model=model, threads=threads
        )
        if cache_dir is not None:
            dimension = heads.manifest.embedder.dimension
            predictor.cache = open_cache(cache_dir, predictor.cache_identity, dimension)
        if not lazy:
            _ = predictor.model
        return predictor

    @cached_property
    def identity(self) -> str:
        """The embedder's digest (its folder's SHA-256)."""
        return emb.identity(self.source)

    @property
    def cache_identity(self) -> str:
        """Cache key prefix: what produced the vectors.

        For torch, the embedder's digest; for ONNX, the verified export's
        digest (the embedder, the backend and every file of the export,
        tokenizer included), so vectors of an altered or remade export are
        never served for another.
        """
        if self.backend == "torch":
            return self.identity
        return f"{self.backend}:{onnx_backend.digest(self.export)}"

    def prepare(self) -> None:
        """Make and check an ONNX export now (Ray does this once, before its workers start)."""
        if self.backend != "torch":
            _ = self.model

    @cached_property
    def export(self) -> Path:
        """The verified ONNX export for this backend, made first when missing or altered."""
        target = onnx_backend.export_dir(self.folder, self.backend)
        try:
            return onnx_backend.ensure_export(self.source, self.identity, target, self.backend)
        except ImportError as exc:
            raise self._missing_runtime(exc) from exc
        except OSError as exc:
            raise ModelError(f"{target}: cannot write the {self.backend} export here ({exc})") from exc

    def _missing_runtime(self, exc: ImportError) -> ModelError:
        return ModelError(
            f"backend {self.backend} needs ONNX Runtime: pip install 'stancetopic[onnx]' ({exc.name})"
        )

    @property
    def model(self) -> emb.Encoder:
        """The embedder, loaded (and its dimension checked) on first use."""
        if self._model is None:
            model: emb.Encoder
            try:
                if self.backend == "torch":
                    model = emb.load(self.source)
                else:
                    model = onnx_backend.OnnxEncoder(self.export, self.threads)
            except ImportError as exc:
                raise self._missing_runtime(exc) from exc
            except OSError as exc:
                raise ModelError(str(exc)) from exc
            check_dimension(self.heads.manifest, model.get_embedding_dimension(), self.folder)
            self._model = model
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text; each distinct text is embedded at most once (see `cache.embed_through`)."""

        def encode(missing: list[str]) -> np.ndarray:
            with torch_threads(self.threads if self.backend == "torch" else None):
                return emb.encode(self.model, missing, self.batch_size)

        return embed_through(self.cache, texts, encode, self.heads.manifest.embedder.dimension)

    def predict_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities for each text."""
        return self.heads.predict_proba(self.embed(texts), texts)

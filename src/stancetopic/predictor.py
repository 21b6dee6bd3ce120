"""Text in, probabilities out: the embedder and the verified heads together.

`label` and `evaluate` both score through this class, so a model behaves the
same in the CLI as in the DVC evaluate stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stancetopic import embedder as emb
from stancetopic.cache import EmbeddingCache, text_key
from stancetopic.model import Heads, ModelError, check_dimension, load_heads

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def embedder_source(manifest: dict, folder: Path) -> str:
    """Where the manifest's embedder lives: inside the model folder when bundled."""
    info = manifest["embedder"]
    return str(folder / info["name"]) if info.get("bundled") else info["name"]


class Predictor:
    """Scores texts with one embedder and the heads trained on its vectors.

    The embedder is loaded on first use: a run whose paragraphs are all in the
    embedding cache never imports torch, which is what makes relabelling after
    retraining the heads fast.
    """

    def __init__(
        self,
        heads: Heads,
        source: str,
        folder: Path,
        *,
        batch_size: int = 32,
        model: SentenceTransformer | None = None,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.heads = heads
        self.source = source
        self.folder = folder
        self.batch_size = batch_size
        self.cache = cache
        self._model = model
        if model is not None:
            check_dimension(heads.manifest, model.get_embedding_dimension(), folder)

    @classmethod
    def from_folder(
        cls,
        folder: Path | str,
        *,
        batch_size: int = 32,
        model: SentenceTransformer | None = None,
        cache_dir: Path | None = None,
        lazy: bool = False,
    ) -> Predictor:
        """Verified heads plus their embedder (given, loaded now, or when `lazy` on first use).

        With `cache_dir`, embeddings are cached there under the embedder's digest.
        """
        folder = Path(folder)
        heads = load_heads(folder)
        source = embedder_source(heads.manifest, folder)
        cache = None
        if cache_dir is not None:
            cache = EmbeddingCache(cache_dir, emb.identity(source), heads.manifest["embedder"]["dimension"])
        predictor = cls(heads, source, folder, batch_size=batch_size, model=model, cache=cache)
        if not lazy:
            _ = predictor.model
        return predictor

    @property
    def model(self) -> SentenceTransformer:
        """The embedder, loaded (and its dimension checked) on first use."""
        if self._model is None:
            try:
                model = emb.load(self.source)
            except OSError as exc:
                raise ModelError(str(exc)) from exc
            check_dimension(self.heads.manifest, model.get_embedding_dimension(), self.folder)
            self._model = model
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text; each distinct text is embedded at most once.

        Texts are looked up by hash in the cache first; only the misses, once
        each, go through the embedder, and are then stored.
        """
        keys = [text_key(text) for text in texts]
        vectors = self.cache.get(list(set(keys))) if self.cache else {}
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in vectors}
        if missing:
            encoded = emb.encode(self.model, list(missing.values()), self.batch_size)
            fresh = dict(zip(missing, encoded, strict=True))
            if self.cache:
                self.cache.put(fresh)
            vectors.update(fresh)
        if not keys:
            return np.zeros((0, self.heads.manifest["embedder"]["dimension"]), dtype=np.float32)
        return np.stack([vectors[key] for key in keys])

    def predict_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities for each text."""
        return self.heads.predict_proba(self.embed(texts), texts)

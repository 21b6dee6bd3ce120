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
from stancetopic.model import Heads, check_dimension, load_heads

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def embedder_source(manifest: dict, folder: Path) -> str:
    """Where the manifest's embedder lives: inside the model folder when bundled."""
    info = manifest["embedder"]
    return str(folder / info["name"]) if info.get("bundled") else info["name"]


class Predictor:
    """Scores texts with one embedder and the heads trained on its vectors."""

    def __init__(
        self,
        heads: Heads,
        model: SentenceTransformer,
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.heads = heads
        self.model = model
        self.batch_size = batch_size
        self.cache = cache

    @classmethod
    def from_folder(
        cls,
        folder: Path | str,
        *,
        batch_size: int = 32,
        model: SentenceTransformer | None = None,
        cache_dir: Path | None = None,
    ) -> Predictor:
        """Load verified heads and their embedder (or reuse an already loaded one).

        With `cache_dir`, embeddings are cached there under the embedder's digest.
        """
        folder = Path(folder)
        heads = load_heads(folder)
        source = embedder_source(heads.manifest, folder)
        if model is None:
            model = emb.load(source)
        dimension = model.get_embedding_dimension()
        check_dimension(heads.manifest, dimension, folder)
        cache = EmbeddingCache(cache_dir, emb.identity(source), dimension) if cache_dir else None
        return cls(heads, model, batch_size, cache)

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
            return emb.encode(self.model, [], self.batch_size)
        return np.stack([vectors[key] for key in keys])

    def predict_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities for each text."""
        return self.heads.predict_proba(self.embed(texts))

"""Text in, probabilities out: the embedder and the verified heads together.

`label` and `evaluate` both score through this class, so a model behaves the
same in the CLI as in the DVC evaluate stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stancetopic import embedder as emb
from stancetopic.model import Heads, check_dimension, load_heads

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def embedder_source(manifest: dict, folder: Path) -> str:
    """Where the manifest's embedder lives: inside the model folder when bundled."""
    info = manifest["embedder"]
    return str(folder / info["name"]) if info.get("bundled") else info["name"]


class Predictor:
    """Scores texts with one embedder and the heads trained on its vectors."""

    def __init__(self, heads: Heads, model: SentenceTransformer, batch_size: int = 32) -> None:
        self.heads = heads
        self.model = model
        self.batch_size = batch_size

    @classmethod
    def from_folder(
        cls,
        folder: Path | str,
        *,
        batch_size: int = 32,
        model: SentenceTransformer | None = None,
    ) -> Predictor:
        """Load verified heads and their embedder (or reuse an already loaded one)."""
        folder = Path(folder)
        heads = load_heads(folder)
        if model is None:
            model = emb.load(embedder_source(heads.manifest, folder))
        check_dimension(heads.manifest, model.get_embedding_dimension(), folder)
        return cls(heads, model, batch_size)

    def embed(self, texts: list[str]) -> np.ndarray:
        return emb.encode(self.model, texts, self.batch_size)

    def predict_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stance and topic probabilities for each text."""
        return self.heads.predict_proba(self.embed(texts))

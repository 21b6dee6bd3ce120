"""Stage `embed`: encode the three splits with the embedder in models/embedder/.

Usage: python train/embed.py   (reads params.yaml: embed.batch_size, embed.cache)
Writes one float32 .npy per split, so retraining a head never re-embeds. With
`embed.cache` the vectors also go to the embedding cache `label` uses
($XDG_CACHE_HOME/stancetopic), keyed by the embedder's digest: after new
fixture lines, only the texts this embedder has not embedded before are
encoded. A cached vector can differ from a fresh one in the last bits; set
`embed.cache: false` for a run that embeds everything from scratch.
"""

import sys
from pathlib import Path

import numpy as np
import yaml

from stancetopic import embedder
from stancetopic.cache import default_dir, embed_through, open_cache
from stancetopic.fixtures import read_labelled

PREPARED = Path("data/prepared")
EMBEDDER = Path("models/embedder")
OUT = Path("data/embeddings")


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())["embed"]
    model = embedder.load(str(EMBEDDER))
    size = embedder.dimension(model)
    cache = open_cache(default_dir(), embedder.identity(str(EMBEDDER)), size) if params["cache"] else None
    OUT.mkdir(parents=True, exist_ok=True)
    encoded = 0

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal encoded
        encoded += len(texts)
        return embedder.encode(model, texts, params["batch_size"])

    for split in ("train", "calib", "test"):
        texts = [r["text"] for r in read_labelled([PREPARED / f"{split}.jsonl"])]
        vectors = embed_through(cache, texts, encode, size)
        np.save(OUT / f"{split}.npy", vectors)
        print(f"embed: {split} {vectors.shape[0]} x {vectors.shape[1]}")
    print(
        f"embed: {encoded} texts encoded, the others from the cache"
        if cache
        else f"embed: {encoded} texts encoded"
    )
    if cache:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

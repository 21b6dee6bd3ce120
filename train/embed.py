"""Stage `embed`: encode the three splits and the article fixtures' units with models/embedder/.

Usage: python train/embed.py   (reads params.yaml: embed.*, train.articles)
Writes one float32 .npy per split, and articles.npy (every unit of every
article, in `articles.article_units` order), so retraining a head never
re-embeds and the `train` stage never loads the embedder. With
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
from stancetopic.articles import article_units, read_articles
from stancetopic.cache import default_dir, embed_through, open_cache
from stancetopic.fixtures import LabelledDataError, read_labelled

PREPARED = Path("data/prepared")
EMBEDDER = Path("models/embedder")
OUT = Path("data/embeddings")
SPLITS = ("train", "calib", "test")


def main() -> int:
    everything = yaml.safe_load(Path("params.yaml").read_text())
    params = everything["embed"]
    model = embedder.load(str(EMBEDDER))
    size = embedder.dimension(model)
    cache = open_cache(default_dir(), embedder.identity(str(EMBEDDER)), size) if params["cache"] else None
    OUT.mkdir(parents=True, exist_ok=True)
    encoded = 0

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal encoded
        encoded += len(texts)
        return embedder.encode(model, texts, params["batch_size"])

    parts = {split: [r["text"] for r in read_labelled([PREPARED / f"{split}.jsonl"])] for split in SPLITS}
    try:
        articles = read_articles(sorted(Path(everything["train"]["articles"]).glob("*.jsonl")))
    except LabelledDataError as exc:
        print(exc, file=sys.stderr)
        print(f"embed: {len(exc.problems)} problem(s) in the article fixtures", file=sys.stderr)
        return 1
    parts["articles"] = [text for units in article_units(articles) for text in units]
    for name, texts in parts.items():
        vectors = embed_through(cache, texts, encode, size)
        np.save(OUT / f"{name}.npy", vectors)
        print(f"embed: {name} {vectors.shape[0]} x {vectors.shape[1]}")
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

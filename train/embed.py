"""Stage `embed`: encode both splits with the embedder in models/embedder/.

Usage: python train/embed.py   (reads params.yaml: embed.batch_size)
Writes one float32 .npy per split, so retraining a head never re-embeds.
"""

import sys
from pathlib import Path

import numpy as np
import yaml

from stancetopic import embedder
from stancetopic.fixtures import read_labelled

PREPARED = Path("data/prepared")
EMBEDDER = Path("models/embedder")
OUT = Path("data/embeddings")


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())["embed"]
    model = embedder.load(str(EMBEDDER))
    OUT.mkdir(parents=True, exist_ok=True)
    for split in ("train", "calib", "test"):
        texts = [r["text"] for r in read_labelled([PREPARED / f"{split}.jsonl"])]
        vectors = embedder.encode(model, texts, params["batch_size"])
        np.save(OUT / f"{split}.npy", vectors)
        print(f"embed: {split} {vectors.shape[0]} x {vectors.shape[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

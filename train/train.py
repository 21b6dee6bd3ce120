"""Stage `train`: fit the stance and topic heads on the embeddings, save them.

Usage: python train/train.py   (reads params.yaml: train.*, embed.model)
Writes models/stance.joblib, models/topic.joblib and models/manifest.json.
"""

import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import yaml

from stancetopic import embedder, model
from stancetopic.digest import sha256_folder
from stancetopic.fixtures import read_labelled
from stancetopic.heads import make_head
from stancetopic.labels import STANCES, TOPICS

PACKAGES = (
    "stancetopic",
    "torch",
    "sentence-transformers",
    "transformers",
    "scikit-learn",
    "numpy",
    "joblib",
)


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())
    train = params["train"]
    records = read_labelled([Path("data/prepared/train.jsonl")])
    vectors = np.load("data/embeddings/train.npy")
    heads = {}
    for head, labels in (("stance", STANCES), ("topic", TOPICS)):
        estimator = make_head(train[head], train["seed"])
        estimator.fit(vectors, [r[head] for r in records])
        if set(estimator.classes_) != set(labels):
            print(f"train: the training split lacks some {head} labels", file=sys.stderr)
            return 1
        heads[head] = estimator
    manifest = {
        "format": 1,
        # The heads' own (sorted) class order: probability columns follow it.
        "labels": {head: [str(c) for c in est.classes_] for head, est in heads.items()},
        "embedder": {
            "name": params["embed"]["model"],
            "dimension": int(vectors.shape[1]),
            "sha256": embedder.identity(params["embed"]["model"]),
            "bundled": False,
        },
        "params": {"train": train, "embed": params["embed"], "prepare": params["prepare"]},
        "fixtures_sha256": sha256_folder(params["prepare"]["fixtures"], "*.jsonl"),
        "train_size": len(records),
        "versions": {name: version(name) for name in PACKAGES},
    }
    model.save(Path("models"), heads, manifest)
    print(f"train: saved heads for {len(records)} paragraphs to models/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

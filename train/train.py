"""Stage `train`: fit the stance and topic heads on the embeddings, save them.

Usage: python train/train.py   (reads params.yaml: train.*, and the others for the record)
Writes models/stance.joblib, models/topic.joblib and models/manifest.json; the
manifest also checksums every file of models/embedder/.
"""

import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import yaml

from stancetopic import model
from stancetopic.digest import sha256_folder
from stancetopic.fixtures import read_labelled
from stancetopic.heads import (
    calibrate,
    choose_ngram_weight,
    features,
    make_head,
    make_ngrams,
    uncertain_threshold,
)
from stancetopic.labels import STANCES, TOPICS

EMBEDDER = Path("models/embedder")
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
    calib = read_labelled([Path("data/prepared/calib.jsonl")])
    calib_vectors = np.load("data/embeddings/calib.npy")
    heads: dict = {}
    texts = [r["text"] for r in records]
    calib_texts = [r["text"] for r in calib]
    ngrams = make_ngrams().fit(texts)
    weights = {
        head: choose_ngram_weight(head, train, ngrams, records, vectors, calib, calib_vectors)
        for head in ("stance", "topic")
    }
    heads["ngrams"] = ngrams  # saved even when both weights are 0: it is a declared DVC output
    x = {
        head: (features(vectors, texts, ngrams, w), features(calib_vectors, calib_texts, ngrams, w))
        for head, w in weights.items()
    }
    # One threshold per head: stance has two classes and topic five, so a pooled
    # threshold would flag almost no stance at all.
    thresholds = dict.fromkeys(("stance", "topic"), params["label"]["uncertain_below"])
    for head, labels in (("stance", STANCES), ("topic", TOPICS)):
        train_x, calib_x = x[head]
        estimator = make_head(train[head], train["seed"])
        estimator.fit(train_x, [r[head] for r in records])
        if set(estimator.classes_) != set(labels):
            print(f"train: the training split lacks some {head} labels", file=sys.stderr)
            return 1
        method = train[head]["calibration"]
        if calib and method != "none":
            gold = [r[head] for r in calib]
            estimator = calibrate(estimator, calib_x, gold, method)
            proba = estimator.predict_proba(calib_x)
            correct = estimator.classes_[proba.argmax(axis=1)] == np.array(gold)
            target = params["label"]["target_accuracy"]
            thresholds[head] = uncertain_threshold(proba.max(axis=1), correct, target)
        heads[head] = estimator
    manifest = {
        "format": model.FORMAT,
        # The heads' own (sorted) class order: probability columns follow it.
        "labels": {head: [str(c) for c in heads[head].classes_] for head in ("stance", "topic")},
        "ngram_weights": weights,
        "embedder": {
            "name": EMBEDDER.name,
            "bundled": True,
            "base": params["embed"]["model"],
            "finetuned": params["finetune"]["enabled"],
            "dimension": int(vectors.shape[1]),
            "sha256": sha256_folder(EMBEDDER),
        },
        "params": {stage: params[stage] for stage in ("prepare", "embed", "finetune", "train")},
        "uncertain_below": thresholds,
        "backend": params["label"]["backend"],
        "calib_size": len(calib),
        "fixtures_sha256": sha256_folder(params["prepare"]["fixtures"], "*.jsonl"),
        "train_size": len(records),
        "versions": {name: version(name) for name in PACKAGES},
    }
    # scikit-learn caches id(stop_words), a memory address, on the vectorizer at
    # every transform; it is only a cache, and dropping it keeps the pickle
    # byte-identical from run to run.
    vars(ngrams).pop("_stop_words_id", None)
    embedder_files = sorted(p for p in EMBEDDER.rglob("*") if p.is_file())
    model.save(EMBEDDER.parent, heads, manifest, embedder_files)
    print(
        f"train: saved heads for {len(records)} paragraphs to models/ "
        f"(n-gram weights {weights}, uncertain below {thresholds})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

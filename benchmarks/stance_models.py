"""Benchmark: TF-IDF, frozen, every-layer and top-layer fine-tuned embeddings, and the pipeline's heads.

Usage: python benchmarks/stance_models.py [--holdout data/holdout/holdout.jsonl]

Trains all five side by side in one run (logistic-regression heads
throughout), on the split `dvc repro` made (data/prepared/), with the params
in params.yaml, and scores each on the test split and on the held-out set
written independently of the fixtures. Prints stance and topic macro-F1,
stance macro-F1 on hard-tagged lines, and stance accuracy per hard tag.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score

from stancetopic import embedder
from stancetopic.finetune import finetune
from stancetopic.fixtures import read_labelled
from stancetopic.heads import choose_ngram_weight, features, make_head, make_ngrams, training_rows
from stancetopic.labels import UNVERIFIED

ROOT = Path(__file__).resolve().parents[1]


def scores(records: list[dict], stance: list[str], topic: list[str]) -> dict[str, float]:
    gold_s = [r["stance"] for r in records]
    gold_t = [r["topic"] for r in records]
    decided = [i for i, g in enumerate(gold_s) if g != UNVERIFIED]
    hard = [i for i in decided if records[i].get("hard")]
    row = {
        "stance F1": f1_score([gold_s[i] for i in decided], [stance[i] for i in decided], average="macro"),
        "stance F1 hard": f1_score([gold_s[i] for i in hard], [stance[i] for i in hard], average="macro"),
        "topic F1": f1_score(gold_t, topic, average="macro"),
    }
    for tag in sorted({records[i]["hard"] for i in hard}):
        rows = [i for i in hard if records[i]["hard"] == tag]
        row[f"  {tag} (n={len(rows)})"] = float(np.mean([stance[i] == gold_s[i] for i in rows]))
    return row


def fit_predict(train_x, train: list[dict], tests: list, params: dict) -> list[tuple[list[str], list[str]]]:
    heads = {}
    for head in ("stance", "topic"):
        rows, labels, weights = training_rows(train, head)
        heads[head] = make_head(params["train"][head], params["train"]["seed"]).fit(
            train_x[rows], labels, sample_weight=weights
        )
    return [(list(heads["stance"].predict(x)), list(heads["topic"].predict(x))) for x in tests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", type=Path, default=ROOT / "data" / "holdout" / "holdout.jsonl")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    train = read_labelled([ROOT / "data/prepared/train.jsonl"])
    evaluations = {"test": read_labelled([ROOT / "data/prepared/test.jsonl"])}
    if args.holdout.exists():
        evaluations["holdout"] = read_labelled([args.holdout])
    texts = [[r["text"] for r in records] for records in evaluations.values()]
    train_texts = [r["text"] for r in train]
    columns: dict[str, dict[str, dict[str, float]]] = {}

    started = time.perf_counter()
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    train_x = tfidf.fit_transform(train_texts)
    predictions = fit_predict(train_x, train, [tfidf.transform(t) for t in texts], params)
    columns["TF-IDF + LR"] = {
        n: scores(evaluations[n], *p) for n, p in zip(evaluations, predictions, strict=True)
    }
    print(f"TF-IDF + LR: {time.perf_counter() - started:.0f} s")

    batch = params["embed"]["batch_size"]
    settings = params["finetune"]
    variants = {
        "frozen + LR": None,
        "every layer fine-tuned + LR": {**settings, "train_layers": 0},
        "fine-tuned (params.yaml) + LR": settings,
    }
    for name, variant in variants.items():
        started = time.perf_counter()
        model = embedder.load(params["embed"]["model"])
        if variant is not None:
            finetune(model, train, variant)
        train_x = embedder.encode(model, train_texts, batch)
        evaluation_x = [embedder.encode(model, t, batch) for t in texts]
        predictions = fit_predict(train_x, train, evaluation_x, params)
        columns[name] = {n: scores(evaluations[n], *p) for n, p in zip(evaluations, predictions, strict=True)}
        print(f"{name}: {time.perf_counter() - started:.0f} s (fine-tuning included)")
    print()

    # The pipeline's heads, uncalibrated: n-grams next to the fine-tuned
    # embedding (`model`, `train_x` and `evaluation_x` are still the last
    # variant's), each head's weight chosen on the calib slice as `train` does.
    calib = read_labelled([ROOT / "data/prepared/calib.jsonl"])
    calib_x = embedder.encode(model, [r["text"] for r in calib], batch)
    ngrams = make_ngrams().fit(train_texts)
    predicted: dict[str, list[list[str]]] = {}
    weights = {}
    for head in ("stance", "topic"):
        weights[head] = choose_ngram_weight(head, params["train"], ngrams, train, train_x, calib, calib_x)
        rows, labels, sample_weight = training_rows(train, head)
        estimator = make_head(params["train"][head], params["train"]["seed"]).fit(
            features(train_x, train_texts, ngrams, weights[head])[rows], labels, sample_weight=sample_weight
        )
        predicted[head] = [
            list(estimator.predict(features(x, t, ngrams, weights[head])))
            for x, t in zip(evaluation_x, texts, strict=True)
        ]
    columns[f"pipeline heads (n-gram weights {weights['stance']:g}/{weights['topic']:g})"] = {
        n: scores(evaluations[n], s, t)
        for n, s, t in zip(evaluations, predicted["stance"], predicted["topic"], strict=True)
    }

    names = list(columns)
    for split in evaluations:
        print(f"## {split} ({len(evaluations[split])} paragraphs)\n")
        print("| metric | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for metric in columns[names[0]][split]:
            cells = " | ".join(f"{columns[n][split].get(metric, float('nan')):.3f}" for n in names)
            print(f"| {metric} | {cells} |")
        print()


if __name__ == "__main__":
    main()

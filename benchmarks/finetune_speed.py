"""Benchmark: fine-tuning recipes side by side, time against quality.

Usage: python benchmarks/finetune_speed.py [--rows N] [--variant '{"train_layers": 4}' ...]

Fine-tunes a fresh copy of the base embedder once per recipe in one run, on
the train split `dvc repro` made (data/prepared/; the first ROWS lines when
given), then fits the pipeline's heads on it exactly as the `train` stage
does (`heads.fit_heads`) and scores the calib slice and the held-out set
(stance and topic macro-F1). The baseline is params.yaml's recipe; the
other rows change it by the `--variant` overrides (default: only the top two
layers trained, on cached outputs of the frozen four). Choices are made on
these calib and held-out figures, never on the test split.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import yaml

from stancetopic import embedder
from stancetopic.finetune import finetune
from stancetopic.fixtures import read_labelled
from stancetopic.heads import fit_heads

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="train lines to fine-tune on (0: all)")
    parser.add_argument("--variant", action="append", help="JSON overrides of finetune params")
    parser.add_argument("--holdout", type=Path, default=ROOT / "data" / "holdout" / "holdout.jsonl")
    args = parser.parse_args()
    os.chdir(ROOT)
    params = yaml.safe_load(Path("params.yaml").read_text())
    train = read_labelled([Path("data/prepared/train.jsonl")])
    train = train[: args.rows] if args.rows else train
    sets = {
        "calib": read_labelled([Path("data/prepared/calib.jsonl")]),
        "held-out": read_labelled([args.holdout]),
    }
    recipes: dict[str, dict] = {"params.yaml (baseline)": {}}
    recipes |= {variant: json.loads(variant) for variant in args.variant or ['{"train_layers": 2}']}
    print(f"{len(train)} train lines, {os.cpu_count()} CPUs, finetune params: {params['finetune']}")
    print(
        f"{'recipe':34}{'seconds':>9}{'ratio':>7}"
        + "".join(f"{s + ' ' + h:>18}" for s in sets for h in ("stance", "topic"))
    )
    baseline = None
    for name, overrides in recipes.items():
        model = embedder.load(params["embed"]["model"])
        start = time.perf_counter()
        finetune(model, train, {**params["finetune"], **overrides})
        seconds = time.perf_counter() - start
        baseline = baseline or seconds
        vectors = {s: embedder.encode(model, [r["text"] for r in records]) for s, records in sets.items()}
        fitted = fit_heads(
            train,
            embedder.encode(model, [r["text"] for r in train]),
            sets["calib"],
            vectors["calib"],
            params["train"],
            params["label"],
        )
        cells = [
            fitted.macro_f1(head, records, vectors[s])
            for s, records in sets.items()
            for head in ("stance", "topic")
        ]
        print(
            f"{name:34}{seconds:9.1f}{seconds / baseline:7.2f}" + "".join(f"{c:18.3f}" for c in cells),
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Benchmark: fine-tuning time with random batches against length-grouped ones.

Usage: python benchmarks/finetune_speed.py [--rows 320]

Fine-tunes a fresh copy of the base embedder twice in one run, both phases
with the params in params.yaml, on the first ROWS lines of the train split
`dvc repro` made (data/prepared/train.jsonl): once with random batches (the
baseline), once with `group_by_length`. Prints seconds, the padded tokens of
one phase-2 epoch under one shuffle of each kind (each text padded to its
batch's longest) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from datasets import Dataset

from stancetopic import embedder
from stancetopic.finetune import LengthGroupedBatchSampler, finetune
from stancetopic.fixtures import read_labelled

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parents[1]


def padded_tokens(model: SentenceTransformer, texts: list[str], batches: list[list[int]]) -> int:
    """Tokens through the encoder when every text is padded to its batch's longest."""
    lengths = [len(ids) for ids in model.tokenizer(texts)["input_ids"]]
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=320, help="train lines to fine-tune on")
    args = parser.parse_args()
    os.chdir(ROOT)
    params = yaml.safe_load(Path("params.yaml").read_text())
    records = read_labelled([Path("data/prepared/train.jsonl")])[: args.rows]
    texts = [r["text"] for r in records]
    size = params["finetune"]["batch_size"]
    dataset = Dataset.from_dict({"text": texts, "label": list(range(len(texts)))})
    grouped = list(LengthGroupedBatchSampler(dataset, batch_size=size, drop_last=False, seed=0))
    shuffled = random.Random(0).sample(range(len(texts)), len(texts))
    random_batches = [shuffled[i : i + size] for i in range(0, len(texts), size)]

    seconds = {}
    for name, group in (("random batches", False), ("length-grouped", True)):
        model = embedder.load(params["embed"]["model"])
        with tempfile.TemporaryDirectory() as workdir:
            start = time.perf_counter()
            finetune(model, records, {**params["finetune"], "group_by_length": group}, Path(workdir))
            seconds[name] = time.perf_counter() - start
    tokens = {
        "random batches": padded_tokens(model, texts, random_batches),
        "length-grouped": padded_tokens(model, texts, grouped),
    }
    print(f"{len(records)} train lines, batch size {size}, {os.cpu_count()} CPUs")
    print(f"{'':16}{'seconds':>9}{'ratio':>7}{'tokens/epoch':>18}{'ratio':>7}")
    for name in seconds:
        print(
            f"{name:16}{seconds[name]:9.1f}{seconds[name] / seconds['random batches']:7.2f}"
            f"{tokens[name]:18,}{tokens[name] / tokens['random batches']:7.2f}"
        )


if __name__ == "__main__":
    main()

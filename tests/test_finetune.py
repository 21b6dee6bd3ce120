"""Fine-tuning: each phase moves the real embedder the way it is meant to."""

from __future__ import annotations

import numpy as np
import pytest

from stancetopic import embedder
from stancetopic.finetune import LengthGroupedBatchSampler, finetune, make_pairs
from stancetopic.fixtures import read_labelled

from .conftest import TINY

PARAMS = {
    "seed": 7,
    "stance_weight": 1.0,  # stance only, so the test can measure it alone
    "batch_size": 8,
    "group_by_length": True,
    "epochs": 1,
    "pairs_per_example": 4,
    "learning_rate": 1e-4,  # a few steps on 40 lines: larger than the pipeline's
    "label_epochs": 3,
    "label_learning_rate": 5e-5,
}


def stance_gap(vectors: np.ndarray, stances: list[str]) -> float:
    """Mean cosine of same-stance pairs minus that of opposite-stance pairs."""
    similarity = vectors @ vectors.T
    same = np.equal.outer(stances, stances)
    off_diagonal = ~np.eye(len(stances), dtype=bool)
    return float(similarity[same & off_diagonal].mean() - similarity[~same].mean())


@pytest.mark.parametrize("phase", ["pairs", "labels"])
def test_each_phase_pulls_paragraphs_of_one_stance_together(tmp_path, phase):
    records = read_labelled([TINY])
    texts, stances = [r["text"] for r in records], [r["stance"] for r in records]
    model = embedder.load("all-MiniLM-L6-v2")  # fresh: fine-tuning changes it in place
    before = stance_gap(embedder.encode(model, texts), stances)
    only = {"label_epochs": 0} if phase == "pairs" else {"epochs": 0}
    finetune(model, records, {**PARAMS, **only}, tmp_path)
    after = stance_gap(embedder.encode(model, texts), stances)
    assert after > before + 0.05, (before, after)


def test_pairs_are_reproducible_and_pair_every_minimal_pair():
    records = [
        {"id": "x-1a", "text": "a", "stance": "affirms", "topic": "courts"},
        {"id": "x-1b", "text": "b", "stance": "denies", "topic": "courts"},
        {"id": "x-2", "text": "c", "stance": "affirms", "topic": "economy"},
        {"id": "x-3", "text": "d", "stance": "denies", "topic": "economy"},
    ]
    pairs = make_pairs(records, 2, 0.5, seed=3)
    assert make_pairs(records, 2, 0.5, seed=3) == pairs
    assert (pairs["sentence1"][0], pairs["sentence2"][0], pairs["score"][0]) == ("a", "b", 0.5)
    assert set(pairs["score"]) <= {0.0, 0.5, 1.0}  # graded: stance and topic each count half


def padded_length(batches: list[list[int]], lengths: list[int]) -> int:
    """What the encoder processes: every row padded to its batch's longest."""
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


def test_length_grouped_batches_cover_every_row_once_with_less_padding():
    from datasets import Dataset

    rows = read_labelled([TINY]) * 10  # 400 rows: several windows of 8 batches
    dataset = Dataset.from_dict({"text": [r["text"] for r in rows], "label": list(range(len(rows)))})
    sampler = LengthGroupedBatchSampler(dataset, batch_size=8, drop_last=False, seed=7)
    first = list(sampler)
    assert sorted(i for batch in first for i in batch) == list(range(len(rows)))
    assert len(first) == len(sampler)
    assert list(sampler) == first  # reproducible for a seed and epoch
    sampler.set_epoch(1)
    assert list(sampler) != first  # a new order each epoch
    lengths = [len(r["text"]) for r in rows]
    random_order = np.random.default_rng(7).permutation(len(rows)).tolist()
    random_batches = [random_order[i : i + 8] for i in range(0, len(rows), 8)]
    assert padded_length(first, lengths) < 0.9 * padded_length(random_batches, lengths)


def test_offline_mode_is_on_before_the_hub_is_imported():
    """The hub reads HF_HUB_OFFLINE once, at import, and saved tokenizer configs
    record it: importing the package must switch it on whatever the caller's
    environment, or `dvc repro` models would differ between shells."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = "import stancetopic.finetune, huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"

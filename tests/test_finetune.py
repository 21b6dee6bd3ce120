"""Fine-tuning: each phase moves the real embedder the way it is meant to."""

from __future__ import annotations

import numpy as np
import pytest

from stancetopic import embedder
from stancetopic.finetune import finetune, make_pairs
from stancetopic.fixtures import read_labelled

from .conftest import TINY

PARAMS = {
    "seed": 7,
    "stance_weight": 1.0,  # stance only, so the test can measure it alone
    "batch_size": 8,
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

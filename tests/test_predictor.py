"""The predictor: embedder plus verified heads, with a cache that only ever saves time."""

from __future__ import annotations

import logging

import numpy as np
import torch

from stancetopic.cache import FILE
from stancetopic.predictor import Predictor

TEXTS = [
    "The appeals court overturned the conviction of the former mayor.",
    "The ministry denied reports that the frigate order had been cancelled.",
    "The appeals court overturned the conviction of the former mayor.",
]


def test_probabilities_follow_the_manifest_label_order(model, embedder_model):
    predictor = Predictor.from_folder(model, model=embedder_model)
    stance, topic = predictor.predict_proba(TEXTS)
    assert predictor.heads.stances == ["affirms", "denies"]
    assert predictor.heads.topics == ["courts", "defence", "economy", "migration", "other"]
    assert stance.shape == (3, 2) and topic.shape == (3, 5)
    assert np.array_equal(stance[0], stance[2])  # one text, one row, however often it comes
    assert np.allclose(stance.sum(axis=1), 1) and np.allclose(topic.sum(axis=1), 1)


def test_a_cached_run_never_loads_the_embedder(model, embedder_model, tmp_path):
    first = Predictor.from_folder(model, model=embedder_model, cache_dir=tmp_path)
    expected = first.embed(TEXTS)
    again = Predictor.from_folder(model, cache_dir=tmp_path, lazy=True)
    assert np.array_equal(again.embed(TEXTS), expected)
    assert again._model is None


def test_a_corrupt_cache_is_left_out_and_the_run_goes_on(model, embedder_model, tmp_path, caplog):
    (tmp_path / FILE).write_bytes(b"\x00garbage" * 512)
    with caplog.at_level(logging.WARNING, logger="stancetopic"):
        predictor = Predictor.from_folder(model, model=embedder_model, cache_dir=tmp_path)
    assert predictor.cache is None and len(caplog.records) == 1
    assert predictor.predict_proba(TEXTS[:1])[0].shape == (1, 2)


def test_threads_are_set_only_while_embedding(model):
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # the caller's own setting
    try:
        predictor = Predictor.from_folder(model, threads=1)  # loads its own embedder
        predictor.embed(["A sentence to embed on one thread."])
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)

"""The heads' recipe on made-up vectors: `unverified` lines, thresholds, n-gram weights (no model needed)."""

from __future__ import annotations

import numpy as np

from stancetopic.heads import fit_heads, training_rows
from stancetopic.labels import TOPICS

TRAIN = {
    "seed": 0,
    "stance": {"C": 4.0, "max_iter": 2000, "calibration": "sigmoid", "ngram_weights": [0.0]},
    "topic": {"C": 4.0, "max_iter": 2000, "calibration": "temperature", "ngram_weights": [0.0]},
}
LABEL = {"uncertain_below": 0.6, "target_accuracy": 0.9, "unverified_flagged": 0.7}


def corpus(n: int, seed: int) -> tuple[list[dict], np.ndarray]:
    """Stance along axis 0 (affirms +, denies -, unverified 0), topic one-hot on axes 1-5, plus noise."""
    rng = np.random.default_rng(seed)
    records, rows = [], []
    for i in range(n):
        stance = ("affirms", "denies", "unverified")[i % 3]
        topic = TOPICS[i % len(TOPICS)]
        vector = rng.normal(0, 0.3, 8)
        vector[0] += {"affirms": 2.0, "denies": -2.0, "unverified": 0.0}[stance]
        vector[1 + TOPICS.index(topic)] += 2.0
        records.append({"id": f"x-{i}", "text": f"{stance} {topic} {i}", "stance": stance, "topic": topic})
        rows.append(vector)
    return records, np.array(rows)


def test_an_unverified_line_is_two_half_weight_rows_for_stance_only():
    records = [{"stance": "affirms", "topic": "other"}, {"stance": "unverified", "topic": "courts"}]
    assert training_rows(records, "stance")[:2] == ([0, 1, 1], ["affirms", "affirms", "denies"])
    assert training_rows(records, "stance")[2].tolist() == [1.0, 0.5, 0.5]
    assert training_rows(records, "topic")[:2] == ([0, 1], ["other", "courts"])


def test_unverified_lines_score_near_even_and_raise_the_stance_threshold():
    records, vectors = corpus(300, seed=1)
    calib, calib_vectors = corpus(150, seed=2)
    fitted = fit_heads(records, vectors, calib, calib_vectors, TRAIN, LABEL)
    stance = fitted.estimators["stance"]
    unverified = [i for i, r in enumerate(calib) if r["stance"] == "unverified"]
    scores = stance.predict_proba(calib_vectors[unverified]).max(axis=1)
    assert scores.mean() < 0.75  # the decided lines score near 1
    # The threshold sits at or above the score under which 70% of the unverified calib lines fall.
    assert np.mean(scores < fitted.uncertain_below["stance"]) >= 0.7
    assert fitted.ngram_weights == {"stance": 0.0, "topic": 0.0}

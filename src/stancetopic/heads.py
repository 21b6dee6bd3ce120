"""The scikit-learn heads, built from params.yaml so every knob is versioned."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression


def make_head(params: dict, seed: int) -> LogisticRegression:
    """A multinomial logistic regression head on the sentence embeddings.

    Linear on purpose: it trains in seconds on 2 cores, gives probabilities for
    every class, and pooling long paragraphs' windows stays exact (see embedder).
    """
    return LogisticRegression(
        C=params["C"],
        max_iter=params["max_iter"],
        class_weight=params.get("class_weight"),
        random_state=seed,
    )

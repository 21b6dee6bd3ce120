"""The scikit-learn heads, built from params.yaml so every knob is versioned."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

THRESHOLDS = np.round(np.arange(0.50, 0.96, 0.01), 2)


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


def calibrate(
    head: LogisticRegression, x: np.ndarray, y: list[str], method: str
) -> CalibratedClassifierCV | LogisticRegression:
    """Recalibrate a fitted head on held-out vectors it and the embedder never saw.

    A head on fine-tuned embeddings is overconfident: the embedder has pulled
    its own training paragraphs apart. Fitting the calibration map on a separate
    slice fixes that without touching the test split.
    """
    folds = min(5, *Counter(y).values())  # the calibration maps are fitted and averaged by fold
    if folds < 2:
        return head
    return CalibratedClassifierCV(FrozenEstimator(head), method=method, cv=folds).fit(x, y)


def uncertain_threshold(confidence: np.ndarray, correct: np.ndarray, target_accuracy: float) -> float:
    """The lowest score above which held-out predictions reach `target_accuracy`.

    Paragraphs scoring under it are flagged `uncertain`; with calibrated scores
    this is where the reliability curve crosses the target.
    """
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        if kept.any() and correct[kept].mean() >= target_accuracy:
            return float(threshold)
    return float(THRESHOLDS[-1])

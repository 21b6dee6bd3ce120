"""The scikit-learn heads, built from params.yaml so every knob is versioned."""

from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

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


def make_ngrams() -> TfidfVectorizer:
    """Word 1-2-gram TF-IDF, fitted on the training texts and shared by both heads.

    Denial is carried by a small vocabulary ("quashed", "rejected", "did not
    deny") and topics by domain words ("tariff", "asylum", "frigate") that
    n-grams see directly and a sentence embedding blurs; the embedding brings
    the rest of the meaning.
    """
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def features(
    vectors: np.ndarray, texts: list[str], ngrams: TfidfVectorizer | None, weight: float
) -> np.ndarray | sparse.csr_matrix:
    """A head's input: the embedding, plus weighted n-grams when its weight is not 0."""
    if ngrams is None or weight == 0:
        return vectors
    return sparse.hstack([sparse.csr_matrix(vectors), weight * ngrams.transform(texts)]).tocsr()


def choose_ngram_weight(
    head: str,
    train: dict,
    ngrams: TfidfVectorizer,
    records: list[dict],
    vectors: np.ndarray,
    calib: list[dict],
    calib_vectors: np.ndarray,
) -> float:
    """Pick a head's n-gram weight on the calib slice (never the test split).

    Each candidate in `train.<head>.ngram_weights` is fitted on train and scored
    (the head's macro-F1) on calib; ties go to the smaller weight.
    """
    candidates = train[head].get("ngram_weights", [0.0])
    if not calib:
        return float(candidates[0])  # nothing to choose on
    texts, calib_texts = [r["text"] for r in records], [r["text"] for r in calib]
    gold = [r[head] for r in calib]
    best, best_score = 0.0, -1.0
    for weight in candidates:
        estimator = make_head(train[head], train["seed"]).fit(
            features(vectors, texts, ngrams, weight), [r[head] for r in records]
        )
        predicted = estimator.predict(features(calib_vectors, calib_texts, ngrams, weight))
        score = f1_score(gold, predicted, average="macro")
        if score > best_score + 1e-9:
            best, best_score = float(weight), score
    return best


def calibrate(
    head: LogisticRegression, x: np.ndarray | sparse.csr_matrix, y: list[str], method: str
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

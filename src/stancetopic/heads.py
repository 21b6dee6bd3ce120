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
    """Word 1-2-gram TF-IDF for the stance head.

    Denial is carried by a small vocabulary ("quashed", "rejected", "did not
    deny") that n-grams see directly and a sentence embedding blurs; the
    embedding brings the rest of the meaning.
    """
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def stance_features(
    vectors: np.ndarray, texts: list[str], ngrams: TfidfVectorizer | None, weight: float
) -> np.ndarray | sparse.csr_matrix:
    """The stance head's input: the embedding, plus weighted n-grams when enabled."""
    if ngrams is None or weight == 0:
        return vectors
    return sparse.hstack([sparse.csr_matrix(vectors), weight * ngrams.transform(texts)]).tocsr()


def choose_ngram_weight(
    train: dict, records: list[dict], vectors: np.ndarray, calib: list[dict], calib_vectors: np.ndarray
) -> tuple[float, TfidfVectorizer]:
    """Pick the stance head's n-gram weight on the calib slice (never the test split).

    Each candidate in `train.stance.ngram_weights` is fitted on train and scored
    (stance macro-F1) on calib; ties go to the smaller weight.
    """
    ngrams = make_ngrams().fit([r["text"] for r in records])
    if not calib:
        return float(train["stance"]["ngram_weights"][0]), ngrams  # nothing to choose on
    gold = [r["stance"] for r in calib]
    best, best_score = 0.0, -1.0
    for weight in train["stance"]["ngram_weights"]:
        x = stance_features(vectors, [r["text"] for r in records], ngrams, weight)
        head = make_head(train["stance"], train["seed"]).fit(x, [r["stance"] for r in records])
        predicted = head.predict(stance_features(calib_vectors, [r["text"] for r in calib], ngrams, weight))
        score = f1_score(gold, predicted, average="macro")
        if score > best_score + 1e-9:
            best, best_score = float(weight), score
    return best, ngrams


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

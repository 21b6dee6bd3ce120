"""The scikit-learn heads, built from params.yaml so every knob is versioned.

`fit_heads` is the whole recipe (n-gram weight, fit, calibration, threshold),
used by the `train` stage and the benchmarks alike.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from stancetopic.labels import STANCES, TOPICS, UNVERIFIED

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
    record_weights: np.ndarray | None = None,
) -> float:
    """Pick a head's n-gram weight on the calib slice (never the test split).

    Each candidate in `train.<head>.ngram_weights` is fitted on train and scored
    (the head's macro-F1) on calib; ties go to the smaller weight.
    """
    candidates = train[head].get("ngram_weights", [0.0])
    if not calib:
        return float(candidates[0])  # nothing to choose on
    texts = [r["text"] for r in records]
    rows, y, weights = training_rows(records, head, record_weights)
    decided = [i for i, r in enumerate(calib) if r[head] != UNVERIFIED]
    gold = [calib[i][head] for i in decided]
    calib_texts = [calib[i]["text"] for i in decided]
    best, best_score = 0.0, -1.0
    for weight in candidates:
        estimator = make_head(train[head], train["seed"]).fit(
            features(vectors, texts, ngrams, weight)[rows], y, sample_weight=weights
        )
        predicted = estimator.predict(features(calib_vectors[decided], calib_texts, ngrams, weight))
        score = f1_score(gold, predicted, average="macro")
        if score > best_score + 1e-9:
            best, best_score = float(weight), score
    return best


def calibrate(
    head: LogisticRegression,
    x: np.ndarray | sparse.csr_matrix,
    y: list[str],
    method: str,
    sample_weight: np.ndarray | None = None,
) -> CalibratedClassifierCV | LogisticRegression:
    """Recalibrate a fitted head on held-out vectors it and the embedder never saw.

    A head on fine-tuned embeddings is overconfident: the embedder has pulled
    its own training paragraphs apart. Fitting the calibration map on a separate
    slice fixes that without touching the test split.
    """
    folds = min(5, *Counter(y).values())  # the calibration maps are fitted and averaged by fold
    if folds < 2:
        return head
    calibrated = CalibratedClassifierCV(FrozenEstimator(head), method=method, cv=folds)
    if sample_weight is None or np.all(sample_weight == 1):
        return calibrated.fit(x, y)
    with warnings.catch_warnings():
        # The frozen head is not refitted, so only the calibration map needs the weights.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator does not appear to accept")
        return calibrated.fit(x, y, sample_weight=sample_weight)


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


class TakesNoSide:
    """A stance head whose scores lean to even odds on text that takes no side.

    Rumour reports ("reportedly", "is said to", a question headline) confirm
    nothing and deny nothing, yet a two-class head must pick one, and on real
    news it does so confidently. A second classifier, fitted on the
    `unverified` fixture lines against the rest, estimates u = P(no side), and

        P(affirms) = (1 - u) * P(affirms | a side is taken) + u * 0.5

    so such text scores near 0.5 and comes out `uncertain`, while text that
    takes a side keeps its calibrated score. The label (the argmax) never
    changes. Same interface as a fitted scikit-learn classifier.
    """

    def __init__(self, stance: Any, side: LogisticRegression) -> None:
        self.stance = stance
        self.side = side

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.stance.classes_)

    def no_side(self, x: np.ndarray | sparse.csr_matrix) -> np.ndarray:
        """u = P(the text takes no side), one per row."""
        return np.asarray(self.side.predict_proba(x)[:, list(self.side.classes_).index(True)])

    def predict_proba(self, x: np.ndarray | sparse.csr_matrix) -> np.ndarray:
        u = self.no_side(x)[:, None]
        return np.asarray((1 - u) * self.stance.predict_proba(x) + u / len(self.classes_))


def fit_no_side(
    x: np.ndarray | sparse.csr_matrix, records: list[dict], C: float, seed: int
) -> LogisticRegression | None:
    """The classifier of `TakesNoSide` (None without both kinds of lines).

    Balanced classes: `unverified` lines are one in ten, and an unbalanced fit
    leaves u small on the real rumour reports that need it most.
    """
    y = np.array([r["stance"] == UNVERIFIED for r in records])
    if not y.any() or y.all():
        return None
    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced", random_state=seed).fit(x, y)


def choose_threshold(
    estimator: Any, x: np.ndarray | sparse.csr_matrix, gold: list[str], target_accuracy: float, floor: float
) -> float:
    """A head's `uncertain` threshold on calib: the target-accuracy rule, never under `floor`.

    Our calib lines are written the way the training lines are, so the
    accuracy rule alone sets a threshold that real news, scored further from
    its training data, sails past; `floor` (`label.floors`, and for stance
    `unverified_floor`) lifts it, checked on real dev data (README, "Real news").
    """
    decided = [i for i, g in enumerate(gold) if g != UNVERIFIED]
    proba = estimator.predict_proba(x[decided])
    correct = estimator.classes_[proba.argmax(axis=1)] == np.array([gold[i] for i in decided])
    return max(floor, uncertain_threshold(proba.max(axis=1), correct, target_accuracy))


def unverified_floor(
    estimator: Any, x: np.ndarray | sparse.csr_matrix, gold: list[str], quantile: float
) -> float:
    """The stance score under which `quantile` of calib's `unverified` lines fall (0.0 when off or none).

    A fixed floor fits one model: retrained with another seed, the same recipe
    scores real headlines nearer or further from 0.5, and one floor flagged
    20-41% of Emergent's for/against headlines across four seeds. How high the
    model scores text that takes no side moves with it, so the floor follows
    the model (`label.unverified_quantile`; docs/benchmarks.md, "Real news").
    """
    rows = [i for i, g in enumerate(gold) if g == UNVERIFIED]
    if not rows or not quantile:
        return 0.0
    return float(np.quantile(estimator.predict_proba(x[rows]).max(axis=1), quantile))


def added_line_weight(added: int, ours: int, train: dict) -> float:
    """How much each of `added` user's lines weighs in the heads against one of our `ours` lines.

    A few of a user's lines must weigh enough to move heads fitted on thousands
    of ours; many must not drown ours: each weighs `train.added_weight` until
    all of them together would weigh `train.added_total` times ours, then less,
    never under 1 (`train` is the params.yaml section; docs/active-learning.md).
    """
    most = float(train["added_weight"])
    return most if added == 0 else max(1.0, min(most, float(train["added_total"]) * ours / added))


def training_rows(
    records: list[dict], head: str, record_weights: np.ndarray | None = None
) -> tuple[list[int], list[str], np.ndarray]:
    """Row indexes, labels and sample weights to fit a head on.

    An `unverified` line takes no side: for the stance head it is two rows of
    half weight, one affirming and one denying, which pulls its score to 0.5.
    `record_weights` (one per record, default 1) multiplies a record's rows.
    """
    rows, labels, weights = [], [], []
    for i, record in enumerate(records):
        if head == "stance" and record["stance"] == UNVERIFIED:
            rows += [i] * len(STANCES)
            labels += list(STANCES)
            weights += [1 / len(STANCES)] * len(STANCES)
        else:
            rows.append(i)
            labels.append(record[head])
            weights.append(1.0)
    scale = np.ones(len(records)) if record_weights is None else np.asarray(record_weights, dtype=float)
    return rows, labels, np.asarray(weights) * scale[rows]


@dataclass
class FittedHeads:
    """What `fit_heads` returns: the estimators and the choices made on calib."""

    estimators: dict  # "stance", "topic": fitted (calibrated) heads; "ngrams": the vectorizer
    ngram_weights: dict[str, float]
    uncertain_below: dict[str, float]

    def macro_f1(self, head: str, records: list[dict], vectors: np.ndarray) -> float:
        """The head's macro-F1 on labelled records (their embeddings given), `unverified` lines left
        out: they take no side, so neither stance is right. For benchmarks that refit the heads."""
        decided = [i for i, r in enumerate(records) if r[head] != UNVERIFIED]
        texts = [records[i]["text"] for i in decided]
        x = features(vectors[decided], texts, self.estimators["ngrams"], self.ngram_weights[head])
        estimator = self.estimators[head]
        predicted = estimator.classes_[estimator.predict_proba(x).argmax(axis=1)]
        return float(f1_score([records[i][head] for i in decided], predicted, average="macro"))


def fit_heads(
    records: list[dict],
    vectors: np.ndarray,
    calib: list[dict],
    calib_vectors: np.ndarray,
    train: dict,
    label: dict,
    record_weights: np.ndarray | None = None,
) -> FittedHeads:
    """Fit both heads on train, choose n-gram weights and thresholds on calib, calibrate on calib.

    `train` and `label` are the params.yaml sections. `record_weights` (one per
    training record) lets a user's own lines count more than our fixtures.
    Raises ValueError when the training records lack one of a head's labels.
    """
    texts = [r["text"] for r in records]
    calib_texts = [r["text"] for r in calib]
    ngrams = make_ngrams().fit(texts)
    weights = {
        head: choose_ngram_weight(head, train, ngrams, records, vectors, calib, calib_vectors, record_weights)
        for head in ("stance", "topic")
    }
    # One threshold per head: stance has two classes and topic five, so a pooled
    # threshold would flag almost no stance at all.
    thresholds = dict.fromkeys(("stance", "topic"), float(label["uncertain_below"]))
    estimators: dict = {"ngrams": ngrams}
    for head, labels in (("stance", STANCES), ("topic", TOPICS)):
        rows, y, sample_weight = training_rows(records, head, record_weights)
        x = features(vectors, texts, ngrams, weights[head])
        estimator = make_head(train[head], train["seed"]).fit(x[rows], y, sample_weight=sample_weight)
        if set(estimator.classes_) != set(labels):
            raise ValueError(f"the training split lacks some {head} labels")
        method = train[head]["calibration"]
        calibrated = bool(calib) and method != "none"
        if calibrated:
            calib_x = features(calib_vectors, calib_texts, ngrams, weights[head])
            rows, y, sample_weight = training_rows(calib, head)
            estimator = calibrate(estimator, calib_x[rows], y, method, sample_weight)
        if head == "stance" and train[head].get("no_side_C"):
            side = fit_no_side(x, records, train[head]["no_side_C"], train["seed"])
            estimator = TakesNoSide(estimator, side) if side is not None else estimator
        if calibrated:
            floor = float(label.get("floors", {}).get(head, 0.0))
            gold = [r[head] for r in calib]
            if head == "stance":
                floor = max(
                    floor, unverified_floor(estimator, calib_x, gold, label.get("unverified_quantile", 0.0))
                )
            thresholds[head] = choose_threshold(estimator, calib_x, gold, label["target_accuracy"], floor)
        estimators[head] = estimator
    return FittedHeads(estimators, weights, thresholds)


def drop_caches(ngrams: TfidfVectorizer) -> None:
    """Call just before saving: keeps the pickle byte-identical from run to run.

    scikit-learn caches id(stop_words), a memory address, on the vectorizer at
    every transform; it is only a cache.
    """
    vars(ngrams).pop("_stop_words_id", None)

"""The heads' recipe on made-up vectors: `unverified` lines, thresholds, n-gram weights (no model needed)."""

from __future__ import annotations

import numpy as np

from stancetopic.heads import added_line_weight, fit_heads, training_rows
from stancetopic.labels import TOPICS

TRAIN = {
    "seed": 0,
    "stance": {"C": 4.0, "max_iter": 2000, "calibration": "sigmoid", "ngram_weights": [0.0]},
    "topic": {"C": 4.0, "max_iter": 2000, "calibration": "temperature", "ngram_weights": [0.0]},
}
LABEL = {"uncertain_below": 0.6, "target_accuracy": 0.9, "floors": {"stance": 0.0, "topic": 0.0}}


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


def test_unverified_lines_score_near_even_and_a_floor_bounds_the_threshold():
    records, vectors = corpus(300, seed=1)
    calib, calib_vectors = corpus(150, seed=2)
    fitted = fit_heads(records, vectors, calib, calib_vectors, TRAIN, LABEL)
    stance = fitted.estimators["stance"]
    unverified = [i for i, r in enumerate(calib) if r["stance"] == "unverified"]
    scores = stance.predict_proba(calib_vectors[unverified]).max(axis=1)
    assert scores.mean() < 0.75  # the decided lines score near 1
    assert fitted.ngram_weights == {"stance": 0.0, "topic": 0.0}
    # The accuracy rule alone sets a low threshold on such easy lines; the floor lifts it, per head.
    assert fitted.uncertain_below["stance"] < 0.8
    floored = fit_heads(records, vectors, calib, calib_vectors, TRAIN, {**LABEL, "floors": {"stance": 0.8}})
    assert floored.uncertain_below == {"stance": 0.8, "topic": fitted.uncertain_below["topic"]}


def test_the_stance_floor_follows_how_high_the_model_scores_unverified_lines():
    records, vectors = corpus(300, seed=1)
    calib, calib_vectors = corpus(150, seed=2)
    unverified = [i for i, r in enumerate(calib) if r["stance"] == "unverified"]
    plain = fit_heads(records, vectors, calib, calib_vectors, TRAIN, LABEL)
    for quantile in (0.5, 0.9):
        fitted = fit_heads(
            records, vectors, calib, calib_vectors, TRAIN, {**LABEL, "unverified_quantile": quantile}
        )
        scores = fitted.estimators["stance"].predict_proba(calib_vectors[unverified]).max(axis=1)
        expected = max(float(np.quantile(scores, quantile)), plain.uncertain_below["stance"])
        assert fitted.uncertain_below["stance"] == expected
        assert fitted.uncertain_below["topic"] == plain.uncertain_below["topic"]  # stance only
    higher = fit_heads(records, vectors, calib, calib_vectors, TRAIN, {**LABEL, "unverified_quantile": 0.9})
    lower = fit_heads(records, vectors, calib, calib_vectors, TRAIN, {**LABEL, "unverified_quantile": 0.5})
    assert (
        higher.uncertain_below["stance"] > lower.uncertain_below["stance"] > plain.uncertain_below["stance"]
    )


def hedged_corpus(n: int, seed: int) -> tuple[list[dict], np.ndarray]:
    """Like `corpus`, but unverified lines lean to a side (axis 0) and carry a hedge marker (axis 7)."""
    records, vectors = corpus(n, seed)
    rng = np.random.default_rng(seed + 100)
    for record, vector in zip(records, vectors, strict=True):
        if record["stance"] == "unverified":
            vector[0] += rng.choice([-2.0, 2.0])
            vector[7] += 2.0
    return records, vectors


def test_the_no_side_classifier_pulls_hedged_lines_to_even_odds_and_keeps_every_label():
    records, vectors = hedged_corpus(300, seed=3)
    calib, calib_vectors = hedged_corpus(150, seed=4)
    unverified = [i for i, r in enumerate(calib) if r["stance"] == "unverified"]
    decided = [i for i, r in enumerate(calib) if r["stance"] != "unverified"]
    proba = {}
    for no_side_c in (0, 4.0):
        train = {**TRAIN, "stance": {**TRAIN["stance"], "no_side_C": no_side_c}}
        stance = fit_heads(records, vectors, calib, calib_vectors, train, LABEL).estimators["stance"]
        proba[no_side_c] = stance.predict_proba(calib_vectors)
        assert np.allclose(proba[no_side_c].sum(axis=1), 1.0)
    scores = {c: p.max(axis=1) for c, p in proba.items()}
    assert scores[0][unverified].mean() > 0.8  # one head alone is sure of the hedged lines
    assert scores[4.0][unverified].mean() < 0.65
    assert abs(scores[4.0][decided].mean() - scores[0][decided].mean()) < 0.03
    assert (proba[0].argmax(axis=1) == proba[4.0].argmax(axis=1)).all()


def test_record_weights_scale_a_records_rows_and_ones_change_nothing():
    records = [{"stance": "affirms", "topic": "other"}, {"stance": "unverified", "topic": "courts"}]
    assert training_rows(records, "stance", np.array([3.0, 2.0]))[2].tolist() == [3.0, 1.0, 1.0]
    assert training_rows(records, "topic", np.array([3.0, 2.0]))[2].tolist() == [3.0, 2.0]
    corpus_records, vectors = corpus(150, seed=5)
    calib, calib_vectors = corpus(75, seed=6)
    plain = fit_heads(corpus_records, vectors, calib, calib_vectors, TRAIN, LABEL)
    ones = fit_heads(corpus_records, vectors, calib, calib_vectors, TRAIN, LABEL, np.ones(150))
    for head in ("stance", "topic"):
        probe = plain.estimators[head].predict_proba(calib_vectors)
        assert np.array_equal(probe, ones.estimators[head].predict_proba(calib_vectors))


def test_heavier_added_lines_teach_their_own_domain_more():
    """A user's lines that read like our economy lines but are `other` in their news."""
    records, vectors = corpus(300, seed=7)
    calib, calib_vectors = corpus(150, seed=8)
    rng = np.random.default_rng(9)
    added = [
        {"id": f"mine-{i}", "text": f"mine {i}", "stance": "affirms", "topic": "other"} for i in range(8)
    ]
    added_vectors = rng.normal(0, 0.3, (8, 8))
    added_vectors[:, 1 + TOPICS.index("economy")] += 2.0
    probe = added_vectors.mean(axis=0, keepdims=True)
    other = {}
    for weight in (1.0, 10.0):
        fitted = fit_heads(
            records + added,
            np.vstack([vectors, added_vectors]),
            calib,
            calib_vectors,
            TRAIN,
            LABEL,
            np.array([1.0] * len(records) + [weight] * len(added)),
        )
        topic = fitted.estimators["topic"]
        other[weight] = topic.predict_proba(probe)[0, list(topic.classes_).index("other")]
    assert other[10.0] > other[1.0] + 0.1


def test_a_few_added_lines_weigh_the_most_and_many_together_at_most_the_total():
    train = {"added_weight": 100.0, "added_total": 4.0}
    assert added_line_weight(0, 3000, train) == 100.0
    assert added_line_weight(50, 3000, train) == 100.0  # 5,000 < 4 x 3,000
    assert added_line_weight(200, 3000, train) == 60.0  # together 4 x ours
    assert 200 * added_line_weight(200, 3000, train) == 4.0 * 3000
    assert added_line_weight(3000, 3000, train) == 4.0
    assert added_line_weight(50000, 3000, train) == 1.0  # never under one of ours


def test_macro_f1_leaves_unverified_lines_out_and_falls_when_the_gold_is_wrong():
    records, vectors = corpus(300, seed=10)
    calib, calib_vectors = corpus(150, seed=11)
    fitted = fit_heads(records, vectors, calib, calib_vectors, TRAIN, LABEL)
    decided = [i for i, r in enumerate(calib) if r["stance"] != "unverified"]
    score = fitted.macro_f1("stance", calib, calib_vectors)
    assert score > 0.9  # the stance axis separates the two sides
    assert score == fitted.macro_f1("stance", [calib[i] for i in decided], calib_vectors[decided])
    flipped = [
        {**r, "stance": {"affirms": "denies", "denies": "affirms"}.get(r["stance"], r["stance"])}
        for r in calib
    ]
    assert fitted.macro_f1("stance", flipped, calib_vectors) < 0.1

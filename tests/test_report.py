"""Evaluation reports from made-up probabilities: the figures users read, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stancetopic.model import EmbedderInfo, Manifest
from stancetopic.report import build_report, confusion_rows, dvc_metrics, summary_table

TOPICS = ["courts", "defence", "economy", "migration", "other"]
RECORDS = [
    {"id": "a", "text": "The court upheld the sentence.", "stance": "affirms", "topic": "courts", "hard": "court-upheld"},
    {"id": "b", "text": "The court quashed the verdict.", "stance": "denies", "topic": "courts", "hard": "court-reversal"},
    {"id": "c", "text": "Exports fell <b>again</b>.", "stance": "affirms", "topic": "economy", "also": ["courts"]},
    {"id": "d", "text": "A rumour, reported without a verdict.", "stance": "unverified", "topic": "other"},
]  # fmt: skip
STANCE = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])  # c is a confident mistake
TOPIC = np.array(
    [
        [0.9, 0.025, 0.025, 0.025, 0.025],
        [0.6, 0.1, 0.1, 0.1, 0.1],
        [0.3, 0.1, 0.5, 0.05, 0.05],  # economy first, its `also` topic second
        [0.1, 0.1, 0.05, 0.05, 0.7],
    ]
)
MANIFEST = Manifest(
    labels={"stance": ["affirms", "denies"], "topic": TOPICS},
    embedder=EmbedderInfo(name="embedder", bundled=True, dimension=4),
    uncertain_below={"stance": 0.75, "topic": 0.55},
    files={"stance.joblib": "0" * 64},
)


@pytest.fixture
def report() -> dict:
    return build_report(RECORDS, STANCE, TOPIC, MANIFEST, "d" * 64)


def test_stance_figures_leave_unverified_lines_out(report):
    stance = report["stance"]
    assert report["n"] == 4 and stance["accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert stance["per_class"]["affirms"] == {"precision": 1.0, "recall": 0.5, "f1": 0.666667, "support": 2}
    assert stance["per_class"]["denies"] == {"precision": 0.5, "recall": 1.0, "f1": 0.666667, "support": 1}
    assert stance["confusion"] == {"labels": ["affirms", "denies"], "matrix": [[1, 1], [0, 1]]}
    assert stance["hard_macro_f1"] == 1.0  # both hard-tagged lines right
    assert report["unverified"] == {"n": 1, "mean_stance_score": 0.6, "flagged": 1.0}


def test_topic_figures(report):
    assert report["topic"]["accuracy"] == 1.0
    assert report["topic"]["four_topic_macro_f1"] == 0.5  # defence and migration: no lines, F1 0
    assert report["other_topic"] == {"other_recall": 1.0, "on_topic_sent_to_other": 0.0}
    assert report["multi_topic"] == {"n": 1, "secondary_in_top2": 1.0}


def test_coverage_at_the_models_threshold(report):
    stance = report["coverage"]["stance"]
    assert stance["threshold"] == 0.75  # keeps 0.9 (right) and 0.8 (wrong) of the three decided
    assert stance["coverage"] == pytest.approx(2 / 3, abs=1e-6) and stance["accuracy"] == 0.5
    assert [p["threshold"] for p in stance["points"]][:2] == [0.5, 0.55]


def test_worst_errors_and_hard_tags(report):
    (error,) = report["worst_errors"]
    assert error == {"id": "c", "head": "stance", "text": RECORDS[2]["text"], "gold": "affirms",
                     "predicted": "denies", "score": 0.8, "hard": None}  # fmt: skip
    assert report["by_hard_tag"] == {
        "court-reversal": {"n": 1, "stance_accuracy": 1.0, "topic_accuracy": 1.0},
        "court-upheld": {"n": 1, "stance_accuracy": 1.0, "topic_accuracy": 1.0},
    }


def test_the_report_names_the_model_it_scored(report):
    assert report["data_sha256"] == "d" * 64
    assert report["model"]["embedder"]["name"] == "embedder" and report["model"]["embedder"]["dimension"] == 4
    assert report["model"]["files"] == {"stance.joblib": "0" * 64}


def test_views_of_the_report(report):
    metrics = dvc_metrics(report)
    assert metrics["stance"]["hard_macro_f1"] == 1.0 and metrics["topic"]["four_topic_macro_f1"] == 0.5
    assert "per_class" in metrics["topic"] and "confusion" not in metrics["topic"]
    assert len(confusion_rows(report, "stance")) == 3  # one row per decided line
    table = summary_table(report)
    assert table.splitlines()[0] == "4 paragraphs"
    assert "stance       0.667     0.667   0.400" in table  # ECE: (0.1 + 0.3 + 0.8) / 3 over three bins
    assert "  court-upheld         n=1    stance 1.00  topic 1.00" in table.splitlines()

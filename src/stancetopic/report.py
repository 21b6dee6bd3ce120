"""Evaluation reports: per-head metrics, calibration and hard-case breakdowns.

One function builds the report for both the DVC `evaluate` stage and the
`stancetopic evaluate` command, so the two can never disagree.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

CALIBRATION_BINS = 10


def _r(value: float) -> float:
    """Round for reports: stable bytes, readable diffs."""
    return round(float(value), 6)


def head_metrics(gold: list[str], predicted: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    return {
        "accuracy": _r(accuracy_score(gold, predicted)),
        "macro_f1": _r(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            label: {"precision": _r(p), "recall": _r(r), "f1": _r(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion": {
            "labels": list(labels),
            "matrix": confusion_matrix(gold, predicted, labels=labels).tolist(),
        },
    }


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error over equal-width confidence bins, with the bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        mean_conf = float(confidence[mask].mean()) if count else 0.0
        accuracy = float(correct[mask].mean()) if count else 0.0
        ece += count / max(len(confidence), 1) * abs(mean_conf - accuracy)
        rows.append(
            {
                "lower": _r(edges[b]),
                "upper": _r(edges[b + 1]),
                "count": count,
                "confidence": _r(mean_conf),
                "accuracy": _r(accuracy),
            }
        )
    return {"ece": _r(ece), "bins": rows}


def build_report(
    records: list[dict],
    stance_proba: np.ndarray,
    topic_proba: np.ndarray,
    manifest: dict,
    data_sha256: str,
) -> dict:
    """The full evaluation report (schema in the README)."""
    stances = list(manifest["labels"]["stance"])
    topics = list(manifest["labels"]["topic"])
    stance_pred = [stances[i] for i in stance_proba.argmax(axis=1)]
    topic_pred = [topics[i] for i in topic_proba.argmax(axis=1)]
    stance_gold = [r["stance"] for r in records]
    topic_gold = [r["topic"] for r in records]
    stance_ok = np.array([g == p for g, p in zip(stance_gold, stance_pred, strict=True)])
    topic_ok = np.array([g == p for g, p in zip(topic_gold, topic_pred, strict=True)])

    report: dict = {
        "n": len(records),
        "data_sha256": data_sha256,
        "model": {
            "embedder": manifest["embedder"],
            "labels": manifest["labels"],
            "fixtures_sha256": manifest.get("fixtures_sha256"),
            "files": manifest["files"],
        },
        "stance": head_metrics(stance_gold, stance_pred, stances),
        "topic": head_metrics(topic_gold, topic_pred, topics),
    }
    report["stance"]["ece"] = calibration(stance_proba.max(axis=1), stance_ok)["ece"]
    report["topic"]["ece"] = calibration(topic_proba.max(axis=1), topic_ok)["ece"]
    report["calibration"] = calibration(
        np.concatenate([stance_proba.max(axis=1), topic_proba.max(axis=1)]),
        np.concatenate([stance_ok, topic_ok]),
    )
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        if record.get("hard"):
            by_tag[record["hard"]].append(i)
    report["by_hard_tag"] = {
        tag: {
            "n": len(rows),
            "stance_accuracy": _r(stance_ok[rows].mean()),
            "topic_accuracy": _r(topic_ok[rows].mean()),
        }
        for tag, rows in sorted(by_tag.items())
    }
    return report


def dvc_metrics(report: dict) -> dict:
    """The slice of a report that `dvc metrics show/diff` tracks."""
    metrics = {}
    for head in ("stance", "topic"):
        section = report[head]
        metrics[head] = {
            "accuracy": section["accuracy"],
            "macro_f1": section["macro_f1"],
            "ece": section["ece"],
            "per_class": {
                label: {key: row[key] for key in ("precision", "recall", "f1")}
                for label, row in section["per_class"].items()
            },
        }
    return metrics


def confusion_rows(report: dict, head: str) -> list[dict]:
    """Plot data for DVC's `confusion` template: one {actual, predicted} row per item."""
    labels = report[head]["confusion"]["labels"]
    matrix = report[head]["confusion"]["matrix"]
    return [
        {"actual": labels[i], "predicted": labels[j]}
        for i, row in enumerate(matrix)
        for j, count in enumerate(row)
        for _ in range(count)
    ]

"""Evaluation reports: per-head metrics, calibration and hard-case breakdowns.

One function builds the report for both the DVC `evaluate` stage and the
`stancetopic evaluate` command, so the two can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from stancetopic.digest import sha256_file
from stancetopic.errors import DataError
from stancetopic.fixtures import read_labelled
from stancetopic.labels import UNVERIFIED

if TYPE_CHECKING:
    from stancetopic.model import Manifest
    from stancetopic.predictor import Predictor

CALIBRATION_BINS = 10
WORST_ERRORS = 15


def _r(value: float | np.floating) -> float:
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
    manifest: Manifest,
    data_sha256: str,
) -> dict:
    """The full evaluation report (schema in the README)."""
    stances = list(manifest.labels["stance"])
    topics = list(manifest.labels["topic"])
    stance_pred = [stances[i] for i in stance_proba.argmax(axis=1)]
    topic_pred = [topics[i] for i in topic_proba.argmax(axis=1)]
    stance_gold = [r["stance"] for r in records]
    topic_gold = [r["topic"] for r in records]
    stance_ok = np.array([g == p for g, p in zip(stance_gold, stance_pred, strict=True)])
    topic_ok = np.array([g == p for g, p in zip(topic_gold, topic_pred, strict=True)])
    # `unverified` lines take no side: they count for topic, and for stance only
    # by how unsure the model is about them (the "unverified" section).
    decided = [i for i, gold in enumerate(stance_gold) if gold != UNVERIFIED]
    undecided = [i for i, gold in enumerate(stance_gold) if gold == UNVERIFIED]

    report: dict = {
        "n": len(records),
        "data_sha256": data_sha256,
        "model": {
            "embedder": asdict(manifest.embedder),
            "labels": manifest.labels,
            "fixtures_sha256": manifest.fixtures_sha256,
            "added_sha256": manifest.added_sha256,
            "files": manifest.files,
        },
        "stance": head_metrics([stance_gold[i] for i in decided], [stance_pred[i] for i in decided], stances),
        "topic": head_metrics(topic_gold, topic_pred, topics),
    }
    hard = [i for i in decided if records[i].get("hard")]
    report["stance"]["hard_macro_f1"] = (
        _r(f1_score([stance_gold[i] for i in hard], [stance_pred[i] for i in hard], average="macro"))
        if hard
        else None
    )
    # The four real topics without the catch-all: the figure users of a topic filter feel.
    report["topic"]["four_topic_macro_f1"] = _r(
        f1_score(
            topic_gold,
            topic_pred,
            labels=[t for t in topics if t != "other"],
            average="macro",
            zero_division=0,
        )
    )
    stance_confidence = stance_proba.max(axis=1)
    report["stance"]["ece"] = calibration(stance_confidence[decided], stance_ok[decided])["ece"]
    report["topic"]["ece"] = calibration(topic_proba.max(axis=1), topic_ok)["ece"]
    report["calibration"] = calibration(
        np.concatenate([stance_confidence[decided], topic_proba.max(axis=1)]),
        np.concatenate([stance_ok[decided], topic_ok]),
    )
    thresholds = {"stance": 0.5, "topic": 0.5, **manifest.uncertain_below}
    report["unverified"] = {
        "n": len(undecided),
        "mean_stance_score": _r(stance_confidence[undecided].mean()) if undecided else None,
        "flagged": _r(np.mean(stance_confidence[undecided] < thresholds["stance"])) if undecided else None,
    }
    report["coverage"] = {
        "stance": coverage_curve(stance_confidence[decided], stance_ok[decided], thresholds["stance"]),
        "topic": coverage_curve(topic_proba.max(axis=1), topic_ok, thresholds["topic"]),
    }
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i in decided:
        if records[i].get("hard"):
            by_tag[records[i]["hard"]].append(i)
    report["other_topic"] = other_topic(topic_gold, topic_pred)
    report["multi_topic"] = multi_topic(records, topic_proba, topics)
    report["worst_errors"] = worst_errors(
        records, {"stance": (stance_pred, stance_proba), "topic": (topic_pred, topic_proba)}
    )
    report["by_hard_tag"] = {
        tag: {
            "n": len(rows),
            "stance_accuracy": _r(stance_ok[rows].mean()),
            "topic_accuracy": _r(topic_ok[rows].mean()),
        }
        for tag, rows in sorted(by_tag.items())
    }
    return report


def coverage_curve(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """Accuracy of the paragraphs kept (not `uncertain`) against the share kept, per threshold.

    This is what `--uncertain-below` trades: a higher threshold keeps fewer
    paragraphs and gets more of the kept ones right.
    """

    def kept_at(threshold: float) -> dict:
        kept = confidence >= threshold
        return {
            "threshold": float(threshold),
            "coverage": _r(kept.mean()) if len(kept) else None,
            "accuracy": _r(correct[kept].mean()) if kept.any() else None,
        }

    return {**kept_at(threshold), "points": [kept_at(t) for t in np.round(np.arange(0.5, 1.0, 0.05), 2)]}


def other_topic(gold: list[str], predicted: list[str]) -> dict:
    """How well the catch-all works: `other` kept as `other`, on-topic lost to it."""
    other = [p for g, p in zip(gold, predicted, strict=True) if g == "other"]
    on_topic = [p for g, p in zip(gold, predicted, strict=True) if g != "other"]
    return {
        "other_recall": _r(np.mean([p == "other" for p in other])) if other else None,
        "on_topic_sent_to_other": _r(np.mean([p == "other" for p in on_topic])) if on_topic else None,
    }


def multi_topic(records: list[dict], topic_proba: np.ndarray, topics: list[str]) -> dict:
    """For paragraphs with `also` topics: how often each ranks second or better."""
    ranks = []
    for record, row in zip(records, topic_proba, strict=True):
        order = [topics[i] for i in np.argsort(-row)]
        ranks += [order.index(t) for t in record.get("also", []) if t in order]
    return {"n": len(ranks), "secondary_in_top2": _r(np.mean([r <= 1 for r in ranks])) if ranks else None}


def worst_errors(records: list[dict], heads: dict[str, tuple[list[str], np.ndarray]]) -> list[dict]:
    """The most confident mistakes of both heads, most confident first."""
    errors = []
    for head, (predicted, proba) in heads.items():
        for record, label, row in zip(records, predicted, proba, strict=True):
            if record[head] not in (label, UNVERIFIED):
                errors.append(
                    {
                        "id": record.get("id"),
                        "head": head,
                        "text": record["text"],
                        "gold": record[head],
                        "predicted": label,
                        "score": _r(row.max()),
                        "hard": record.get("hard"),
                    }
                )
    errors.sort(key=lambda e: (-e["score"], e["head"], str(e["id"])))
    return errors[:WORST_ERRORS]


def reliability_rows(report: dict) -> list[dict]:
    """Plot data for a reliability curve: accuracy against confidence, per bin."""
    return [
        {"confidence": row["confidence"], "accuracy": row["accuracy"], "count": row["count"]}
        for row in report["calibration"]["bins"]
        if row["count"]
    ]


def dvc_metrics(report: dict) -> dict:
    """The slice of a report that `dvc metrics show/diff` tracks."""
    metrics = {}
    for head in ("stance", "topic"):
        section = report[head]
        metrics[head] = {
            "accuracy": section["accuracy"],
            "macro_f1": section["macro_f1"],
            "ece": section["ece"],
            **{key: section[key] for key in ("hard_macro_f1", "four_topic_macro_f1") if key in section},
            "per_class": {
                label: {key: row[key] for key in ("precision", "recall", "f1")}
                for label, row in section["per_class"].items()
            },
        }
    metrics["other_topic"] = report["other_topic"]
    metrics["multi_topic"] = report["multi_topic"]
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


def evaluate_file(predictor: Predictor, path: Path, strict: bool = True) -> dict:
    """Read a labelled file (LabelledDataError when bad, DataError when empty), score it, build its report."""
    records = read_labelled([path], strict=strict)
    if not records:
        raise DataError(f"{path}: no labelled lines to evaluate")
    stance, topic = predictor.predict_proba([r["text"] for r in records])
    return build_report(records, stance, topic, predictor.heads.manifest, sha256_file(path))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def summary_table(report: dict) -> str:
    """A compact plain-text view of a report for the terminal."""
    lines = [f"{report['n']} paragraphs", f"{'head':<8}{'accuracy':>10}{'macro-F1':>10}{'ECE':>8}"]
    for head in ("stance", "topic"):
        section = report[head]
        lines.append(
            f"{head:<8}{section['accuracy']:>10.3f}{section['macro_f1']:>10.3f}{section['ece']:>8.3f}"
        )
    for head in ("stance", "topic"):
        cells = ", ".join(f"{c} {row['f1']:.2f}" for c, row in report[head]["per_class"].items())
        lines.append(f"F1 {head}: {cells}")
    other, multi = report["other_topic"], report["multi_topic"]
    lines.append(
        f"other: recall {_pct(other['other_recall'])}, on-topic sent to other "
        f"{_pct(other['on_topic_sent_to_other'])}; secondary topic in top 2: "
        f"{_pct(multi['secondary_in_top2'])} of {multi['n']}"
    )
    for tag, row in report["by_hard_tag"].items():
        lines.append(
            f"  {tag:<20} n={row['n']:<4} stance {row['stance_accuracy']:.2f}  topic {row['topic_accuracy']:.2f}"
        )
    return "\n".join(lines)

"""`evaluate` and `compare`: report schema, exact metric values, deltas and warnings."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import f1_score, precision_score

from stancetopic.cli import main
from stancetopic.compare import compare_reports
from stancetopic.model import EmbedderInfo, Manifest
from stancetopic.report import build_report, calibration

MANIFEST = Manifest(
    labels={"stance": ["affirms", "denies"], "topic": ["courts", "other"]},
    embedder=EmbedderInfo(name="m", bundled=True, dimension=3),
    uncertain_below={},
)


def invoke(*args: object):
    return CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False)


def hand_made_report(stance_rows: list[list[float]], data: str = "d" * 64) -> dict:
    records = [
        {"id": "1", "text": "a", "stance": "affirms", "topic": "courts", "hard": "court-upheld"},
        {"id": "2", "text": "b", "stance": "affirms", "topic": "other"},
        {"id": "3", "text": "c", "stance": "denies", "topic": "courts", "hard": "court-upheld"},
        {"id": "4", "text": "d", "stance": "denies", "topic": "other"},
    ]
    topic = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.75, 0.25]])
    return build_report(records, np.array(stance_rows), topic, MANIFEST, data)


STANCE_A = [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.1, 0.9]]  # 3 of 4 right
STANCE_B = [[0.8, 0.2], [0.6, 0.4], [0.4, 0.6], [0.1, 0.9]]  # all right


def test_metrics_match_scikit_learn_on_a_hand_made_case():
    report = hand_made_report(STANCE_A)
    gold = ["affirms", "affirms", "denies", "denies"]
    predicted = ["affirms", "denies", "denies", "denies"]
    assert report["stance"]["accuracy"] == 0.75
    assert report["stance"]["macro_f1"] == round(f1_score(gold, predicted, average="macro"), 6)
    assert report["stance"]["per_class"]["denies"] == {
        "precision": round(precision_score(gold, predicted, pos_label="denies"), 6),
        "recall": 1.0,
        "f1": 0.8,
        "support": 2,
    }
    assert report["stance"]["confusion"] == {"labels": ["affirms", "denies"], "matrix": [[1, 1], [0, 2]]}
    assert report["topic"]["accuracy"] == 0.75
    # Rows 1 and 3 are hard-tagged and both right; "other" is left out of the
    # four-topic F1: courts has precision 2/3 and recall 1.
    assert report["stance"]["hard_macro_f1"] == 1.0
    assert report["topic"]["four_topic_macro_f1"] == 0.8
    assert report["by_hard_tag"] == {"court-upheld": {"n": 2, "stance_accuracy": 1.0, "topic_accuracy": 1.0}}
    assert [(e["head"], e["id"]) for e in report["worst_errors"]] == [("topic", "4"), ("stance", "2")]


def test_expected_calibration_error_by_hand():
    # Bin 0.8-0.9 holds 0.85 (right) and 0.85 (wrong): |0.85 - 0.5| * 2/4.
    # Bin 0.9-1.0 holds 0.95 twice, both right: |0.95 - 1| * 2/4.
    result = calibration(np.array([0.85, 0.85, 0.95, 0.95]), np.array([1, 0, 1, 1]))
    assert result["ece"] == pytest.approx(0.35 * 0.5 + 0.05 * 0.5)
    assert sum(b["count"] for b in result["bins"]) == 4 and len(result["bins"]) == 10


def test_compare_deltas_are_exact():
    result = compare_reports(hand_made_report(STANCE_A), hand_made_report(STANCE_B))
    assert result["warnings"] == []
    metrics = {row["name"]: row for row in result["heads"]["stance"]["metrics"]}
    assert metrics["accuracy"] == {"name": "accuracy", "a": 0.75, "b": 1.0, "delta": 0.25, "mark": "▲"}
    assert metrics["hard_macro_f1"]["delta"] == 0.0 and "four_topic_macro_f1" not in metrics
    f1 = {row["name"]: row for row in result["heads"]["stance"]["per_class_f1"]}
    assert f1["affirms"]["delta"] == round(1.0 - 2 / 3, 6) and f1["denies"]["delta"] == 0.2
    assert result["heads"]["stance"]["confusion_changes"] == [
        {"actual": "affirms", "predicted": "affirms", "a": 1, "b": 2, "delta": 1},
        {"actual": "affirms", "predicted": "denies", "a": 1, "b": 0, "delta": -1},
    ]
    assert result["heads"]["topic"]["confusion_changes"] == []


def test_compare_cli_warns_on_different_data_and_renders_markdown(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(hand_made_report(STANCE_A)))
    b.write_text(json.dumps(hand_made_report(STANCE_B, data="e" * 64)))
    result = invoke("compare", a, b, "--format", "markdown")
    assert result.exit_code == 0
    assert "warning: the two reports scored different data (data_sha256 differs)" in result.stderr
    assert "| stance | accuracy | 0.750 | 1.000 | +0.250 | ▲ |" in result.stdout
    assert "stance: affirms -> denies: 1 -> 0 (-1)" in result.stdout
    as_json = json.loads(invoke("compare", a, b, "--format", "json").stdout)
    assert as_json["heads"]["stance"]["metrics"][0]["delta"] == 0.25


def test_compare_two_label_outputs(tmp_path):
    def record(paragraph: int, stance: str, score: float, topic: str) -> str:
        scores = {"courts": 0.7, "other": 0.3} if topic == "courts" else {"courts": 0.2, "other": 0.8}
        return json.dumps({"source": "a.txt", "paragraph": paragraph, "text": f"p{paragraph}",
                           "stance": stance, "stance_score": score, "topic": topic,
                           "topic_score": max(scores.values()), "topic_scores": scores})  # fmt: skip

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join([record(0, "affirms", 0.9, "courts"), record(1, "denies", 0.6, "other")]) + "\n")
    b.write_text("\n".join([record(0, "affirms", 0.8, "courts"), record(1, "affirms", 0.7, "courts")]) + "\n")
    result = invoke("compare", a, b, "--format", "json")
    data = json.loads(result.stdout)
    assert (data["matched"], data["stance_changed"], data["topic_changed"]) == (2, 1, 1)
    assert [c["paragraph"] for c in data["biggest"]] == [1, 0]
    assert data["biggest"][0]["shift"] == pytest.approx(0.5)  # P(other) 0.8 -> 0.3
    assert result.stderr == ""


def test_evaluate_cli_writes_report_and_html(trained_repo, tmp_path):
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    labelled = trained_repo / "data/prepared/test.jsonl"
    result = invoke("evaluate", labelled, "--model", trained_repo / "models", "--out", out, "--html", html)
    assert result.exit_code == 0, result.stderr
    assert "macro-F1" in result.stdout
    report = json.loads(out.read_text())
    assert set(report) >= {"n", "data_sha256", "model", "stance", "topic", "calibration", "by_hard_tag"}
    for head in ("stance", "topic"):
        assert set(report[head]) >= {"accuracy", "macro_f1", "per_class", "confusion"}
        assert set(next(iter(report[head]["per_class"].values()))) == {"precision", "recall", "f1", "support"}
    assert set(report["calibration"]) == {"ece", "bins"}
    assert set(report["coverage"]) == {"stance", "topic"}
    stage = json.loads((trained_repo / "reports/report.json").read_text())
    assert stage["stance"] == report["stance"] and stage["data_sha256"] == report["data_sha256"]
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html.read_text())
    assert len(images) == 5  # two confusion maps, F1 bars, reliability, coverage
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_evaluate_reports_bad_lines_and_exits_5(trained_repo, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "x", "stance": "affirms", "topic": "courts", "note": "ok"}\n'
                   '{"id": "2", "text": "y", "stance": "unsure", "topic": "courts"}\n')  # fmt: skip
    result = invoke("evaluate", bad, "--model", trained_repo / "models")
    assert result.exit_code == 5
    assert (
        result.stderr.strip()
        == f"error: {bad}:2: unknown stance 'unsure' (expected one of affirms, denies, unverified)"
    )


def test_coverage_curve_trades_kept_share_for_accuracy():
    import numpy as np

    from stancetopic.report import coverage_curve

    confidence = np.array([0.55, 0.65, 0.75, 0.85, 0.95])
    correct = np.array([False, False, True, True, True])
    curve = coverage_curve(confidence, correct, threshold=0.7)
    assert (curve["coverage"], curve["accuracy"]) == (0.6, 1.0)
    points = {p["threshold"]: (p["coverage"], p["accuracy"]) for p in curve["points"]}
    assert points[0.5] == (1.0, 0.6) and points[0.6] == (0.8, 0.75) and points[0.95] == (0.2, 1.0)

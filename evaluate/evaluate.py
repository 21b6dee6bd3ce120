"""Stage `evaluate`: score the saved model on the test split.

Usage: python evaluate/evaluate.py
Writes reports/report.json (full report), reports/metrics.json (DVC metrics)
and reports/plots/*.json (DVC plot data).
"""

import sys
from pathlib import Path

from stancetopic.digest import sha256_file
from stancetopic.fixtures import read_labelled
from stancetopic.model import write_json
from stancetopic.predictor import Predictor
from stancetopic.report import build_report, confusion_rows, dvc_metrics

TEST = Path("data/prepared/test.jsonl")
REPORTS = Path("reports")


def main() -> int:
    records = read_labelled([TEST])
    predictor = Predictor.from_folder("models")
    stance, topic = predictor.predict_proba([r["text"] for r in records])
    report = build_report(records, stance, topic, predictor.heads.manifest, sha256_file(TEST))
    (REPORTS / "plots").mkdir(parents=True, exist_ok=True)
    write_json(REPORTS / "report.json", report)
    write_json(REPORTS / "metrics.json", dvc_metrics(report))
    for head in ("stance", "topic"):
        write_json(REPORTS / "plots" / f"{head}_confusion.json", confusion_rows(report, head))
    print(
        f"evaluate: stance macro-F1 {report['stance']['macro_f1']:.3f}, "
        f"topic macro-F1 {report['topic']['macro_f1']:.3f} on {report['n']} test paragraphs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

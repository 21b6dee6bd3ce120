"""Stage `evaluate`: score the saved model on the test split.

Usage: python evaluate/evaluate.py   (reads params.yaml: embed.cache)
With `embed.cache`, the test paragraphs' vectors come from the cache the embed
stage filled (same embedder digest), so torch is not even loaded. Writes reports/report.json (full report), reports/report.html (figures),
reports/metrics.json (DVC metrics) and reports/plots/*.json (DVC plot data).
"""

import sys
from pathlib import Path

import yaml

from stancetopic.cache import default_dir
from stancetopic.html_report import render
from stancetopic.model import write_json
from stancetopic.predictor import Predictor
from stancetopic.report import confusion_rows, dvc_metrics, evaluate_file, reliability_rows

TEST = Path("data/prepared/test.jsonl")
REPORTS = Path("reports")


def main() -> int:
    cached = yaml.safe_load(Path("params.yaml").read_text())["embed"]["cache"]
    predictor = Predictor.from_folder(Path("models"), cache_dir=default_dir() if cached else None, lazy=True)
    report = evaluate_file(predictor, TEST)
    if predictor.cache:
        predictor.cache.close()
    (REPORTS / "plots").mkdir(parents=True, exist_ok=True)
    write_json(REPORTS / "report.json", report)
    write_json(REPORTS / "metrics.json", dvc_metrics(report))
    (REPORTS / "report.html").write_text(render(report, "stancetopic: test split"), encoding="utf-8")
    for head in ("stance", "topic"):
        write_json(REPORTS / "plots" / f"{head}_confusion.json", confusion_rows(report, head))
    write_json(REPORTS / "plots" / "reliability.json", reliability_rows(report))
    print(
        f"evaluate: stance macro-F1 {report['stance']['macro_f1']:.3f}, "
        f"topic macro-F1 {report['topic']['macro_f1']:.3f} on {report['n']} test paragraphs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

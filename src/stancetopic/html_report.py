"""A self-contained HTML page for one evaluation report.

Figures are drawn with matplotlib's object API (no pyplot global state) and
embedded as base64 PNG, so the page is one file that opens anywhere offline.
"""

from __future__ import annotations

import base64
import io
from html import escape

from matplotlib.figure import Figure

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.meta{color:#666;font-size:.85rem}img{max-width:100%}
"""


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="figure" src="data:image/png;base64,{encoded}">'


def confusion_figure(section: dict, title: str) -> str:
    labels, matrix = section["confusion"]["labels"], section["confusion"]["matrix"]
    figure = Figure(figsize=(1.2 + 0.75 * len(labels), 1.0 + 0.7 * len(labels)))
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axes.text(j, i, count, ha="center", va="center", color="white" if count > peak / 2 else "black")
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, shrink=0.8)
    return _png(figure)


def f1_figure(report: dict) -> str:
    figure = Figure(figsize=(7, 3))
    axes = figure.subplots()
    names, scores, colours = [], [], []
    for head, colour in (("stance", "#4c72b0"), ("topic", "#55a868")):
        for label, row in report[head]["per_class"].items():
            names.append(f"{head}:{label}")
            scores.append(row["f1"])
            colours.append(colour)
    axes.bar(range(len(names)), scores, color=colours)
    axes.set_xticks(range(len(names)), names, rotation=35, ha="right")
    axes.set_ylim(0, 1)
    axes.set_ylabel("F1")
    axes.set_title("Per-class F1")
    return _png(figure)


def reliability_figure(report: dict) -> str:
    bins = [b for b in report["calibration"]["bins"] if b["count"]]
    figure = Figure(figsize=(4, 4))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="#999", label="perfect")
    axes.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", label="model")
    axes.set_xlabel("confidence")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(f"Reliability (ECE {report['calibration']['ece']:.3f})")
    axes.legend(loc="upper left")
    return _png(figure)


def coverage_figure(report: dict) -> str:
    """Accuracy of what is kept against the share kept, as `--uncertain-below` moves."""
    figure = Figure(figsize=(4, 4))
    axes = figure.subplots()
    for head, curve in report.get("coverage", {}).items():
        points = [p for p in curve["points"] if p["accuracy"] is not None]
        (line,) = axes.plot(
            [p["coverage"] for p in points], [p["accuracy"] for p in points], marker=".", label=head
        )
        if curve["accuracy"] is not None:
            axes.plot(curve["coverage"], curve["accuracy"], marker="o", markersize=9, color=line.get_color(),
                      markerfacecolor="none")  # fmt: skip
    axes.set_xlabel("share kept (not uncertain)")
    axes.set_ylabel("accuracy of the kept")
    axes.set_xlim(0, 1.02)
    axes.set_title("Coverage vs accuracy (circle: the model's threshold)")
    axes.legend(loc="lower left")
    return _png(figure)


def _table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f'<td class="n">{value:.3f}</td>'
        if isinstance(value, int):
            return f'<td class="n">{value}</td>'
        return f"<td>{escape(str(value))}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render(report: dict, title: str = "stancetopic evaluation") -> str:
    """The whole page as a string."""
    summary = _table(
        ["head", "accuracy", "macro-F1", "ECE"],
        [[h, report[h]["accuracy"], report[h]["macro_f1"], report[h]["ece"]] for h in ("stance", "topic")],
    )
    per_class = _table(
        ["head", "class", "precision", "recall", "F1", "support"],
        [
            [head, label, row["precision"], row["recall"], row["f1"], row["support"]]
            for head in ("stance", "topic")
            for label, row in report[head]["per_class"].items()
        ],
    )
    other, multi = report["other_topic"], report["multi_topic"]
    topics = _table(
        ["other recall", "on-topic sent to other", "paragraphs with `also`", "secondary topic in top 2"],
        [[other["other_recall"] or "-", other["on_topic_sent_to_other"] or "-", multi["n"],
          multi["secondary_in_top2"] or "-"]],
    )  # fmt: skip
    hard = _table(
        ["hard tag", "n", "stance accuracy", "topic accuracy"],
        [[t, r["n"], r["stance_accuracy"], r["topic_accuracy"]] for t, r in report["by_hard_tag"].items()],
    )
    errors = _table(
        ["head", "gold", "predicted", "score", "hard", "text"],
        [
            [e["head"], e["gold"], e["predicted"], e["score"], e["hard"] or "", e["text"]]
            for e in report["worst_errors"]
        ],
    )
    embedder = report["model"]["embedder"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{escape(title)}</h1>
<p class="meta">{report["n"]} paragraphs · data sha256 {report["data_sha256"][:12]} ·
embedder {escape(str(embedder["name"]))} ({embedder["dimension"]}-d)</p>
<h2>Summary</h2>{summary}{topics}
<h2>Confusion matrices</h2><div class="figs">{confusion_figure(report["stance"], "stance")}
{confusion_figure(report["topic"], "topic")}</div>
<h2>Per-class scores</h2><div class="figs">{f1_figure(report)}</div>{per_class}
<h2>Calibration and the uncertain threshold</h2><div class="figs">{reliability_figure(report)}
{coverage_figure(report)}</div>
<h2>Hard cases</h2>{hard}
<h2>Most confident errors</h2>{errors}
</body></html>
"""

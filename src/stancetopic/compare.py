"""Compare two evaluation reports, or two `label` outputs over the same folder.

`compare_files` is the entry point: it tells the kinds apart and turns any
file that is neither (junk, truncated, malformed, empty) into a DataError
naming it, never a traceback.
"""

from __future__ import annotations

import csv
import heapq
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stancetopic.errors import DataError, RefusedError
from stancetopic.output import FORMULA_START

HEADS = ("stance", "topic")
# Head metrics shown side by side; the last two exist in one head each (and
# only in reports written since they were added).
METRICS = ("accuracy", "macro_f1", "hard_macro_f1", "four_topic_macro_f1", "ece")
LOWER_IS_BETTER = {"ece"}
BIGGEST = 10


def is_report(path: Path) -> bool:
    """An evaluation report (a JSON object with both heads' metrics)."""
    if path.suffix.lower() != ".json":
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and all(isinstance(data.get(h), dict) for h in HEADS)


def _row(name: str, a: float | None, b: float | None) -> dict:
    delta = None if a is None or b is None else round(b - a, 6)
    better = delta is not None and (delta < 0 if name in LOWER_IS_BETTER else delta > 0)
    worse = delta is not None and (delta > 0 if name in LOWER_IS_BETTER else delta < 0)
    return {"name": name, "a": a, "b": b, "delta": delta, "mark": "▲" if better else "▼" if worse else "="}


def compare_reports(a: dict, b: dict) -> dict:
    """Metrics side by side with signed deltas, changed confusion cells, warnings."""
    warnings = []
    if a.get("data_sha256") != b.get("data_sha256"):
        warnings.append("the two reports scored different data (data_sha256 differs)")
    heads = {}
    for head in HEADS:
        sa, sb = a[head], b[head]
        labels_a, labels_b = sa["confusion"]["labels"], sb["confusion"]["labels"]
        if labels_a != labels_b:
            warnings.append(f"{head}: different label sets ({', '.join(labels_a)} vs {', '.join(labels_b)})")
        metrics = [_row(m, sa.get(m), sb.get(m)) for m in METRICS if m in sa or m in sb]
        classes = list(dict.fromkeys(labels_a + labels_b))
        f1 = [
            _row(c, sa["per_class"].get(c, {}).get("f1"), sb["per_class"].get(c, {}).get("f1"))
            for c in classes
        ]
        cells = []
        for actual in classes:
            for predicted in classes:
                ca = _cell(sa, actual, predicted)
                cb = _cell(sb, actual, predicted)
                if ca != cb:
                    cells.append(
                        {"actual": actual, "predicted": predicted, "a": ca, "b": cb, "delta": cb - ca}
                    )
        heads[head] = {"metrics": metrics, "per_class_f1": f1, "confusion_changes": cells}
    return {"kind": "reports", "warnings": warnings, "heads": heads}


def _cell(section: dict, actual: str, predicted: str) -> int:
    labels = section["confusion"]["labels"]
    if actual not in labels or predicted not in labels:
        return 0
    return section["confusion"]["matrix"][labels.index(actual)][labels.index(predicted)]


def _rows(path: Path) -> Iterator[dict]:
    """Raw rows of a `label` output, streamed, whatever its format."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches():
            yield from batch.to_pylist()
        return
    with path.open(encoding="utf-8", newline="") as handle:
        if suffix == ".csv":
            yield from ({k: _unneutralise(v) for k, v in row.items()} for row in csv.DictReader(handle))
        else:
            yield from (json.loads(line) for line in handle if line.strip())


def _unneutralise(value: Any) -> Any:
    """A CSV cell as it was before `output.neutralise` put a `'` before a formula-like start."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def read_label_output(path: Path) -> Iterator[dict]:
    """Records of a `label` output in any of its formats, topic scores as a dict.

    DataError (`file:record: reason`) on the first row that is not a label record.
    """
    number = 0
    try:
        for row in _rows(path):
            number += 1
            scores = row.get("topic_scores") or {
                k.removeprefix("topic_score_"): v for k, v in row.items() if k.startswith("topic_score_")
            }
            yield {
                "source": row["source"],
                "paragraph": int(row["paragraph"]),
                "text": row["text"],
                "stance": row["stance"],
                "stance_score": float(row["stance_score"]),
                "topic": row["topic"],
                "topic_scores": {k: float(v) for k, v in scores.items()},
            }
    except KeyError as exc:
        raise DataError(f"{path}:{number}: not a label record (no {exc.args[0]!r})") from exc
    except (AttributeError, TypeError, ValueError, RecursionError, UnicodeDecodeError, csv.Error) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("\n")[0][:200]
        raise DataError(f"{path}:{number + 1}: not a label record ({reason})") from exc
    except OSError as exc:
        raise DataError(f"{path}: unreadable ({exc.strerror or exc})") from exc


def _stance_probability(record: dict, label: str) -> float:
    """P(label) from a record that stores only the winning stance's score (two stances)."""
    return record["stance_score"] if record["stance"] == label else 1 - record["stance_score"]


def compare_labels(path_a: Path, path_b: Path) -> dict:
    """How many paragraphs changed stance or topic, and the biggest score shifts."""
    a = {(r["source"], r["paragraph"]): r for r in read_label_output(path_a)}
    warnings: list[str] = []
    biggest: list[tuple[float, int, dict]] = []  # a min-heap of the BIGGEST largest shifts
    stance_changed = topic_changed = matched = only_b = text_differs = 0
    for rb in read_label_output(path_b):
        ra = a.pop((rb["source"], rb["paragraph"]), None)
        if ra is None:
            only_b += 1
            continue
        matched += 1
        text_differs += ra["text"] != rb["text"]
        stance_changed += ra["stance"] != rb["stance"]
        topic_changed += ra["topic"] != rb["topic"]
        shift = max(
            abs(_stance_probability(rb, ra["stance"]) - ra["stance_score"]),
            abs(rb["topic_scores"].get(ra["topic"], 0.0) - ra["topic_scores"][ra["topic"]]),
        )
        change = {
            "source": rb["source"],
            "paragraph": rb["paragraph"],
            "text": rb["text"],
            "a": {"stance": ra["stance"], "topic": ra["topic"]},
            "b": {"stance": rb["stance"], "topic": rb["topic"]},
            "shift": round(shift, 6),
        }
        entry = (shift, -matched, change)  # ties: the earlier paragraph wins
        if len(biggest) < BIGGEST:
            heapq.heappush(biggest, entry)
        else:
            heapq.heappushpop(biggest, entry)
    if not matched and not a and not only_b:
        raise DataError(f"{path_a} and {path_b}: no label records to compare")
    if a or only_b:
        warnings.append(f"paragraphs differ: {len(a)} only in A, {only_b} only in B (different folders?)")
    if text_differs:
        warnings.append(f"{text_differs} matched paragraphs have different text (different folders?)")
    return {
        "kind": "labels",
        "warnings": warnings,
        "matched": matched,
        "stance_changed": stance_changed,
        "topic_changed": topic_changed,
        "biggest": [c for _, _, c in sorted(biggest, key=lambda e: (-e[0], -e[1]))],
    }


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def render(result: dict, fmt: str) -> str:
    """The comparison as a terminal table, Markdown, or JSON."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False)
    rows: list[list[str]] = []
    if result["kind"] == "reports":
        header = ["head", "metric", "A", "B", "delta", ""]
        for head, section in result["heads"].items():
            for row in section["metrics"]:
                rows.append(
                    [head, row["name"], _fmt(row["a"]), _fmt(row["b"]), _fmt(row["delta"], True), row["mark"]]
                )
            for row in section["per_class_f1"]:
                rows.append(
                    [
                        head,
                        f"F1 {row['name']}",
                        _fmt(row["a"]),
                        _fmt(row["b"]),
                        _fmt(row["delta"], True),
                        row["mark"],
                    ]
                )
        cells = [
            f"{head}: {c['actual']} -> {c['predicted']}: {c['a']} -> {c['b']} ({c['delta']:+d})"
            for head, section in result["heads"].items()
            for c in section["confusion_changes"]
        ]
        footer = (
            ["Changed confusion cells (gold -> predicted):", *cells]
            if cells
            else ["No confusion cell changed."]
        )
    else:
        header = ["source", "paragraph", "A", "B", "shift", "text"]
        for c in result["biggest"]:
            rows.append(
                [
                    c["source"],
                    str(c["paragraph"]),
                    f"{c['a']['stance']}/{c['a']['topic']}",
                    f"{c['b']['stance']}/{c['b']['topic']}",
                    _fmt(c["shift"]),
                    c["text"][:60].replace("\n", " ").replace("|", "/"),
                ]
            )
        footer = [
            f"{result['matched']} paragraphs matched: {result['stance_changed']} changed stance, "
            f"{result['topic_changed']} changed topic."
        ]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join([*lines, "", *footer])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    ]
    return "\n".join([*lines, "", *footer])


def _report(path: Path) -> dict:
    """A report file, checked by comparing it with itself (the comparison's reads are the schema)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        render(compare_reports(data, data), "table")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise DataError(
            f"{path}: not a complete stancetopic report ({exc.__class__.__name__}: {exc})"
        ) from exc
    return data


def compare_files(a: Path, b: Path) -> dict:
    """Compare two reports or two label outputs (the kind is told from the files).

    RefusedError when one of each is given; DataError naming the file when
    one is neither, malformed or empty.
    """
    for path in (a, b):
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file, not a report or a label output")
    kinds = is_report(a), is_report(b)
    if kinds[0] != kinds[1]:
        raise RefusedError("compare two evaluation reports or two label outputs, not one of each")
    if kinds[0]:
        return compare_reports(_report(a), _report(b))
    return compare_labels(a, b)

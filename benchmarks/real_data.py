"""Benchmark the model on real news: Emergent headlines (stance) and BBC articles (topic).

Usage: python benchmarks/real_data.py [--realdata DIR] [--backend onnx-int8] [--bbc-limit 300] [--json FILE]
       [--floors 0.74 0.75 0.76]   (also: Emergent flags at other stance thresholds, to choose the floor)

Our fixtures are our own writing; this measures the model on news nobody here
wrote, from ../shared/realdata/ (see its README; one line and exit 0 when it is
absent). The sets go to temporary folders only, deleted afterwards, and are
labelled by `stancetopic label --no-cache` as a child process: the CLI's own
code path, paragraph rules included. Each set is split by the parity of the
SHA-256 of a key into a `dev` half (look at it, make choices on it) and an
`aside` half (only report it); `all` is both together. The key keeps near-copies on one side: the
Emergent claimId (every headline about one rumour), the BBC title (the set
repeats 98 articles under other ids).

- Emergent: one .txt file per headline. Stance macro-F1 over the for/against
  headlines (for -> affirms, against -> denies; a headline without a record is
  wrong); how the observing headlines, which take no side, split between
  affirms, denies and `uncertain`; how often `uncertain` flags an error.
- BBC: one .txt file per article (title, blank line, text); business ->
  economy, sport/tech/entertainment -> other, politics left out. Economy-vs-other
  macro-F1 per article (economy iff the `--summary` row's `dominant_topic`, the
  highest mean topic probability over the article's paragraph records, is
  `economy`; the anchor: the same mean over its probabilities; no record is
  wrong) and per paragraph record (each takes its article's gold); where each
  category's paragraphs are sent.

Beside the model, an anchor: TF-IDF word 1-2-grams + LogisticRegression(C=4)
per head, fitted on data/prepared/train.jsonl, scoring the same record texts.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from machine import machine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline, make_pipeline

from stancetopic.languages import words
from stancetopic.model import read_manifest
from stancetopic.paragraphs import MIN_SENTENCE_WORDS

ROOT = Path(__file__).resolve().parents[1]
EMERGENT = "emergent-url-versions-2015-06-14-clean.csv"
HEADLINE = "articleHeadline"  # the CSV column of the headline
STANCE = {"for": "affirms", "against": "denies"}
TOPIC = {"business": "economy", "sport": "other", "tech": "other", "entertainment": "other"}
OPPOSITE = {"affirms": "denies", "denies": "affirms", "economy": "other", "other": "economy"}
TOPICS = ("courts", "defence", "economy", "migration", "other")
HALVES, SYSTEMS = ("dev", "aside", "all"), ("model", "anchor")  # "all": both halves
SEED = 1124  # of the --bbc-limit sample
EMERGENT_NOTE = """\
Emergent headlines, stance: for -> affirms, against -> denies; a headline without a record is wrong.
f/a lab.: share of the for/against headlines with a record (`labelled` in --json: of all headlines);
macro-F1 over for/against; affirms .. uncertain: shares of the observing headlines (uncertain: the
record's flag); f/a unc.: for/against headlines flagged; err flag: the model's f/a errors flagged
"""
BBC_NOTE = """
BBC, economy (business) vs other (sport, tech, entertainment), politics left out. An article is
economy iff its summary row's dominant_topic (highest mean topic probability over its paragraph records)
is economy (no record: wrong); each paragraph record takes its article's gold; err flag: the model's
paragraph errors flagged
"""


def digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")


def half(key: str) -> str:
    return HALVES[digest(key) % 2]


def within(key: str, name: str) -> bool:
    """Whether a row belongs to the named half ("all" holds both)."""
    return name == "all" or half(key) == name


def share(count: int, total: int) -> float | None:
    return count / total if total else None


def macro_f1(gold: list[str], predicted: list[str]) -> float | None:
    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro")) if gold else None


def label(files: dict[str, str], model: Path, backend: str | None) -> tuple[dict[str, list[dict]], dict]:
    """Write `files` to a temporary folder, run `stancetopic label` on it: its records by file, its summary rows."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder, out, summary = root / "in", root / "out.jsonl", root / "summary.json"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        command = [str(Path(sys.executable).with_name("stancetopic")), "label", str(folder), "-o", str(out),
                   "--summary", str(summary), "--model", str(model), "--no-cache", "-q",
                   *(["--backend", backend] if backend else [])]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 4):  # 4: some files skipped, the rest labelled
            sys.exit(f"stancetopic label exited {done.returncode}:\n{done.stderr[-2000:]}")
        records: dict[str, list[dict]] = defaultdict(list)
        for record in map(json.loads, out.read_text(encoding="utf-8").splitlines()):
            records[record["source"]].append(record)
        rows = json.loads(summary.read_text(encoding="utf-8"))["files"]
    return records, rows


def fit_anchor(train: Path) -> dict[str, Pipeline]:
    """TF-IDF word 1-2-grams + logistic regression per head; stance on affirms/denies lines only."""
    rows = [json.loads(line) for line in train.read_text().splitlines() if line.strip()]
    sided = [r for r in rows if r["stance"] in ("affirms", "denies")]
    return {
        head: make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(C=4, max_iter=5000)
        ).fit([r["text"] for r in part], [r[head] for r in part])
        for head, part in (("stance", sided), ("topic", rows))
    }


def stance_figures(gold: list[str], stances: list[str | None], flags: list[bool] | None) -> dict:
    """Emergent figures of one half and system; None is a headline without a record."""
    sided = [i for i, g in enumerate(gold) if g in STANCE]
    observing = [i for i, g in enumerate(gold) if g == "observing"]
    truth = [STANCE[gold[i]] for i in sided]
    guess = [stances[i] or OPPOSITE[t] for i, t in zip(sided, truth, strict=True)]
    split = Counter(stances[i] or "none" for i in observing)
    figures = {"stance_macro_f1": macro_f1(truth, guess)}
    figures |= {f"observing_{k}": share(split[k], len(observing)) for k in ("affirms", "denies", "none")}
    if flags is not None:  # the model's `uncertain`; a missing record is an error, not flagged
        errors = [i for i, t, g in zip(sided, truth, guess, strict=True) if t != g]
        figures |= {
            "observing_uncertain": share(sum(flags[i] for i in observing), len(observing)),
            "for_against_uncertain": share(sum(flags[i] for i in sided), len(sided)),
            "errors": len(errors),
            "errors_flagged": share(sum(flags[i] for i in errors), len(errors)),
        }
    return figures


def flagged_at(record: dict | None, stance_below: float, topic_below: float) -> bool:
    """Whether a record would be `uncertain` with this stance threshold (a missing one is not)."""
    return bool(record) and (record["stance_score"] < stance_below or record["topic_score"] < topic_below)


def emergent(
    path: Path, model: Path, backend: str | None, anchor: dict[str, Pipeline], floors: list[float]
) -> dict:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = [f"{i:05d}.txt" for i in range(len(rows))]
    records, _ = label(
        {n: r[HEADLINE].strip() + "\n" for n, r in zip(names, rows, strict=True)}, model, backend
    )
    first = [(records.get(name) or [None])[0] for name in names]
    predicted = iter(anchor["stance"].predict([r["text"] for r in first if r] or ["-"]))
    anchored = [str(next(predicted)) if r else None for r in first]
    figures: dict = {}
    for name in HALVES:
        ids = [i for i, row in enumerate(rows) if within(row["claimId"], name)]
        gold = [rows[i][f"{HEADLINE}Stance"] for i in ids]  # the label column is named after the headline's
        sided = [i for i, g in zip(ids, gold, strict=True) if g in STANCE]
        figures[name] = {
            "headlines": len(ids),
            "for_against": len(sided),
            "observing": gold.count("observing"),
            "labelled": share(sum(first[i] is not None for i in ids), len(ids)),
            "for_against_labelled": share(sum(first[i] is not None for i in sided), len(sided)),
            "model": stance_figures(
                gold,
                [first[i] and first[i]["stance"] for i in ids],
                [bool(first[i] and first[i]["uncertain"]) for i in ids],
            ),
            "anchor": stance_figures(gold, [anchored[i] for i in ids], None),
        }
        topic_below = read_manifest(model).uncertain_below["topic"]
        figures[name]["floors"] = {  # what `uncertain` would flag with each stance threshold
            str(floor): stance_figures(
                gold,
                [first[i] and first[i]["stance"] for i in ids],
                [flagged_at(first[i], floor, topic_below) for i in ids],
            )
            for floor in floors
        }
    figures["all"]["without_record"] = [rows[i][HEADLINE].strip() for i, r in enumerate(first) if r is None]
    return figures


Paragraphs = list[tuple[str, dict[str, float]]]  # (topic, every topic's probability) per paragraph record


def mean_topic(paragraphs: Paragraphs) -> str | None:
    """The anchor's article topic, by the rule of the summary's `dominant_topic`: highest mean probability."""
    mean = {t: float(np.mean([s[t] for _, s in paragraphs])) for t in TOPICS} if paragraphs else {}
    return min(mean, key=lambda t: (-mean[t], t)) if mean else None


def topic_figures(articles: list[tuple[str, Paragraphs, str | None]], flags: list[bool] | None) -> dict:
    """BBC figures of one half and system from (category, paragraphs, article topic) per article."""
    gold_a, pred_a, gold_p, pred_p = [], [], [], []
    routes: dict[str, Counter] = defaultdict(Counter)
    for category, paragraphs, topic_of_article in articles:
        gold = TOPIC[category]
        gold_a.append(gold)
        if topic_of_article is None:  # no record: wrong
            pred_a.append(OPPOSITE[gold])
        else:
            pred_a.append("economy" if topic_of_article == "economy" else "other")
        for topic, _ in paragraphs:
            routes[category][topic] += 1
            gold_p.append(gold)
            pred_p.append("economy" if topic == "economy" else "other")
    figures = {
        "article_macro_f1": macro_f1(gold_a, pred_a),
        "paragraph_macro_f1": macro_f1(gold_p, pred_p),
        "routes": {
            c: {t: share(n[t], n.total()) for t in TOPICS} | {"n": n.total()} for c, n in routes.items()
        },
    }
    if flags is not None:  # the model's `uncertain`, one per paragraph record
        flagged = [f for f, g, p in zip(flags, gold_p, pred_p, strict=True) if g != p]
        figures |= {"uncertain": share(sum(flags), len(flags)), "errors": len(flagged)}
        figures["errors_flagged"] = share(sum(flagged), len(flagged))
    return figures


def bbc(path: Path, model: Path, backend: str | None, anchor: dict[str, Pipeline], limit: int) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["category"] in TOPIC]
    if 0 < limit < len(rows):  # stratified: each category in proportion, its rows in a seeded hash order
        counts = Counter(r["category"] for r in rows)
        ranked = sorted(rows, key=lambda r: digest(f"{SEED}:{r['id']}"))
        rows = [
            r
            for c in sorted(counts)
            for r in [r for r in ranked if r["category"] == c][: round(limit * counts[c] / len(rows))]
        ]
    records, summary = label(
        {f"{r['id']}.txt": f"{r['title']}\n\n{r['text']}\n" for r in rows}, model, backend
    )
    mine = {r["id"]: records.get(f"{r['id']}.txt", []) for r in rows}
    texts = [p["text"] for r in rows for p in mine[r["id"]]]
    classes = list(anchor["topic"].classes_)
    pooled = iter(
        (classes[int(np.argmax(p))], dict(zip(classes, map(float, p), strict=True)))
        for p in anchor["topic"].predict_proba(texts or ["-"])
    )
    anchored = {r["id"]: [next(pooled) for _ in mine[r["id"]]] for r in rows}
    figures: dict = {}
    for name in HALVES:
        part = [r for r in rows if within(r["title"], name)]
        figures[name] = {
            "articles": len(part),
            "paragraphs": sum(len(mine[r["id"]]) for r in part),
            "model": topic_figures(
                [
                    (
                        r["category"],
                        [(p["topic"], p["topic_scores"]) for p in mine[r["id"]]],
                        summary.get(f"{r['id']}.txt", {}).get("dominant_topic"),
                    )
                    for r in part
                ],
                [p["uncertain"] for r in part for p in mine[r["id"]]],
            ),
            "anchor": topic_figures(
                [(r["category"], anchored[r["id"]], mean_topic(anchored[r["id"]])) for r in part], None
            ),
        }
    return figures


def table(columns: list[tuple[str, int]], rows: list[list]) -> None:
    """A header and rows; a negative width left-aligns a column; None prints as n/a."""
    for row in [[name for name, _ in columns], *rows]:
        cells = ["n/a" if v is None else v if isinstance(v, str | int) else f"{v:.3f}" for v in row]
        print(
            "".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, (_, w) in zip(cells, columns, strict=True))
        )


def report(figures: dict) -> None:
    print(EMERGENT_NOTE)
    stance_keys = ("observing_affirms", "observing_denies", "observing_none", "observing_uncertain",
                   "for_against_uncertain", "errors", "errors_flagged")  # fmt: skip
    table(
        [("half", -7), ("system", -8), ("f/a n", 7), ("f/a lab.", 9), ("macro-F1", 9), ("obs n", 7), ("affirms", 9),
         ("denies", 9), ("none", 9), ("uncertain", 10), ("f/a unc.", 9), ("err n", 7), ("err flag", 9)],
        [[name, s, h["for_against"], h["for_against_labelled"], h[s]["stance_macro_f1"], h["observing"],
          *(h[s].get(k) for k in stance_keys)] for name, h in figures["emergent"].items() for s in SYSTEMS],
    )  # fmt: skip
    missing = figures["emergent"]["all"]["without_record"]
    short = [h for h in missing if len(words(h)) < MIN_SENTENCE_WORDS]
    print(f"\nheadlines without a record: {len(missing)}, {len(short)} of them under {MIN_SENTENCE_WORDS} words;"
          f" the others: {[h for h in missing if h not in short]}")  # fmt: skip
    floors = [f for f in figures["emergent"]["dev"]["floors"]]
    if floors:
        print("\nShares flagged `uncertain` with other stance thresholds (label.floors.stance): for/against")
        print("headlines (f/a), observing headlines (obs), the model's f/a errors (err), per half:\n")
        table(
            [("threshold", -10), *((f"{h} {k}", 11) for h in HALVES for k in ("f/a", "obs", "err"))],
            [[floor, *(figures["emergent"][h]["floors"][floor][k] for h in HALVES
                       for k in ("for_against_uncertain", "observing_uncertain", "errors_flagged"))]
             for floor in floors],
        )  # fmt: skip
    print(BBC_NOTE)
    table(
        [("half", -7), ("system", -8), ("articles", 9), ("art. F1", 9), ("paras", 7), ("para F1", 9),
         ("uncertain", 10), ("err n", 7), ("err flag", 9)],
        [[name, s, h["articles"], h[s]["article_macro_f1"], h["paragraphs"], h[s]["paragraph_macro_f1"],
          *(h[s].get(k) for k in ("uncertain", "errors", "errors_flagged"))]
         for name, h in figures["bbc"].items() for s in SYSTEMS],
    )  # fmt: skip
    print("\nWhere each category's paragraph records are sent (shares):\n")
    table(
        [("half", -7), ("system", -8), ("category", -15), ("n", 6), *((t, 10) for t in TOPICS)],
        [[name, s, c, route["n"], *(route[t] for t in TOPICS)] for name, h in figures["bbc"].items()
         for s in SYSTEMS for c, route in sorted(h[s]["routes"].items())],
    )  # fmt: skip
    article = figures.get("article_cv_macro_f1")
    print(f"\nArticle stance on our article fixtures (data/articles/, 5-fold cross-validated when the model "
          f"was trained, from its manifest): macro-F1 {article if article is not None else 'n/a'}")  # fmt: skip
    seconds = figures["seconds"]
    print(f"\nseconds: anchor fit {seconds['anchor']:.1f}, Emergent {seconds['emergent']:.1f}, "
          f"BBC {seconds['bbc']:.1f} (labelling and scoring)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--backend", help="embedder runtime for `label` (default: the model's own)")
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "prepared" / "train.jsonl")
    parser.add_argument("--bbc-limit", type=int, default=0, help="a stratified sample of N articles (0: all)")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON")
    parser.add_argument(
        "--floors",
        type=float,
        nargs="*",
        default=[],
        help="also report Emergent flags at these stance thresholds",
    )
    args = parser.parse_args()
    if not args.realdata.is_dir():
        print(f"real_data: {os.path.relpath(args.realdata, ROOT)} not found; skipped")
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    figures: dict = {"machine": machine(), "date": datetime.date.today().isoformat(), "seconds": {}}
    figures |= {"model": str(args.model), "backend": args.backend, "bbc_limit": args.bbc_limit}
    figures["article_cv_macro_f1"] = (read_manifest(args.model).article or {}).get("cv_macro_f1")
    backend = args.backend or "the model's own"
    print(f"{figures['machine']}; {figures['date']}; model {args.model}, backend {backend}\n")
    started = time.perf_counter()
    anchor = fit_anchor(args.train)
    figures["seconds"]["anchor"] = time.perf_counter() - started
    started = time.perf_counter()
    figures["emergent"] = emergent(args.realdata / EMERGENT, args.model, args.backend, anchor, args.floors)
    figures["seconds"]["emergent"] = time.perf_counter() - started
    started = time.perf_counter()
    figures["bbc"] = bbc(args.realdata / "bbc-news.jsonl", args.model, args.backend, anchor, args.bbc_limit)
    figures["seconds"]["bbc"] = time.perf_counter() - started
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

"""Simulate the active-learning loop on real news: suggested labels against random ones.

Usage: python benchmarks/active_learning.py [--realdata DIR] [--model models] [--sizes 50 100 200]
       [--seeds 3] [--cache-dir DIR] [--png docs/active-learning.png] [--json FILE] [--added-weight W]
       [--added-total R] [--finetune]

The BBC set in ../shared/realdata/ (one line and exit 0 when it is absent) is a
domain the model was not trained on; its gold category stands in for the person
(business -> economy; sport, tech, entertainment -> other; politics left out).
Articles are split by the SHA-256 of their title, as in benchmarks/real_data.py:
its `dev` half is the pool a user would label from, its `aside` half is only
scored. A third of the pool (by another hash of the title) is the pool's own dev
part: the selection design was chosen on it, never on the aside half. Articles
go to temporary folders and are labelled by `stancetopic label` as a child
process; nothing from the set is written into the repository.

For N in --sizes, `stancetopic.suggest` picks N paragraphs of the pool (exactly
as `stancetopic suggest`, fixtures excluded), and --seeds random draws of N
paragraphs are the comparison. Each set of N is added to the training rows with
its article's gold topic and the model's own stance (the stance of a BBC
paragraph is unknown: the pre-filled stance is kept, as a person who only
checks the topic would), and the heads are refitted with `heads.fit_heads` on
the committed model's embeddings, each added line weighing what the `train`
stage gives it (`heads.added_line_weight`; --added-weight and --added-total try
other values), the n-gram weights fixed at the committed
model's (the `train` stage's recipe otherwise). Our calib slice is scored too:
what the added lines cost at home. This is heads-only, as `dvc repro` after
`add` is by default (`finetune.added: false`); --finetune also scores the
largest suggested set with the embedder fine-tuned on it (`finetune.added:
true`; several minutes more). One difference from the pipeline: `prepare`
would put a third of the lines in calib and test rather than all in train.
Scored: economy-vs-other macro-F1 per paragraph record (each takes its
article's gold; economy iff the topic head's top topic is economy).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from machine import machine
from sklearn.metrics import f1_score

from stancetopic import cache, embedder, suggest
from stancetopic.compare import read_label_output
from stancetopic.finetune import finetune
from stancetopic.fixtures import read_labelled
from stancetopic.heads import FittedHeads, added_line_weight, features, fit_heads
from stancetopic.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
TOPIC = {"business": "economy", "sport": "other", "tech": "other", "entertainment": "other"}
PARTS = ("pool", "pool-dev", "aside")  # pool-dev: where the selection design was chosen


def digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")


def part(title: str) -> str:
    """real_data.py's halves (dev: parity 0, the pool; aside: parity 1), and a third of the pool aside as its dev."""
    if digest(title) % 2:
        return "aside"
    return "pool-dev" if digest(f"al-dev:{title}") % 3 == 0 else "pool"


def label(articles: list[dict], folder: Path, model: Path, cache_dir: Path) -> Path:
    """Write the articles as .txt files under `folder` and label them with the CLI; the output's path."""
    folder.mkdir()
    for row in articles:
        (folder / f"{row['id']}.txt").write_text(f"{row['title']}\n\n{row['text']}\n", encoding="utf-8")
    out = folder.with_suffix(".jsonl")
    command = [str(Path(sys.executable).with_name("stancetopic")), "label", str(folder), "-o", str(out),
               "--model", str(model), "--cache-dir", str(cache_dir), "-q"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 4):
        sys.exit(f"stancetopic label exited {done.returncode}:\n{done.stderr[-2000:]}")
    return out


def macro_f1(gold: np.ndarray, topics: np.ndarray) -> float:
    return float(f1_score(gold, np.where(topics == "economy", "economy", "other"), average="macro"))


def retrain(base: dict, added: list[dict], added_vectors: np.ndarray) -> FittedHeads:
    """The heads refitted on the training rows plus the added ones (calibrated on calib as in `train`),
    each added row weighing what `heads.added_line_weight` gives it, as in the `train` stage."""
    weight = added_line_weight(len(added), len(base["train"]), base["params"]["train"])
    return fit_heads(
        base["train"] + added,
        np.vstack([base["train_vectors"], added_vectors]),
        base["calib"],
        base["calib_vectors"],
        base["params"]["train"],
        base["params"]["label"],
        np.array([1.0] * len(base["train"]) + [weight] * len(added)),
    )


def scored(fitted: FittedHeads, data: dict, base: dict) -> dict[str, float]:
    """Economy-vs-other macro-F1 of the refitted topic head on pool-dev and aside, and both heads'
    macro-F1 at home (our calib slice: what the added lines must not cost)."""
    head, ngrams = fitted.estimators["topic"], fitted.estimators["ngrams"]
    figures = {}
    for name in ("pool-dev", "aside"):
        x = features(data[name]["vectors"], data[name]["texts"], ngrams, fitted.ngram_weights["topic"])
        figures[name] = macro_f1(data[name]["gold"], head.predict(x))
    for name in ("stance", "topic"):
        figures[f"calib_{name}"] = fitted.macro_f1(name, base["calib"], base["calib_vectors"])
    return figures


def designs(base: dict, data: dict, added, n: int) -> dict[str, dict[str, float]]:
    """Other selection designs at N, to show why the shipped one was chosen (on pool-dev), and the
    ceiling: every pool paragraph added."""
    pool = data["pool"]
    known = np.vstack([base["train_vectors"], base["calib_vectors"], base["test_vectors"]])  # the fixtures
    records = pool["records"]
    uncertain, disagreeing = suggest.uncertainty(records), suggest.disagreement(records)
    doubt = suggest.file_uncertainty(records)
    variants = {
        "no file-topic margin": (uncertain + disagreeing, suggest.PER_FILE),  # shipped until 2026-12-04
        "no file disagreement": (uncertain + doubt, suggest.PER_FILE),
        "no per-file limit": (uncertain + disagreeing + doubt, n),
        "uncertainty only, no limit": (uncertain, n),
    }
    figures = {}
    for name, (value, per_file) in variants.items():
        indexes = suggest.select(records, pool["vectors"], n, 0, known, value, per_file)
        figures[name] = scored(retrain(base, *added(indexes)), data, base)
    everything = list(range(len(records)))
    figures[f"every pool paragraph ({len(everything)})"] = scored(
        retrain(base, *added(everything)), data, base
    )
    return figures


def finetuned(base: dict, data: dict, lines: list[dict]) -> dict[str, float]:
    """The lines added with `finetune.added: true`: a fresh base embedder fine-tuned on the fine-tuning
    split plus the lines, as the `finetune` stage would, then everything re-embedded and the heads refitted."""
    params = base["params"]
    model = embedder.load(params["embed"]["model"])
    finetune(
        model, read_labelled([ROOT / "data" / "prepared" / "finetune.jsonl"]) + lines, params["finetune"]
    )

    def encode(texts: list[str]) -> np.ndarray:
        return embedder.encode(model, texts)

    tuned = {**base, **{f"{n}_vectors": encode([r["text"] for r in base[n]]) for n in ("train", "calib")}}
    parts = {name: {**data[name], "vectors": encode(data[name]["texts"])} for name in ("pool-dev", "aside")}
    return scored(retrain(tuned, lines, encode([line["text"] for line in lines])), parts, tuned)


def reduction(f1: float, baseline: float) -> float:
    """The share of the baseline's remaining error (1 - macro-F1) that is gone."""
    return 1 - (1 - f1) / (1 - baseline)


def plot(figures: dict, path: Path) -> None:
    """The learning curve on the aside half: suggested vs random (mean, min-max band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [0, *figures["sizes"]]
    base = figures["baseline"]["aside"]
    suggested = [base, *(figures["points"][str(n)]["suggested"]["aside"] for n in figures["sizes"])]
    randoms = [[base] * figures["seeds"]] + [
        [r["aside"] for r in figures["points"][str(n)]["random"]] for n in figures["sizes"]
    ]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    ax.plot(sizes, suggested, "o-", color="tab:blue", label="suggested (stancetopic suggest)")
    ax.plot(sizes, [np.mean(r) for r in randoms], "s--", color="tab:gray", label="random (mean)")
    ax.fill_between(sizes, [min(r) for r in randoms], [max(r) for r in randoms], color="tab:gray", alpha=0.2)
    ax.axhline(1 - (1 - base) / 2, color="tab:red", linestyle=":", label="half the remaining error")
    ax.set_xlabel("labelled BBC paragraphs added")
    ax.set_ylabel("economy-vs-other macro-F1 (aside half)")
    ax.set_title("Heads retrained on added labels (BBC, per paragraph)")
    ax.set_xticks(sizes)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--seeds", type=int, default=3, help="random draws per size")
    parser.add_argument("--cache-dir", type=Path, default=cache.default_dir(), help="embedding cache")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "active-learning.png")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON")
    parser.add_argument(
        "--added-weight", type=float, help="the most an added line weighs (default: params.yaml)"
    )
    parser.add_argument("--added-total", type=float,
                        help="added lines together weigh at most this many times ours (default: params.yaml)")  # fmt: skip
    parser.add_argument("--finetune", action="store_true",
                        help="also fine-tune the embedder on the largest suggested set (finetune.added: true; minutes)")  # fmt: skip
    args = parser.parse_args()
    source = args.realdata / "bbc-news.jsonl"
    if not source.is_file():
        print(f"active_learning: {os.path.relpath(source, ROOT)} not found; skipped")
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    figures: dict = {"machine": machine(), "date": datetime.date.today().isoformat(), "sizes": args.sizes,
                     "seeds": args.seeds, "seconds": {}}  # fmt: skip
    print(f"{figures['machine']}; {figures['date']}; model {args.model}\n")
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["category"] in TOPIC]
    started = time.perf_counter()
    predictor = Predictor.from_folder(args.model, cache_dir=args.cache_dir, lazy=True)
    data: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in PARTS:
            articles = [r for r in rows if part(r["title"]) == name]
            path = label(articles, Path(scratch) / name, args.model, args.cache_dir)
            records = list(read_label_output(path))
            category = {f"{r['id']}.txt": r["category"] for r in articles}
            texts = [r["text"] for r in records]
            data[name] = {"path": path, "records": records, "texts": texts, "articles": len(articles),
                          "gold": np.array([TOPIC[category[r["source"]]] for r in records]),
                          "vectors": predictor.embed(texts)}  # fmt: skip
            if name != "pool":
                data[name]["committed"] = macro_f1(
                    data[name]["gold"], np.array([r["topic"] for r in records])
                )
        figures["seconds"]["label"] = time.perf_counter() - started
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        for key in ("added_weight", "added_total"):
            if getattr(args, key) is not None:
                params["train"][key] = getattr(args, key)
            figures[key] = params["train"][key]
        for head, weight in predictor.heads.manifest.ngram_weights.items():
            params["train"][head]["ngram_weights"] = [weight]
        prepared = ROOT / "data" / "prepared"
        base = {
            "params": params,
            "train": read_labelled([prepared / "train.jsonl"]),
            "calib": read_labelled([prepared / "calib.jsonl"]),
            "train_vectors": np.load(ROOT / "data" / "embeddings" / "train.npy"),
            "calib_vectors": np.load(ROOT / "data" / "embeddings" / "calib.npy"),
            "test_vectors": np.load(ROOT / "data" / "embeddings" / "test.npy"),
        }
        figures["train_lines"] = len(base["train"])
        pool = data["pool"]
        where = {(r["source"], r["paragraph"]): i for i, r in enumerate(pool["records"])}

        def added(indexes: list[int]) -> tuple[list[dict], np.ndarray]:
            lines = [{"id": f"bbc-{i}", "text": pool["texts"][i], "stance": pool["records"][i]["stance"],
                      "topic": str(pool["gold"][i])} for i in indexes]  # fmt: skip
            return lines, pool["vectors"][indexes]

        started = time.perf_counter()
        figures["committed"] = {name: data[name]["committed"] for name in ("pool-dev", "aside")}
        figures["baseline"] = scored(retrain(base, *added([])), data, base)
        figures["points"], picked = {}, {}
        for n in args.sizes:
            chosen = suggest.suggest(
                pool["path"], n, predictor, seed=0, fixtures=[ROOT / "data" / "fixtures"]
            )
            indexes = picked[n] = [where[(line["source"], line["paragraph"])] for line in chosen.lines]
            point = {"suggested": scored(retrain(base, *added(indexes)), data, base), "random": []}
            point["suggested"]["errors_picked"] = int(
                sum(
                    (pool["records"][i]["topic"] == "economy") != (pool["gold"][i] == "economy")
                    for i in indexes
                )
            )
            for seed in range(args.seeds):
                draw = np.random.default_rng(seed).choice(len(pool["records"]), n, replace=False).tolist()
                point["random"].append(scored(retrain(base, *added(draw)), data, base))
            figures["points"][str(n)] = point
            print(f"  {n} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        n = max(args.sizes)
        figures["designs"] = designs(base, data, added, n)
        if args.finetune:
            figures["designs"][f"+{n} suggested, fine-tuned"] = finetuned(base, data, added(picked[n])[0])
        figures["seconds"]["retrain"] = time.perf_counter() - started
    report(figures, data)
    if args.png:
        plot(figures, args.png)
        print(f"\nlearning curve: {os.path.relpath(args.png, ROOT)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def report(figures: dict, data: dict) -> None:
    print(f"BBC: pool {data['pool']['articles']} articles / {len(data['pool']['records'])} paragraphs; "
          f"pool-dev {data['pool-dev']['articles']} / {len(data['pool-dev']['records'])}; "
          f"aside {data['aside']['articles']} / {len(data['aside']['records'])}; "
          f"N added lines weigh min({figures['added_weight']:g}, {figures['added_total']:g} x "
          f"{figures['train_lines']} / N) each, at least 1")  # fmt: skip
    print("economy-vs-other macro-F1 per paragraph; reduction: share of the baseline's remaining error")
    print("(1 - F1) that is gone; calib: our calib slice's stance and topic macro-F1 (the cost at home);")
    print("random: mean over seeds 0..{}\n".format(figures["seeds"] - 1))
    base = figures["baseline"]

    def row(name: str, values: dict, note: str = "") -> None:
        print(f"{name:<30}{values['pool-dev']:>8.3f}{values['aside']:>8.3f}"
              f"{reduction(values['aside'], base['aside']):>10.3f}"
              f"{values['calib_stance']:>8.3f}{values['calib_topic']:>7.3f}   {note}".rstrip())  # fmt: skip

    print(f"{'':<30}{'pool-dev':>8}{'aside':>8}{'reduction':>10}{'calib stance':>14}{'topic':>7}")
    print(
        f"{'committed model':<30}{figures['committed']['pool-dev']:>8.3f}{figures['committed']['aside']:>8.3f}"
    )
    row("baseline (refit, +0)", base)
    for n in figures["sizes"]:
        point = figures["points"][str(n)]
        s = point["suggested"]
        row(f"+{n} suggested", s, f"({s['errors_picked']} of {n} were the model's errors)")
        point["random_mean"] = {key: float(np.mean([r[key] for r in point["random"]])) for key in s
                                if key != "errors_picked"}  # fmt: skip
        spread = [r["aside"] for r in point["random"]]
        row(f"+{n} random", point["random_mean"], f"(aside {min(spread):.3f}-{max(spread):.3f})")
    n = max(figures["sizes"])
    print(f"\nOther selection designs at +{n} (the shipped one is `+{n} suggested` above), and the ceiling:")
    for name, values in figures["designs"].items():
        row(name, values)
    seconds = figures["seconds"]
    print(f"\nseconds: labelling and embedding {seconds['label']:.0f}, suggesting and retraining "
          f"{seconds['retrain']:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()

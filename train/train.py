"""Stage `train`: fit the stance and topic heads on the embeddings, save them.

Usage: python train/train.py   (reads params.yaml: train.*, and the others for the record)
Writes models/stance.joblib, models/topic.joblib and models/manifest.json; the
manifest also checksums every file of models/embedder/.
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import yaml

from stancetopic import model
from stancetopic.articles import ArticleRule, fit_on_articles, read_articles
from stancetopic.digest import sha256_folder
from stancetopic.embedder import FINETUNING_RECORD
from stancetopic.fixtures import LabelledDataError, fixture_files, read_labelled
from stancetopic.heads import FittedHeads, added_line_weight, drop_caches, features, fit_heads

EMBEDDER = Path("models/embedder")
ARTICLE_VECTORS = Path("data/embeddings/articles.npy")
PACKAGES = (
    "stancetopic",
    "torch",
    "sentence-transformers",
    "transformers",
    "scikit-learn",
    "numpy",
    "joblib",
)


def fit_article_rule(fitted: FittedHeads, params: dict) -> tuple[ArticleRule, float] | None:
    """The article-stance rule and its CV macro-F1, fitted on the article fixtures (None without any).

    Their units' vectors come from the embed stage (data/embeddings/articles.npy),
    so this stage never loads the embedder.
    """
    articles = read_articles(sorted(Path(params["train"]["articles"]).glob("*.jsonl")))
    if not articles:
        return None
    vectors = np.load(ARTICLE_VECTORS)
    stance = fitted.estimators["stance"]
    column = list(stance.classes_).index("denies")

    def deny(texts: list[str]) -> np.ndarray:
        if len(texts) != len(vectors):
            raise ValueError(
                f"{ARTICLE_VECTORS} has {len(vectors)} rows for {len(texts)} units: run `dvc repro`"
            )
        x = features(vectors, texts, fitted.estimators["ngrams"], fitted.ngram_weights["stance"])
        return stance.predict_proba(x)[:, column]

    return fit_on_articles(articles, deny, params["train"]["seed"])


def record_weights(records: list[dict], params: dict) -> np.ndarray:
    """One weight per training record: 1 for ours, `heads.added_line_weight` for the user's own lines."""
    added = {r["id"] for r in read_labelled(fixture_files(params["prepare"]["added"]))}
    mine = np.array([r["id"] in added for r in records], dtype=bool)
    return np.where(mine, added_line_weight(int(mine.sum()), int((~mine).sum()), params["train"]), 1.0)


def finetuning_record() -> dict | None:
    """What the finetune stage recorded next to the embedder (None: not fine-tuned)."""
    path = EMBEDDER / FINETUNING_RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())
    records = read_labelled([Path("data/prepared/train.jsonl")])
    vectors = np.load("data/embeddings/train.npy")
    calib = read_labelled([Path("data/prepared/calib.jsonl")])
    try:
        fitted = fit_heads(
            records,
            vectors,
            calib,
            np.load("data/embeddings/calib.npy"),
            params["train"],
            params["label"],
            record_weights(records, params),
        )
    except ValueError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 1
    heads, weights, thresholds = fitted.estimators, fitted.ngram_weights, fitted.uncertain_below
    try:
        article = fit_article_rule(fitted, params)
    except LabelledDataError as exc:
        print(exc, file=sys.stderr)
        print(f"train: {len(exc.problems)} problem(s) in the article fixtures", file=sys.stderr)
        return 1
    rule, cv_f1 = article if article is not None else (None, None)
    manifest = model.Manifest(
        # The heads' own (sorted) class order: probability columns follow it.
        labels={head: [str(c) for c in heads[head].classes_] for head in ("stance", "topic")},
        ngram_weights=weights,
        embedder=model.EmbedderInfo(
            name=EMBEDDER.name,
            bundled=True,
            base=params["embed"]["model"],
            finetuned=params["finetune"]["enabled"],
            precision=finetuning["precision"] if (finetuning := finetuning_record()) else None,
            dimension=int(vectors.shape[1]),
            sha256=sha256_folder(EMBEDDER),
        ),
        params={stage: params[stage] for stage in ("prepare", "embed", "finetune", "train")},
        uncertain_below=thresholds,
        backend=params["label"]["backend"],
        calib_size=len(calib),
        fixtures_sha256=sha256_folder(params["prepare"]["fixtures"], "*.jsonl"),
        added_sha256=sha256_folder(added, "*.jsonl")
        if fixture_files(added := params["prepare"]["added"])
        else None,
        train_size=len(records),
        versions={name: version(name) for name in PACKAGES},
        article={**rule.as_dict(), "cv_macro_f1": round(cv_f1, 4)} if rule and cv_f1 is not None else None,
    )
    drop_caches(heads["ngrams"])
    embedder_files = sorted(p for p in EMBEDDER.rglob("*") if p.is_file())
    model.save(EMBEDDER.parent, heads, manifest, embedder_files)
    article = f"{cv_f1:.3f}" if cv_f1 is not None else "n/a (no article fixtures)"
    print(
        f"train: saved heads for {len(records)} paragraphs to models/ "
        f"(n-gram weights {weights}, uncertain below {thresholds}, "
        f"article stance cross-validated macro-F1 {article})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Article stance: does a whole article confirm or debunk its lead claim?

Paragraph labels do not add up to that. A debunk restates the rumour at
length before refuting it, so half its paragraphs can come out `affirms`; a
confirmation carries side negations ("no injuries were reported") that flip a
majority vote. The rule here is a small logistic regression over where in
the article the denials sit (the lead, the first three units, the last,
the mean and the share), fitted by the `train` stage on our article fixtures
(`data/articles/`, format in `data/README.md`) and stored in the manifest as
plain numbers, so nothing is unpickled for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stancetopic.fixtures import LabelledDataError, Problem
from stancetopic.labels import STANCES, TOPICS
from stancetopic.readers import record_units

KEYS = ("id", "headline", "text", "stance", "topic")
FEATURES = ("lead", "first_three_max", "last", "mean", "share")
LEAD = 3  # units that count as the opening


def features(deny: list[float] | np.ndarray) -> np.ndarray:
    """An article's features from its units' P(denies), in reading order."""
    p = np.asarray(deny, dtype=float)
    if not len(p):
        return np.full(len(FEATURES), 0.5)
    return np.array([p[0], p[:LEAD].max(), p[-1], p.mean(), float(np.mean(p > 0.5))])


@dataclass(frozen=True)
class ArticleRule:
    """P(denies) of an article = sigmoid(coef · features + intercept)."""

    coef: tuple[float, ...]
    intercept: float

    def deny_probability(self, deny: list[float] | np.ndarray) -> float:
        z = float(np.dot(self.coef, features(deny)) + self.intercept)
        return float(1 / (1 + np.exp(-z)))

    def as_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ArticleRule:
        if data.get("features") != list(FEATURES):
            raise ValueError(f"article rule features {data.get('features')} are not {list(FEATURES)}")
        return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]))


def article_units(articles: list[dict]) -> list[list[str]]:
    """Each article cut into the units `label` would score, as texts."""
    return [[u.text for u in record_units(article)] for article in articles]


def fit_on_articles(
    articles: list[dict], deny: Callable[[list[str]], np.ndarray], seed: int
) -> tuple[ArticleRule, float]:
    """Cut each article into units as `label` does, score them with `deny` (texts -> P(denies)), fit the rule.

    `deny` gets every unit of every article in one call, in `article_units` order.
    """
    units = article_units(articles)
    scores = deny([text for article in units for text in article])
    ends = np.cumsum([len(u) for u in units])
    rows = np.array([features(part) for part in np.split(scores, ends[:-1])])
    return fit_rule(rows, [a["stance"] for a in articles], seed)


def fit_rule(rows: np.ndarray, labels: list[str], seed: int) -> tuple[ArticleRule, float]:
    """Fit the rule on all articles; also return its 5-fold cross-validated macro-F1."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.array([label == "denies" for label in labels], dtype=int)
    estimator = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    predicted = cross_val_predict(estimator, rows, y, cv=folds)
    score = float(f1_score(y, predicted, average="macro"))
    estimator.fit(rows, y)
    return ArticleRule(tuple(float(c) for c in estimator.coef_[0]), float(estimator.intercept_[0])), score


def read_articles(paths: list[Path]) -> list[dict]:
    """Read article fixtures (one JSON object a line); LabelledDataError lists every problem."""
    records, problems, seen = [], [], set()
    for path in paths:
        for number, raw in enumerate(Path(path).read_bytes().splitlines(), start=1):
            where = (str(path), number)
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                problems.append(Problem(*where, f"not UTF-8 ({exc.reason})"))
                continue
            except json.JSONDecodeError as exc:
                problems.append(Problem(*where, f"bad JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict) or set(obj) != set(KEYS):
                got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
                problems.append(Problem(*where, f"expected exactly the keys {', '.join(KEYS)}, got {got}"))
                continue
            errors = [f"'{key}' must be a string" for key in KEYS if not isinstance(obj[key], str)]
            if not errors:
                if obj["stance"] not in STANCES:
                    errors.append(f"unknown stance {obj['stance']!r} (expected one of {', '.join(STANCES)})")
                if obj["topic"] not in TOPICS:
                    errors.append(f"unknown topic {obj['topic']!r}")
                if not obj["text"].strip():
                    errors.append("'text' is empty")
                if obj["id"] in seen:
                    errors.append(f"duplicate id {obj['id']!r}")
            problems += [Problem(*where, message) for message in errors]
            if not errors:
                seen.add(obj["id"])
                records.append(obj)
    if problems:
        raise LabelledDataError(problems)
    return records

"""Article stance: fixtures read with file:line errors, features, the rule and its use in summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancetopic.articles import ArticleRule, features, fit_on_articles, fit_rule, read_articles
from stancetopic.fixtures import LabelledDataError
from stancetopic.labeling import FileSummary

ARTICLE = {
    "id": "a-1",
    "headline": "Minister denies selling the port",
    "text": "One.\n\nTwo.",
    "stance": "denies",
    "topic": "economy",
}


def test_bad_article_lines_are_reported_with_file_and_line(tmp_path):
    path = tmp_path / "articles.jsonl"
    lines = [ARTICLE, {**ARTICLE, "id": "a-2", "stance": "maybe"}, {**ARTICLE, "id": "a-1"}, {"id": "a-4"}]
    path.write_bytes(
        ("\n".join(json.dumps(x) for x in lines) + "\nnot json\n").encode() + b'{"id": "\xff"}\n'
    )
    with pytest.raises(LabelledDataError) as error:
        read_articles([path])
    messages = str(error.value).splitlines()
    assert messages[0].startswith(f"{path}:2: unknown stance 'maybe'")
    assert any(m.startswith(f"{path}:3: duplicate id") for m in messages)
    assert any(m.startswith(f"{path}:4: expected exactly the keys") for m in messages)
    assert any(m.startswith(f"{path}:5: bad JSON") for m in messages)
    assert any(m.startswith(f"{path}:6: not UTF-8") for m in messages)


def test_features_read_the_lead_the_opening_the_end_and_the_mean():
    assert features([0.9, 0.2, 0.1, 0.8]).tolist() == pytest.approx([0.9, 0.9, 0.8, 0.5, 0.5])
    assert features([]).tolist() == [0.5] * 5


def test_the_rule_learns_that_a_late_refutation_debunks():
    # Debunks restate the rumour (affirming units) and refute it at the end;
    # confirmations affirm throughout with one side negation in the middle.
    noise = np.random.default_rng(0).uniform(0, 0.05, (40, 5))
    debunks = [[0.1, 0.2, 0.15, 0.9, 0.95]] * 20
    confirms = [[0.1, 0.1, 0.9, 0.1, 0.1]] * 20
    rows = np.array([features(np.add(d, n)) for d, n in zip(debunks + confirms, noise, strict=True)])
    rule, f1 = fit_rule(rows, ["denies"] * 20 + ["affirms"] * 20, seed=0)
    assert f1 == 1.0
    assert (
        rule.deny_probability([0.1, 0.2, 0.1, 0.9, 0.9])
        > 0.5
        > rule.deny_probability([0.1, 0.1, 0.9, 0.1, 0.1])
    )
    stored = ArticleRule.from_dict(json.loads(json.dumps(rule.as_dict())))  # as the manifest keeps it
    assert stored.deny_probability([0.1, 0.9]) == pytest.approx(rule.deny_probability([0.1, 0.9]), abs=1e-5)


def test_fitting_cuts_articles_into_the_units_label_would_score():
    seen = []

    def deny(texts):
        seen.extend(texts)
        return np.array([0.9 if "denied" in t else 0.1 for t in texts])

    articles = [
        {**ARTICLE, "id": f"a-{i}", "headline": "", "stance": stance,
         "text": f"Story {i} has a first sentence here.\n\nOfficials {verb} it on Monday, the ministry said."}
        for i, (stance, verb) in enumerate([("denies", "denied"), ("affirms", "confirmed")] * 5)
    ]  # fmt: skip
    _, f1 = fit_on_articles(articles, deny, seed=0)
    assert len(seen) == 20 and f1 == 1.0


def test_the_file_summary_gives_the_article_stance_with_its_probability():
    summary = FileSummary()
    for stance, score in (("affirms", 0.9), ("affirms", 0.8), ("denies", 0.95)):
        summary.add(
            {
                "stance": stance,
                "stance_score": score,
                "topic": "courts",
                "topic_scores": {"courts": 0.9, "other": 0.1},
            }
        )
    assert summary.deny == pytest.approx([0.1, 0.2, 0.95])
    rule = ArticleRule((0.0, 0.0, 10.0, 0.0, 0.0), -5.0)  # the last unit decides
    row = summary.as_dict(["affirms", "denies"], rule, uncertain_below=0.99)
    assert row["article_stance"] == {
        "stance": "denies",
        "probability": pytest.approx(0.9890, abs=1e-4),
        "uncertain": True,
    }
    assert "article_stance" not in summary.as_dict(["affirms", "denies"])

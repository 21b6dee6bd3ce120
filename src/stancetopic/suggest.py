"""Choose the paragraphs of a `label` output most worth a person's time to label.

A paragraph teaches the model most where it is unsure (a low margin between
the top two stance or topic scores), where its topic disagrees with the rest
of its own file (a business article's paragraph called `other`), or where its
file's topic is itself a close call (a whole article filed under the wrong
topic has no paragraph that disagrees with it): on real news those are mostly
errors. Near-duplicates (by the model's own embedding) and
paragraphs already in the fixtures are skipped, and no file gives more than a
few paragraphs, so one batch of review covers many stories. The design and its
figures are in docs/active-learning.md (benchmarks/active_learning.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stancetopic import label_studio
from stancetopic.adding import CONTEXT_KEYS, REVIEW, TODO
from stancetopic.compare import read_label_output
from stancetopic.fixtures import fixture_files, normalised, read_labelled
from stancetopic.predictor import Predictor

NEAR_DUPLICATE = 0.95  # cosine similarity at or above which two paragraphs count as one
# At most this many suggestions from one file, or N / files when that is more (a single
# JSON Lines file of many articles is one file).
PER_FILE = 5
SHORTLIST = 20  # only the N * SHORTLIST most uncertain paragraphs are embedded and compared
BATCH = 512


def uncertainty(records: list[dict]) -> np.ndarray:
    """1 - the smaller of the two heads' margins (stance: |2p - 1|; topic: top score minus the runner-up)."""
    values = np.empty(len(records))
    for i, record in enumerate(records):
        top = sorted(record["topic_scores"].values(), reverse=True)
        topic_margin = top[0] - (top[1] if len(top) > 1 else 0.0)
        values[i] = 1 - min(topic_margin, abs(2 * record["stance_score"] - 1))
    return values


def _file_topics(records: list[dict]) -> dict[str, list[tuple[float, str]]]:
    """Each file's topics as (summed probability over its paragraphs, topic), highest first."""
    by_file: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        by_file[record["source"]].update(record["topic_scores"])
    return {
        source: sorted(((sums[t], t) for t in sums), key=lambda pair: (-pair[0], pair[1]))
        for source, sums in by_file.items()
    }


def disagreement(records: list[dict]) -> np.ndarray:
    """1 where a paragraph's topic is not its file's (the highest mean topic probability there), else 0."""
    dominant = {source: topics[0][1] for source, topics in _file_topics(records).items()}
    return np.array([float(r["topic"] != dominant[r["source"]]) for r in records])


def file_uncertainty(records: list[dict]) -> np.ndarray:
    """1 - the margin of each paragraph's file topic: its mean topic probability minus the runner-up's."""
    counts = Counter(r["source"] for r in records)
    margin = {
        source: (topics[0][0] - (topics[1][0] if len(topics) > 1 else 0.0)) / counts[source]
        for source, topics in _file_topics(records).items()
    }
    return np.array([1 - margin[r["source"]] for r in records])


def priorities(records: list[dict]) -> np.ndarray:
    """How much labelling each paragraph is worth, higher first: uncertainty + disagreement + file uncertainty."""
    return uncertainty(records) + disagreement(records) + file_uncertainty(records)


def select(
    records: list[dict],
    vectors: np.ndarray,
    n: int,
    seed: int,
    known: np.ndarray | None = None,
    value: np.ndarray | None = None,
    per_file: int = PER_FILE,
) -> list[int]:
    """Indexes of up to N records to review, best first; deterministic for a seed.

    `vectors` are the records' unit-length embeddings, `known` those of
    paragraphs already labelled (the fixtures): a record within NEAR_DUPLICATE
    cosine similarity of a known or an already chosen paragraph is skipped, and
    so is a file's record once max(`per_file`, N / files) of its are chosen. Equal
    priorities are broken by a random order drawn from `seed`.
    """
    value = priorities(records) if value is None else value
    ties = np.random.default_rng(seed).random(len(records))
    order = np.lexsort((ties, -value))
    base = known if known is not None else np.zeros((0, vectors.shape[1]), dtype=vectors.dtype)
    blocked = np.vstack([base, np.zeros((n, vectors.shape[1]), dtype=vectors.dtype)])
    used = len(base)
    chosen: list[int] = []
    taken: Counter = Counter()
    limit = max(per_file, -(-n // max(1, len({r["source"] for r in records}))))
    for i in order:
        if len(chosen) == n:
            break
        source = records[i]["source"]
        if taken[source] >= limit:
            continue
        if used and float((blocked[:used] @ vectors[i]).max()) >= NEAR_DUPLICATE:
            continue
        chosen.append(int(i))
        taken[source] += 1
        blocked[used] = vectors[i]
        used += 1
    return chosen


@dataclass
class Suggestions:
    """What `suggest` chose: fixture lines to review, and how sure the model was of each."""

    lines: list[dict]  # fixture format (no id yet) + the review marker + source/paragraph
    scores: list[float]  # the lower of the two heads' scores, for Label Studio's prediction score
    model_version: str
    read: int  # paragraphs in the label output
    in_fixtures: int  # of them, already in the fixtures (same normalised text)


def _embed(predictor: Predictor, texts: list[str]) -> np.ndarray:
    """Embeddings in batches, with a progress bar on stderr when it is a terminal."""
    from tqdm import tqdm

    dimension = predictor.heads.manifest.embedder.dimension
    parts = [np.zeros((0, dimension), dtype=np.float32)]
    with tqdm(total=len(texts), unit="para", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        for start in range(0, len(texts), BATCH):
            parts.append(predictor.embed(texts[start : start + BATCH]))
            bar.update(len(parts[-1]))
    return np.vstack(parts)


def suggest(
    labels: Path, n: int, predictor: Predictor, seed: int = 0, fixtures: Sequence[Path] = ()
) -> Suggestions:
    """Choose N paragraphs of the `label` output LABELS (jsonl, csv or parquet) for review.

    Paragraphs whose normalised text is in the fixture folders are never chosen,
    nor near-duplicates of fixtures or of each other. Raises KeyError or
    ValueError for a file that is not a label output, LabelledDataError for
    broken fixtures.
    """
    records = list(read_label_output(labels))
    known_records = read_labelled([path for folder in fixtures for path in fixture_files(folder)])
    known_texts = {normalised(r["text"]) for r in known_records}
    fresh = [r for r in records if normalised(r["text"]) not in known_texts]
    in_fixtures = len(records) - len(fresh)
    value = priorities(fresh)
    shortlist = sorted(np.argsort(-value, kind="stable")[: n * SHORTLIST].tolist())
    fresh = [fresh[i] for i in shortlist]
    value = value[shortlist]
    vectors = _embed(predictor, [r["text"] for r in fresh])
    known = _embed(predictor, [r["text"] for r in known_records]) if known_records else None
    chosen = select(fresh, vectors, n, seed, known, value)
    lines = [
        {
            "text": fresh[i]["text"],
            "stance": fresh[i]["stance"],
            "topic": fresh[i]["topic"],
            REVIEW: TODO,
            **{key: fresh[i][key] for key in CONTEXT_KEYS},
        }
        for i in chosen
    ]
    scores = [min(fresh[i]["stance_score"], fresh[i]["topic_scores"][fresh[i]["topic"]]) for i in chosen]
    version = f"stancetopic-{(predictor.heads.manifest.embedder.sha256 or 'bundled')[:12]}"
    return Suggestions(lines, scores, version, len(records), in_fixtures)


def output_paths(out: Path, fmt: str) -> list[Path]:
    """The files `write` makes: OUT, and for Label Studio its labelling config beside it."""
    return [out] if fmt == "fixture" else [out, out.with_name(f"{out.stem}.label-config.xml")]


def write(suggestions: Suggestions, out: Path, fmt: str) -> list[Path]:
    """Write the suggestions as fixture-format JSON Lines or as Label Studio tasks plus config."""
    paths = output_paths(out, fmt)
    if fmt == "fixture":
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in suggestions.lines)
    else:
        tasks = [
            label_studio.to_task(i, line, suggestions.model_version, score)
            for i, (line, score) in enumerate(
                zip(suggestions.lines, suggestions.scores, strict=True), start=1
            )
        ]
        text = json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"
        paths[1].write_text(label_studio.config(), encoding="utf-8")
    out.write_text(text, encoding="utf-8")
    return paths

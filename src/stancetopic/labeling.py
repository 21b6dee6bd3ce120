"""The `label` job: folder in, one scored record per paragraph out, streaming.

Files are read one at a time and paragraphs scored in fixed-size chunks, so
memory does not grow with the corpus. Records go to the output journal as
soon as they are scored (see `output`), which is what makes `--resume` work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stancetopic.articles import ArticleRule
from stancetopic.paragraphs import Segment
from stancetopic.predictor import Predictor
from stancetopic.readers import SUPPORTED, ReadError, discover, read_article

CHUNK = 512  # paragraphs scored together; encode() sorts them by length inside


@dataclass
class FileSummary:
    """Counts for one file (stance shares, dominant topic) and its units' P(denies) for article stance."""

    paragraphs: int = 0
    stances: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)
    deny: list[float] = field(default_factory=list)

    def add(self, record: dict) -> None:
        self.paragraphs += 1
        self.stances[record["stance"]] += 1
        self.topics[record["topic"]] += 1
        score = record["stance_score"]
        self.deny.append(score if record["stance"] == "denies" else 1 - score)

    def as_dict(
        self, stances: list[str], article: ArticleRule | None = None, uncertain_below: float = 0.5
    ) -> dict:
        """The summary row; with an article rule, the file's stance towards its lead claim too."""
        shares = {s: round(self.stances[s] / self.paragraphs, 4) if self.paragraphs else 0.0 for s in stances}
        dominant = min(self.topics, key=lambda t: (-self.topics[t], t)) if self.topics else None
        row: dict = {"paragraphs": self.paragraphs, "stance_share": shares, "dominant_topic": dominant}
        if article is not None and self.deny:
            deny = article.deny_probability(self.deny)
            stance, probability = ("denies", deny) if deny >= 0.5 else ("affirms", 1 - deny)
            row["article_stance"] = {
                "stance": stance,
                "probability": round(probability, 4),
                "uncertain": probability < uncertain_below,
            }
        return row


@dataclass
class Outcome:
    """What a run did: per-file summaries, problems (file, reason), skipped files."""

    files: dict[str, FileSummary] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def files(
    root: Path, pattern: str, outcome: Outcome, exclude: AbstractSet[Path] = frozenset()
) -> Iterator[tuple[Path, str]]:
    """(path, relative name) of every supported file under root, in order.

    Unsupported files are noted in `outcome.skipped`; files in `exclude` (the
    run's own output) are passed over silently.
    """
    for path, relative in discover(root, pattern):
        if path.resolve() in exclude:
            continue
        if path.suffix.lower() not in SUPPORTED:
            outcome.skipped.append(relative)
            continue
        yield path, relative


def read_units(
    path: Path, relative: str, max_bytes: int
) -> tuple[list[Segment] | None, list[tuple[str, str]]]:
    """One file's paragraph units (None when unreadable) and its problems as (where, reason)."""
    try:
        article = read_article(path, max_bytes)
    except ReadError as exc:
        return None, [(relative, str(exc))]
    return article.units, [(f"{relative}:{where}", reason) for where, reason in article.problems]


def paragraphs(
    root: Path, pattern: str, max_bytes: int, outcome: Outcome, exclude: AbstractSet[Path] = frozenset()
) -> Iterator[tuple[str, int, Segment]]:
    """(source, index, unit) for every labelled paragraph under root, in order."""
    for path, relative in files(root, pattern, outcome, exclude):
        units, problems = read_units(path, relative, max_bytes)
        outcome.problems += problems
        if units is None:
            continue
        outcome.files.setdefault(relative, FileSummary())
        for index, unit in enumerate(units):
            yield relative, index, unit


def count(root: Path, pattern: str, max_bytes: int, exclude: AbstractSet[Path] = frozenset()) -> int:
    """How many paragraphs a run will label (a cheap first pass, for the ETA)."""
    return sum(1 for _ in paragraphs(root, pattern, max_bytes, Outcome(), exclude))


def to_records(
    items: list[tuple[str, int, Segment]],
    stance_proba: np.ndarray,
    topic_proba: np.ndarray,
    stances: list[str],
    topics: list[str],
    uncertain_below: dict[str, float],
) -> list[dict]:
    """Output records (the README's contract) for scored paragraphs.

    `uncertain_below` holds one threshold per head ("stance", "topic").
    """
    records = []
    for (source, index, unit), sp, tp in zip(items, stance_proba, topic_proba, strict=True):
        s, t = int(sp.argmax()), int(tp.argmax())
        records.append(
            {
                "source": source,
                "paragraph": index,
                "start": unit.start,
                "end": unit.end,
                "text": unit.text,
                "stance": stances[s],
                "stance_score": round(float(sp[s]), 6),
                "topic": topics[t],
                "topic_score": round(float(tp[t]), 6),
                "topic_scores": {topic: round(float(p), 6) for topic, p in zip(topics, tp, strict=True)},
                "uncertain": bool(sp[s] < uncertain_below["stance"] or tp[t] < uncertain_below["topic"]),
            }
        )
    return records


def label(
    predictor: Predictor,
    stream: Iterator[tuple[str, int, Segment]],
    write: Callable[[list[dict]], None],
    outcome: Outcome,
    *,
    uncertain_below: dict[str, float],
    skip: int = 0,
    progress: Callable[[int], None] = lambda n: None,
    chunk: int = CHUNK,
) -> int:
    """Score the stream chunk by chunk and hand each chunk's records to `write`.

    The first `skip` paragraphs were written by an interrupted run; they are
    read again (to keep indexes) but not scored. Returns paragraphs scored.
    """
    stances, topics = predictor.heads.stances, predictor.heads.topics
    scored = 0
    batch: list[tuple[str, int, Segment]] = []

    def flush() -> None:
        nonlocal scored
        stance, topic = predictor.predict_proba([unit.text for _, _, unit in batch])
        records = to_records(batch, stance, topic, stances, topics, uncertain_below)
        write(records)
        for record in records:
            outcome.files[record["source"]].add(record)
        scored += len(batch)
        progress(len(batch))
        batch.clear()

    for position, item in enumerate(stream):
        if position < skip:
            continue
        batch.append(item)
        if len(batch) == chunk:
            flush()
    if batch:
        flush()
    return scored

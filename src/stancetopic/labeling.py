"""The local label engine: files in, one scored record per paragraph out, streaming.

Files are read one at a time and paragraphs scored in fixed-size chunks, so
memory does not grow with the corpus. Records go to the output journal as
soon as they are scored (see `output`), which is what makes `--resume` work.
The job around it (outputs, resume, engines) is `job.run`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import numpy as np

from stancetopic.articles import ArticleRule
from stancetopic.errors import RefusedError, short_path
from stancetopic.output import looks_like_output
from stancetopic.paragraphs import Segment
from stancetopic.predictor import Predictor
from stancetopic.readers import SUPPORTED, ReadError, discover, read_article
from stancetopic.table_input import Item, Problem, TableInput

CHUNK = 512  # paragraphs scored together; encode() sorts them by length inside
NOTHING_KEPT: Mapping[str, object] = {}  # an article file's paragraphs carry no kept columns
Inputs = list[tuple[Path, str]] | TableInput  # the files to label, or one table


@dataclass
class FileSummary:
    """Counts for one file (stance shares, article topic) and its units' P(denies) for article stance.

    The article topic is the topic with the highest mean probability over
    the file's paragraphs, not the most frequent paragraph label: a long
    article's paragraphs split between two topics and a vote throws away how
    sure each was (on the BBC dev half of `benchmarks/real_data.py`, the mean
    made 59 article errors where the vote made 63). A table (`table`) is many
    articles: it counts rows instead, and keeps no P(denies) per paragraph, so
    its summary stays one small row however long the table is.
    """

    paragraphs: int = 0
    stances: Counter = field(default_factory=Counter)
    topic_sums: dict[str, float] = field(default_factory=dict)  # each topic's probability, summed
    deny: list[float] = field(default_factory=list)
    other_language: int = 0  # paragraphs not scored: a language the model does not read
    table: bool = False
    rows: int = 0

    def add(self, record: dict) -> None:
        self.paragraphs += 1
        self.stances[record["stance"]] += 1
        for topic, probability in record["topic_scores"].items():
            self.topic_sums[topic] = self.topic_sums.get(topic, 0.0) + probability
        score = record["stance_score"]
        if not self.table:
            self.deny.append(score if record["stance"] == "denies" else 1 - score)

    def as_dict(
        self, stances: list[str], article: ArticleRule | None = None, uncertain_below: float = 0.5
    ) -> dict:
        """The summary row; with an article rule, the file's stance towards its lead claim too."""
        shares = {s: round(self.stances[s] / self.paragraphs, 4) if self.paragraphs else 0.0 for s in stances}
        sums = self.topic_sums
        dominant = min(sums, key=lambda t: (-sums[t], t)) if sums else None  # ties: alphabetical, stable
        row: dict = {"paragraphs": self.paragraphs, "stance_share": shares, "dominant_topic": dominant}
        if sums:
            row["topic_scores"] = {t: round(sums[t] / self.paragraphs, 4) for t in sorted(sums)}
        row["other_language"] = self.other_language
        if self.table:
            row["rows"] = self.rows
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
    """What a run did: per-file summaries, problems (file, reason), skipped files.

    The record accounting lives here, once: both engines, and the records a
    resumed run recovers from its journal, go through `add`. With `table`
    (the table file's name) every record counts into that one summary row.
    """

    files: dict[str, FileSummary] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    table: str | None = None

    def opened(self, source: str, other_language: int | None = None) -> FileSummary:
        """A readable file (or the table): it gets a summary row even when it has no paragraph.

        `other_language`: the file's paragraphs skipped by the language check, once it is read.
        """
        name = self.table or source
        if name not in self.files:
            self.files[name] = FileSummary(table=self.table is not None)
        if other_language is not None:
            self.files[name].other_language = other_language
        return self.files[name]

    def add(self, records: Iterable[dict]) -> int:
        """Count records into their files' summaries; returns how many."""
        n = 0
        for record in records:
            self.opened(record["source"]).add(record)
            n += 1
        return n

    def summary(
        self, output: str, stances: list[str], article: ArticleRule | None, uncertain_below: float
    ) -> dict:
        """The run's summary: one row per file, problems and skipped files (the `--summary` JSON)."""
        return {
            "output": output,
            "files": {name: s.as_dict(stances, article, uncertain_below) for name, s in self.files.items()},
            "problems": [{"file": f, "reason": r} for f, r in self.problems],
            "skipped": self.skipped,
        }


def source_name(relative: str) -> str:
    """A file's name as records carry it: bytes that are not UTF-8 (`\\xff`) become U+FFFD.

    Such bytes reach Python as lone surrogates, which no UTF-8 output (JSON
    Lines, CSV, Parquet) can hold.
    """
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def files(root: Path, pattern: str, outcome: Outcome) -> list[tuple[Path, str]]:
    """(path, source name) of every supported file to label, in order.

    `root` is a folder (searched recursively, `pattern` on the relative path
    or the name) or a single file. Unsupported files are noted in
    `outcome.skipped`. Refused (RefusedError) before any work: a stancetopic
    output found among the inputs (it would be labelled as news), and an
    input with nothing to label.
    """
    if root.is_dir():
        try:
            found = list(discover(root, pattern, outcome.problems))
        except OSError as exc:  # e.g. a folder deeper than PATH_MAX
            raise RefusedError(f"{short_path(exc.filename or root)}: cannot list ({exc.strerror})") from exc
    else:
        found = [(root, root.name)] if fnmatch(root.name, pattern) else []
    chosen = []
    for path, relative in found:
        if looks_like_output(path):
            raise RefusedError(
                f"{path}: a stancetopic output among the inputs; move it out or leave it out with --glob"
            )
        if path.suffix.lower() not in SUPPORTED:
            outcome.skipped.append(source_name(relative))
        else:
            chosen.append((path, source_name(relative)))
    if not chosen:
        what = f"no file matches --glob {pattern!r}" if pattern != "*" else "no file"
        if found:
            what = f"none of the {len(found)} files is of a supported type ({', '.join(sorted(SUPPORTED))})"
        raise RefusedError(f"{root}: nothing to label: {what}")
    return chosen


def read_units(
    path: Path, relative: str, max_bytes: int, all_languages: bool = False
) -> tuple[list[Segment] | None, list[tuple[str, str]], int]:
    """One file's paragraph units (None when unreadable), its problems as (where, reason),
    and how many units were left out as another language (none with `all_languages`)."""
    try:
        article = read_article(path, max_bytes, all_languages)
    except ReadError as exc:
        return None, [(relative, str(exc))], 0
    problems = [(f"{relative}:{where}", reason) for where, reason in article.problems]
    return article.units, problems, article.other_language


def paragraphs(
    chosen: Inputs, max_bytes: int, outcome: Outcome, all_languages: bool = False
) -> Iterator[Item]:
    """(source, index, unit, kept values) for every labelled paragraph of the inputs, in order.

    `max_bytes` limits article files, not a table (each of its rows is an article).
    """
    if isinstance(chosen, TableInput):
        summary = outcome.opened(chosen.name)
        for item in chosen.paragraphs():
            if item is None:
                summary.rows += 1
            elif isinstance(item, Problem):
                outcome.problems.append((item.where, item.reason))
            else:
                yield item
        return
    for path, relative in chosen:
        units, problems, other_language = read_units(path, relative, max_bytes, all_languages)
        outcome.problems += problems
        if units is None:
            continue
        outcome.opened(relative, other_language)
        for index, unit in enumerate(units):
            yield relative, index, unit, NOTHING_KEPT


def count(chosen: Inputs, max_bytes: int, all_languages: bool = False) -> int:
    """How many paragraphs a run will label (a cheap first pass, for the ETA)."""
    return sum(1 for _ in paragraphs(chosen, max_bytes, Outcome(), all_languages))


def to_records(
    items: list[Item],
    stance_proba: np.ndarray,
    topic_proba: np.ndarray,
    stances: list[str],
    topics: list[str],
    uncertain_below: dict[str, float],
) -> list[dict]:
    """Output records (the README's contract) for scored paragraphs.

    `uncertain_below` holds one threshold per head ("stance", "topic"). A
    table row's kept values follow the fields, as top-level keys.
    """
    records = []
    for (source, index, unit, kept), sp, tp in zip(items, stance_proba, topic_proba, strict=True):
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
                **kept,
            }
        )
    return records


def label(
    predictor: Predictor,
    chosen: Inputs,
    max_bytes: int,
    emit: Callable[[list[dict]], None],
    outcome: Outcome,
    *,
    uncertain_below: dict[str, float],
    skip: int = 0,
    total: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    all_languages: bool = False,
) -> int:
    """The local engine: read the chosen files, score chunk by chunk, hand each chunk's records to `emit`.

    `outcome` gets the files' problems. The first `skip` paragraphs were
    written by an interrupted run; they are read again (to keep indexes) but
    not scored. `total`, when given, is told the paragraph count first (a
    cheap extra pass, for a progress bar's ETA). Returns paragraphs scored.
    """
    if total:
        total(count(chosen, max_bytes, all_languages))
    stances, topics = predictor.heads.stances, predictor.heads.topics
    scored = 0
    batch: list[Item] = []

    def flush() -> None:
        nonlocal scored
        stance, topic = predictor.predict_proba([unit.text for _, _, unit, _ in batch])
        emit(to_records(batch, stance, topic, stances, topics, uncertain_below))
        scored += len(batch)
        batch.clear()

    for position, item in enumerate(paragraphs(chosen, max_bytes, outcome, all_languages)):
        if position < skip:
            continue
        batch.append(item)
        if len(batch) == chunk:
            flush()
    if batch:
        flush()
    return scored


def summary_table(summary: dict, stances: list[str], limit: int = 20) -> str:
    """The per-file summary as a compact table: the `limit` largest files, then totals.

    A run over thousands of files keeps a screenful; every row is in the
    `--summary` JSON.
    """
    files = summary["files"]
    shown = sorted(files, key=lambda n: (-files[n]["paragraphs"], n))[:limit]
    shown.sort(key=list(files).index)  # back in input order
    width = max([len(n) for n in shown] + [4])
    header = f"{'file':<{width}}  paras  " + "  ".join(f"{s:>7}" for s in stances)
    lines = [f"{header}  {'topic':<9}  article"]
    for name in shown:
        row = files[name]
        shares = "  ".join(f"{row['stance_share'][s]:>7.0%}" for s in stances)
        article = row.get("article_stance")
        verdict = (
            f"{article['stance']} {article['probability']:.2f}{'?' if article['uncertain'] else ''}"
            if article
            else "-"
        )
        lines.append(
            f"{name:<{width}}  {row['paragraphs']:>5}  {shares}  {row['dominant_topic'] or '-':<9}  {verdict}"
        )
    total = sum(row["paragraphs"] for row in files.values())
    if len(files) > len(shown):
        lines.append(f"... {len(files) - len(shown)} more files (every file is in --summary)")
    rows = [row["rows"] for row in files.values() if "rows" in row]  # a table run: one row, the table
    where = f"{rows[0]} rows" if rows else f"{len(files)} files"
    lines.append(f"{total} paragraphs in {where} -> {summary['output']}")
    other = sum(row.get("other_language", 0) for row in files.values())
    if other:
        lines.append(f"{other} paragraphs not in English skipped (--all-languages scores them)")
    return "\n".join(lines)

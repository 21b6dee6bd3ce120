"""A one-page HTML overview of a `label` output: how stance and topic are spread.

A run of 100,000 paragraphs is read once, streamed (JSON Lines, CSV or Parquet
through `tables.open_table`), into one counter keyed by (`--by` value, topic,
stance, uncertain) and a few small heaps of examples, so memory grows with the
number of distinct `--by` values, never with the number of records. Figures
are drawn with matplotlib and embedded as PNG by the evaluate report's helpers,
so the page is one file that opens anywhere offline.
"""

from __future__ import annotations

import datetime
import heapq
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from tqdm import tqdm

from stancetopic.html_report import STYLE, _png, _table
from stancetopic.labels import STANCES, TOPICS
from stancetopic.tables import RowProblem, TableError, check_columns, open_table

REQUIRED = ("text", "stance", "stance_score", "topic", "topic_score", "uncertain")
SHOWN = ("source", "paragraph")  # shown in the example tables when the output has them
EXAMPLES = 5  # rows per topic in each example table
TOP_VALUES = 15  # bars for a text `--by` column; the rest are pooled
TEXT_CHARS = 300
NONE = "(none)"  # the `--by` value of a record without one
DENIES = "denies"
COLOURS = dict(zip(TOPICS, ("#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860"), strict=True))
STANCE_COLOURS = {"affirms": "#4c72b0", "denies": "#c44e52"}
UNCERTAIN_COLOUR = "#8c8c8c"
# The format of a label output by its suffix; any other is JSON Lines, as `label` writes it.
LABEL_KINDS = {".csv": ".csv", ".parquet": ".parquet", ".pq": ".parquet"}
FLAGS = {"true": True, "1": True, "false": False, "0": False}

Cell = tuple[str, str, str, bool]  # (by value, topic, stance, uncertain)


@dataclass(frozen=True)
class Example:
    """A paragraph shown in a table, its text cut to TEXT_CHARS."""

    source: str
    by: str
    stance: str
    stance_score: float
    topic_score: float
    text: str


@dataclass
class Tally:
    """Counts of one group of paragraphs: in all, per stance, per topic, and uncertain."""

    n: int = 0
    stances: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    uncertain: int = 0

    def add(self, cell: Cell, count: int) -> None:
        _, topic, stance, uncertain = cell
        self.n += count
        self.stances[stance] += count
        self.topics[topic] += count
        self.uncertain += count * uncertain

    def share(self, count: int) -> float:
        return count / self.n if self.n else 0.0


@dataclass
class Overview:
    """What the page shows, gathered in one streamed pass over a `label` output."""

    path: Path
    by: str | None
    cells: Counter[Cell] = field(default_factory=Counter)
    # Per topic, min-heaps of (key, -sequence, example): the EXAMPLES largest keys.
    denials: dict[str, list[tuple[float, int, Example]]] = field(default_factory=dict)
    unsure: dict[str, list[tuple[float, int, Example]]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(self.cells.values())

    def tally(self, key: Callable[[Cell], str | None]) -> dict[str, Tally]:
        """Tallies grouped by `key(cell)`; cells whose key is None are left out."""
        groups: dict[str, Tally] = {}
        for cell, count in self.cells.items():
            name = key(cell)
            if name is not None:
                groups.setdefault(name, Tally()).add(cell, count)
        return groups

    def total(self) -> Tally:
        return self.tally(lambda _: "")[""] if self.cells else Tally()

    def topics(self) -> list[str]:
        return _ordered({c[1] for c in self.cells}, TOPICS)

    def stances(self) -> list[str]:
        return _ordered({c[2] for c in self.cells}, STANCES)

    def examples(self, kind: str, topic: str) -> list[Example]:
        """The `denials` or `unsure` examples of a topic, strongest first."""
        heap = getattr(self, kind).get(topic, [])
        return [e for _, _, e in sorted(heap, key=lambda entry: (-entry[0], -entry[1]))]


def _ordered(names: Iterable[str], known: tuple[str, ...]) -> list[str]:
    """Known labels in their usual order, then any others alphabetically."""
    names = set(names)
    return [n for n in known if n in names] + sorted(names - set(known))


def _example(record: dict, value: str, stance: str, stance_score: float, topic_score: float) -> Example:
    text = str(record.get("text") or "")
    source = str(record.get("source") or "")
    if record.get("paragraph") is not None:
        source += f" ¶{record['paragraph']}"
    cut = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1].rstrip() + "…"
    return Example(source, value, stance, stance_score, topic_score, cut)


def _score(value: object, column: str) -> float:
    """A probability: a number, or its text in CSV."""
    try:
        score = float(value)  # type: ignore[arg-type]  # anything float() refuses is bad input
    except (TypeError, ValueError):
        raise ValueError(f"{column} {value!r} is not a number") from None
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"{column} {score} is not a probability")
    return score


def _flag(value: object, column: str) -> bool:
    """A boolean, or its text in CSV (`True`, `false`, `1`...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in FLAGS:
        return FLAGS[value.strip().lower()]
    raise ValueError(f"{column} {value!r} is not true or false")


def _label(value: object, column: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"no {column}")
    return value


def _by_value(value: object) -> str:
    return NONE if value is None or value == "" else str(value)


def summarise(path: Path, by: str | None = None, progress: bool = False) -> Overview:
    """Read a `label` output once and gather the page's counts and examples.

    The format follows the suffix as `label --format` chose it: `.csv`,
    `.parquet` (or `.pq`), and JSON Lines for any other.

    Raises `TableError` (`file[:row]: reason`) on the first bad record, or when
    a needed column, or the `--by` column, is missing.
    """
    overview = Overview(path, by)
    wanted = [*REQUIRED, *SHOWN, *([by] if by else [])]
    kind = LABEL_KINDS.get(path.suffix.lower(), ".jsonl")
    if kind == ".jsonl" and path.stat().st_size == 0:  # what `label` writes for a run with no paragraphs
        return overview
    with open_table(path, only=wanted, kind=kind) as (header, rows):
        check_columns(path, header, [*REQUIRED, *([by] if by else [])])
        for sequence, item in enumerate(tqdm(rows, unit="records", file=sys.stderr, disable=not progress)):
            if isinstance(item, RowProblem):
                raise TableError(str(item))
            where, record = item
            try:
                stance = _label(record.get("stance"), "stance")
                topic = _label(record.get("topic"), "topic")
                stance_score = _score(record.get("stance_score"), "stance_score")
                topic_score = _score(record.get("topic_score"), "topic_score")
                uncertain = _flag(record.get("uncertain"), "uncertain")
            except ValueError as exc:
                raise TableError(f"{path}:{where}: {exc}") from None
            value = _by_value(record.get(by)) if by else ""
            overview.cells[value, topic, stance, uncertain] += 1
            candidates = []
            if stance == DENIES:
                candidates.append((overview.denials.setdefault(topic, []), stance_score))
            if uncertain:
                candidates.append((overview.unsure.setdefault(topic, []), -min(stance_score, topic_score)))
            for heap, key in candidates:
                if len(heap) < EXAMPLES or (key, -sequence) > heap[0][:2]:  # ties: the earlier record wins
                    entry = (key, -sequence, _example(record, value, stance, stance_score, topic_score))
                    (heapq.heappush if len(heap) < EXAMPLES else heapq.heapreplace)(heap, entry)
    return overview


def _as_date(value: str) -> datetime.date | None:
    try:
        return datetime.datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _date_buckets(values: Iterable[str]) -> tuple[dict[str, datetime.date], str] | None:
    """Each `--by` value's day, week or month (by the span) and that step's name; None unless all are dates."""
    dates = {}
    for value in values:
        if value != NONE:
            day = _as_date(value)
            if day is None:
                return None
            dates[value] = day
    if not dates:
        return None
    span = (max(dates.values()) - min(dates.values())).days
    if span <= 92:
        return dates, "day"
    if span <= 730:
        return {v: d - datetime.timedelta(days=d.weekday()) for v, d in dates.items()}, "week (from Monday)"
    return {v: d.replace(day=1) for v, d in dates.items()}, "month"


def _figure(html_id: str, figure: Figure, caption: str) -> str:
    return f'<figure id="{html_id}">{_png(figure)}<figcaption>{escape(caption)}</figcaption></figure>'


def _style(axes: Axes) -> None:
    axes.xaxis.set_major_formatter("{x:.0%}")
    axes.spines[["top", "right"]].set_visible(False)


def _labelled_bars(axes: Axes, shares: list[float], counts: list[int], colours: list[str]) -> None:
    """Horizontal bars, each labelled with its percentage and count; room on the right for the labels."""
    axes.barh(range(len(shares)), shares, color=colours)
    for i, (share, count) in enumerate(zip(shares, counts, strict=True)):
        axes.text(share, i, f" {share:.0%} ({count:,})", va="center", fontsize=8)
    axes.set_xlim(0, min(1.0, max(shares, default=0) * 1.7) or 0.1)


def _stacked_bars(
    axes: Axes,
    tallies: list[Tally],
    parts: list[str],
    count: Callable[[Tally, str], int],
    colours: dict[str, str],
    labels: bool,
) -> None:
    """100% bars, one per tally, cut into `parts` (`count(tally, part)` each); shares of 8%+ labelled."""
    left = [0.0] * len(tallies)
    for part in parts:
        shares = [t.share(count(t, part)) for t in tallies]
        axes.barh(range(len(tallies)), shares, left=left, color=colours.get(part, "#999"), label=part)
        for i, share in enumerate(shares):
            if labels and share >= 0.08:
                axes.text(
                    left[i] + share / 2,
                    i,
                    f"{share:.0%}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_xlim(0, 1)


def topics_figure(overview: Overview) -> str:
    """Three panels over the topics (and all): topic shares, stance within each, the share uncertain."""
    topics, total, per = overview.topics(), overview.total(), overview.tally(lambda c: c[1])
    rows = [per[t] for t in topics] + [total]
    figure = Figure(figsize=(10.5, 1.3 + 0.32 * len(rows)), layout="constrained")
    shares_axes, stance_axes, unsure_axes = figure.subplots(1, 3, sharey=True)
    _labelled_bars(shares_axes, [total.share(t.n) for t in rows[:-1]], [t.n for t in rows[:-1]],
                   [COLOURS.get(t, "#999") for t in topics])  # fmt: skip
    shares_axes.text(0, len(topics), f"  {total.n:,} paragraphs in all", va="center", fontsize=8)
    shares_axes.set_title("Topic shares", fontsize=10)
    _stacked_bars(
        stance_axes, rows, overview.stances(), lambda t, s: t.stances[s], STANCE_COLOURS, labels=True
    )
    stance_axes.set_title("Stance within each topic", fontsize=10)
    stance_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False, fontsize=8)
    _labelled_bars(unsure_axes, [t.share(t.uncertain) for t in rows], [t.uncertain for t in rows],
                   [UNCERTAIN_COLOUR] * len(topics) + ["#444"])  # fmt: skip
    unsure_axes.set_title("Share uncertain", fontsize=10)
    shares_axes.set_yticks(range(len(rows)), [*topics, "all"])
    shares_axes.invert_yaxis()
    for axes in (shares_axes, stance_axes, unsure_axes):
        _style(axes)
    caption = ("Left: each topic's share of all paragraphs (count in brackets). Middle: the share of a topic's "
               "paragraphs that affirm or deny their claim. Right: the share flagged uncertain (a score under "
               "its head's threshold).")  # fmt: skip
    return _figure("topics", figure, caption)


def _pooled(groups: dict[str, Tally]) -> tuple[list[tuple[str, Tally]], int]:
    """The TOP_VALUES biggest groups, then the rest pooled into one; and how many were pooled."""
    ranked = sorted(groups.items(), key=lambda item: (-item[1].n, item[0]))
    shown, rest = ranked[:TOP_VALUES], ranked[TOP_VALUES:]
    if rest:
        pooled = Tally()
        for _, tally in rest:
            pooled.n += tally.n
            pooled.stances.update(tally.stances)
            pooled.topics.update(tally.topics)
            pooled.uncertain += tally.uncertain
        shown.append((f"{len(rest)} others", pooled))
    return shown, len(rest)


def by_values_figure(overview: Overview, rows: list[tuple[str, Tally]]) -> str:
    """Topic shares (stacked) and the shares denying and uncertain, one row per value."""
    tallies = [t for _, t in rows]
    figure = Figure(figsize=(10.5, 1.2 + 0.32 * len(rows)), layout="constrained")
    topic_axes, stance_axes = figure.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    _stacked_bars(
        topic_axes, tallies, overview.topics(), lambda t, topic: t.topics[topic], COLOURS, labels=False
    )
    topic_axes.set_yticks(range(len(rows)), [f"{name[:28]} ({t.n:,})" for name, t in rows])
    topic_axes.invert_yaxis()
    topic_axes.set_title("Topic shares", fontsize=10)
    topic_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.03 - 0.4 / len(rows)), ncol=5, frameon=False,
                      fontsize=8)  # fmt: skip
    height = 0.4
    y = range(len(rows))
    stance_axes.barh([i - height / 2 for i in y], [t.share(t.stances[DENIES]) for t in tallies], height,
                     color=STANCE_COLOURS[DENIES], label="denies")  # fmt: skip
    stance_axes.barh([i + height / 2 for i in y], [t.share(t.uncertain) for t in tallies], height,
                     color=UNCERTAIN_COLOUR, label="uncertain")  # fmt: skip
    stance_axes.set_xlim(0, 1)
    stance_axes.set_title("Share denying, share uncertain", fontsize=10)
    stance_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.03 - 0.4 / len(rows)), ncol=2, frameon=False,
                       fontsize=8)  # fmt: skip
    for axes in (topic_axes, stance_axes):
        _style(axes)
    return _figure(
        "by-values", figure, f"Per {overview.by}: topic shares, and the shares denying and uncertain."
    )


def by_dates_figure(overview: Overview, buckets: dict[str, datetime.date], step: str) -> str:
    """Topic shares, and the shares denying and uncertain, as lines over time."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    series = overview.tally(lambda c: None if c[0] == NONE else buckets[c[0]].isoformat())
    days = sorted(series)
    x = [datetime.date.fromisoformat(d) for d in days]
    tallies = [series[d] for d in days]
    figure = Figure(figsize=(10.5, 5.6), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    for topic in overview.topics():
        top.plot(x, [t.share(t.topics[topic]) for t in tallies], marker="o", markersize=3,
                 color=COLOURS.get(topic), label=topic)  # fmt: skip
    top.set_title("Topic shares", fontsize=10)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    counts = bottom.twinx()
    width = 0.8 * min(((b - a).days for a, b in pairwise(x)), default=1)
    counts.bar(x, [t.n for t in tallies], width=width, color="#dddddd")
    counts.set_ylabel("paragraphs (grey bars)", fontsize=8)
    bottom.set_zorder(counts.get_zorder() + 1)  # the lines over the bars
    bottom.patch.set_visible(False)
    bottom.plot(x, [t.share(t.stances[DENIES]) for t in tallies], marker="o", markersize=3,
                color=STANCE_COLOURS[DENIES], label="denies")  # fmt: skip
    bottom.plot(x, [t.share(t.uncertain) for t in tallies], marker="o", markersize=3,
                color=UNCERTAIN_COLOUR, label="uncertain")  # fmt: skip
    bottom.set_title("Share denying, share uncertain", fontsize=10)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.08, 1), fontsize=8, frameon=False)
    for axes in (top, bottom):
        axes.set_ylim(0, 1)
        axes.yaxis.set_major_formatter("{x:.0%}")
    locator = AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    undated = overview.tally(lambda c: "" if c[0] == NONE else None)
    caption = f"Per {overview.by}, one point per {step}"
    if undated:
        caption += f"; {undated[''].n:,} paragraphs without a {overview.by} are left out"
    return _figure("by-dates", figure, caption + ".")


def _by_section(overview: Overview) -> str:
    if not overview.by:
        return '<p class="meta">Run with <code>--by COLUMN</code> (e.g. <code>source</code>, or a date or outlet column kept by <code>label</code>) to see shares per value or over time.</p>'
    groups = overview.tally(lambda c: c[0])
    dated = _date_buckets(groups)
    title = f"<h2>By {escape(overview.by)}</h2>"
    if dated is not None:
        return title + f'<div class="figs">{by_dates_figure(overview, *dated)}</div>'
    rows, pooled = _pooled(groups)
    total = overview.total()
    table = _table(
        [overview.by, "paragraphs", "share of all", "share denies", "share uncertain", "main topic"],
        [[name, t.n, total.share(t.n), t.share(t.stances[DENIES]), t.share(t.uncertain), t.topics.most_common(1)[0][0]]
         for name, t in rows],
    )  # fmt: skip
    note = (
        f'<p class="meta">{len(groups):,} distinct values; the {TOP_VALUES} largest are shown, {pooled:,} pooled.</p>'
        if pooled
        else ""
    )
    return title + f'<div class="figs">{by_values_figure(overview, rows)}</div>{note}{table}'


def _examples(
    overview: Overview, kind: str, header: list[str], row: Callable[[Example], list[object]]
) -> str:
    parts = []
    for topic in overview.topics():
        examples = overview.examples(kind, topic)
        body = _table(header, [row(e) for e in examples]) if examples else '<p class="meta">none</p>'
        parts.append(f"<h3>{escape(topic)}</h3>{body}")
    return f'<div class="examples">{"".join(parts)}</div>'


def _sections(overview: Overview) -> str:
    """Figures and tables: the topics, the `--by` section, the example tables."""
    total, per = overview.total(), overview.tally(lambda c: c[1])
    stances = overview.stances()
    summary = _table(
        ["topic", "paragraphs", "share", *(f"share {s}" for s in stances), "share uncertain"],
        [[name, t.n, total.share(t.n), *(t.share(t.stances[s]) for s in stances), t.share(t.uncertain)]
         for name, t in [*((topic, per[topic]) for topic in overview.topics()), ("all", total)]],
    )  # fmt: skip
    # The example tables show the source already.
    by_header = [overview.by] if overview.by and overview.by not in SHOWN else []
    extra = bool(by_header)

    def by_cell(example: Example) -> list[object]:
        return [example.by] if extra else []

    denials = _examples(
        overview, "denials", ["stance score", "source", *by_header, "text"],
        lambda e: [e.stance_score, e.source, *by_cell(e), e.text],
    )  # fmt: skip
    unsure = _examples(
        overview, "unsure", ["stance", "stance score", "topic score", "source", *by_header, "text"],
        lambda e: [e.stance, e.stance_score, e.topic_score, e.source, *by_cell(e), e.text],
    )  # fmt: skip
    return f"""<h2>Topics and stance</h2><div class="figs">{topics_figure(overview)}</div>{summary}
{_by_section(overview)}
<h2>Most confident denials, per topic</h2>
<p class="meta">The {EXAMPLES} paragraphs of each topic the model is surest deny their claim.</p>{denials}
<h2>Most uncertain paragraphs, per topic</h2>
<p class="meta">Paragraphs flagged uncertain, the lowest of their two scores first.</p>{unsure}"""


def render(overview: Overview) -> str:
    """The whole page as a string."""
    total = overview.total()
    title = f"stancetopic overview: {overview.path.name}"
    body = (
        _sections(overview) if total.n else "<p>No labelled paragraphs in this output: nothing to show.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{STYLE}
figure{{margin:0}}figcaption{{color:#666;font-size:.85rem;max-width:900px}}h3{{font-size:1rem;margin-bottom:.2rem}}
.examples td:not(:last-child){{white-space:nowrap}}
</style></head>
<body><h1>{escape(title)}</h1>
<p class="meta">{total.n:,} paragraphs · {total.uncertain:,} uncertain ({total.share(total.uncertain):.1%}) ·
{total.stances[DENIES]:,} deny their claim ({total.share(total.stances[DENIES]):.1%})</p>
{body}
</body></html>
"""


def write_overview(labels: Path, out: Path, by: str | None = None, overwrite: bool = False,
                   progress: bool = False) -> Overview:  # fmt: skip
    """Write the overview page of the `label` output `labels` to `out` (written aside, then renamed).

    Raises FileExistsError when `out` exists without `overwrite`, or is
    `labels` itself; `TableError` for bad input (nothing is written then).
    """
    if out.resolve() == labels.resolve():
        raise FileExistsError(f"{out} is the input; choose another output")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    overview = summarise(labels, by, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render(overview), encoding="utf-8")
    os.replace(tmp, out)
    return overview

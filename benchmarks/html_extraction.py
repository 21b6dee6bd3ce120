"""How well `.html` reading finds a page's main text, on trafilatura's public benchmark.

Usage: python benchmarks/html_extraction.py [--limit N] [--label-pages N]

Scores exactly as trafilatura's own benchmark does: every `with` snippet found
in the extracted text (whitespace normalised, substring match) is a true
positive, every `without` snippet found a false positive. Rows, in one run:
- ours: `stancetopic`'s reader (trafilatura, then our paragraph, boilerplate
  and headline rules; every language kept, as with `--all-languages`);
- plain trafilatura 2.3.1 (`extract`, comments excluded), the reference;
- the previous reader (selectolax: innermost block elements after dropping
  nav/aside/header/footer...), kept here as the baseline.
Per language group (English, German, other: py3langid on the page's `with`
snippets), with recall on snippets of 8 words or more, ms per page, the share
of units with null offsets, and (--label-pages) labelling time per page with
the model in `models/`, new reader against the previous one.

Reads ../shared/realdata/trafilatura-eval.tar.xz beside the checkout (never
copied into the repo); prints one line and exits 0 when it is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "realdata" / "trafilatura-eval.tar.xz"
LONG_SNIPPET_WORDS = 8
GROUPS = ("English", "German", "other", "all")


def normalise(text: str) -> str:
    return " ".join(text.split())


def old_reader_blocks(source: str) -> list[list[str]]:
    """The previous reader (before trafilatura), verbatim in behaviour: the baseline."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(source)
    for node in tree.css(
        "script, style, noscript, template, nav, aside, figure, iframe, svg, button, select"
    ):
        node.decompose()
    for node in tree.css("header, footer"):
        parent, inside = node.parent, False
        while parent is not None and not inside:
            inside, parent = parent.tag in ("article", "main"), parent.parent
        if not inside:
            node.decompose()
    root = tree.body or tree.root
    blocks = []
    blocks_css = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, dd, dt, td, th"
    for node in root.css(blocks_css):
        if any(inner.mem_id != node.mem_id for inner in node.css(blocks_css)):
            continue
        text = " ".join(node.text(deep=True).split())
        if text:
            blocks.append([text])
    return blocks


class Score:
    """Snippet counts for one extractor and one group of pages."""

    def __init__(self) -> None:
        self.tp = self.fn = self.fp = self.tn = self.long_tp = self.long_n = 0
        self.pages = 0
        self.seconds = 0.0

    def add(self, text: str, item: dict, seconds: float) -> None:
        found = normalise(text)
        self.pages += 1
        self.seconds += seconds
        for snippet in item["with"]:
            hit = normalise(snippet) in found
            self.tp += hit
            self.fn += not hit
            if len(snippet.split()) >= LONG_SNIPPET_WORDS:
                self.long_n += 1
                self.long_tp += hit
        for snippet in item["without"]:
            hit = normalise(snippet) in found
            self.fp += hit
            self.tn += not hit

    def row(self) -> tuple[float, float, float, float, float]:
        precision = self.tp / max(1, self.tp + self.fp)
        recall = self.tp / max(1, self.tp + self.fn)
        f1 = 2 * precision * recall / max(1e-9, precision + recall)
        return (
            precision,
            recall,
            f1,
            self.long_tp / max(1, self.long_n),
            1000 * self.seconds / max(1, self.pages),
        )


def group_of(item: dict) -> str:
    from stancetopic.languages import language

    code, _ = language(" ".join(item["with"]))
    return {"en": "English", "de": "German"}.get(code, "other")


def label_speed(pages: list[Path], model: Path) -> None:
    """Seconds per page to read and score, new reader against the previous one (same model, no cache)."""
    from stancetopic.paragraphs import units
    from stancetopic.predictor import Predictor
    from stancetopic.readers import ReadError, _located_blocks, decode, read_article

    predictor = Predictor.from_folder(model)
    predictor.predict_proba(["warm up the embedder once."])
    timings = {}
    for name in ("previous reader (selectolax)", "new reader (trafilatura)"):
        paragraphs, start = 0, time.perf_counter()
        for page in pages:
            try:
                if name.startswith("new"):
                    texts = [u.text for u in read_article(page, 20_000_000, all_languages=False).units]
                else:
                    source = decode(page.read_bytes(), markup=True)
                    texts = [u.text for u in units(_located_blocks(source, old_reader_blocks(source)))]
            except ReadError:
                texts = []
            if texts:
                predictor.predict_proba(texts)
            paragraphs += len(texts)
        timings[name] = (time.perf_counter() - start) / len(pages), paragraphs
    base = timings["previous reader (selectolax)"][0]
    print(f"\nLabelling {len(pages)} English pages (read + score, model {model}, no cache):")
    print("| reader | s/page | paragraphs | vs previous |\n|---|---:|---:|---:|")
    for name, (seconds, paragraphs) in timings.items():
        print(f"| {name} | {seconds:.3f} | {paragraphs} | {base / seconds:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages (0: all)")
    parser.add_argument("--label-pages", type=int, default=0, help="also time labelling N English pages")
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found (trafilatura's benchmark is not shipped with the repo)")
        return

    import trafilatura

    from stancetopic.paragraphs import units
    from stancetopic.readers import ReadError, _located_blocks, decode, read_article

    print(f"# HTML extraction, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(DATA) as archive:
            archive.extractall(tmp, filter="data")
        folder = next(Path(tmp).rglob("evaldata.json")).parent
        evaldata = json.loads((folder / "evaldata.json").read_text())
        items = sorted(evaldata.values(), key=lambda item: item["file"])
        items = items[: args.limit] if args.limit else items
        scores: dict[str, dict[str, Score]] = defaultdict(lambda: defaultdict(Score))
        units_total = units_null = failed = 0
        english: list[Path] = []
        for item in items:
            page = folder / "pages" / item["file"]
            group = group_of(item)
            if group == "English":
                english.append(page)
            start = time.perf_counter()
            try:
                found = read_article(page, 20_000_000, all_languages=True).units
            except ReadError as exc:  # a page we cannot read scores as empty, and is counted
                print(f"  ours failed on {item['file']}: {exc}", file=sys.stderr)
                found, failed = [], failed + 1
            ours = (time.perf_counter() - start, "\n".join(u.text for u in found))
            units_total += len(found)
            units_null += sum(u.start is None for u in found)
            raw = page.read_bytes()
            start = time.perf_counter()
            plain = trafilatura.extract(raw, include_comments=False) or ""
            reference = (time.perf_counter() - start, plain)
            start = time.perf_counter()
            try:
                source = decode(raw, markup=True)
                old = units(_located_blocks(source, old_reader_blocks(source)))
            except ReadError:  # binary (a NUL byte): nothing, as our reader
                old = []
            previous = (time.perf_counter() - start, "\n".join(u.text for u in old))
            for name, (seconds, text) in (
                ("stancetopic (trafilatura + our rules)", ours),
                ("plain trafilatura 2.3.1", reference),
                ("previous reader (selectolax + our rules)", previous),
            ):
                scores[name][group].add(text, item, seconds)
                scores[name]["all"].add(text, item, seconds)
        report(scores, items, units_null, units_total, failed)
        if args.label_pages and english:
            label_speed(english[: args.label_pages], args.model)


def report(scores: dict, items: list, units_null: int, units_total: int, failed: int) -> None:
    """The extraction table, the time ratio and the share of null offsets."""
    counts = {g: scores["plain trafilatura 2.3.1"][g].pages for g in GROUPS}
    print(f"pages: {len(items)} ({', '.join(f'{g} {counts[g]}' for g in GROUPS[:3])})\n")
    print("| extractor | group | precision | recall | F1 | recall, 8+ words | ms/page |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, by_group in scores.items():
        for group in GROUPS:
            p, r, f, long_r, ms = by_group[group].row()
            print(f"| {name} | {group} | {p:.3f} | {r:.3f} | {f:.3f} | {long_r:.3f} | {ms:.1f} |")
    ours_ms = scores["stancetopic (trafilatura + our rules)"]["all"].row()[4]
    plain_ms = scores["plain trafilatura 2.3.1"]["all"].row()[4]
    print(f"\nours vs plain trafilatura, time per page: {ours_ms / plain_ms:.2f}x")
    print(f"units with null offsets (text not verbatim in the file): {units_null} of {units_total} "
          f"({units_null / max(1, units_total):.1%}); pages our reader failed on: {failed}")  # fmt: skip


if __name__ == "__main__":
    main()

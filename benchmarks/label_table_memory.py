"""Peak memory of `stancetopic label` on a 100,000-row CSV against a 10,000-row one.

Usage: python benchmarks/label_table_memory.py [--rows 100000] [--base N] [--distinct 2000] [--model DIR]

The export is made up here: one article a row (an id, a date, an outlet and a
body that is one fixture paragraph). Rows repeat `--distinct` texts, and a
first run on a table of just those texts fills an embedding cache in a
temporary folder, so the measured runs score every paragraph (cache look-ups,
both heads, the journal, the final file) without the minutes of embedding:
neither measured run loads the embedder, so they compare like with like. Each
measured run is a whole `stancetopic label` process with the id, two kept
columns and `--summary`; prints its peak RSS, its time, and the ratio big /
small (the target: within 20%, a ratio of 1.20 or less).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["story_id", "published", "outlet", "body"]
TARGET_RATIO = 1.20
OPTIONS = ["--text-column", "body", "--id-column", "story_id", "--keep-column", "outlet",
           "--keep-column", "published", "-q"]  # fmt: skip


def fixture_texts(distinct: int) -> list[str]:
    """The first `distinct` fixture paragraphs of 8 words or more (each one labelled unit)."""
    texts = [
        json.loads(line)["text"]
        for source in sorted((ROOT / "data" / "fixtures").glob("*.jsonl"))
        for line in source.read_text(encoding="utf-8").splitlines()
    ]
    return [t for t in texts if len(t.split()) >= 8][:distinct]


def export(path: Path, n: int, texts: list[str]) -> None:
    """`n` rows of made-up articles, written row by row."""
    start = datetime.date(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(
            [
                f"s{i}",
                (start + datetime.timedelta(days=i % 365)).isoformat(),
                f"Outlet {i % 12}",
                texts[i % len(texts)],
            ]
            for i in range(n)
        )


def label(table: Path, out: Path, model: Path, cache: Path) -> tuple[float, float]:
    """Peak RSS (MiB) and seconds of one `stancetopic label` process."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-m", "stancetopic.cli", "label", str(table), "-o", str(out), "--model", str(model),
               "--cache-dir", str(cache), "--summary", f"{out}.summary.json", *OPTIONS]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"label failed on {table}:\n{result.stderr}")
    return int(result.stdout.split()[-1]) / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--base", type=int, help="rows of the smaller table (default: a tenth of --rows)")
    parser.add_argument("--distinct", type=int, default=2000, help="distinct texts the rows repeat")
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    if not (args.model / "manifest.json").is_file():
        print(f"no trained model in {args.model}: run `dvc repro` first")
        return
    print(f"machine: {machine()}; date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    texts = fixture_texts(args.distinct)
    sizes = (args.base or args.rows // 10, args.rows)
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp), Path(tmp) / "cache"
        warm = folder / "warm.csv"
        export(warm, len(texts), texts)
        peak, seconds = label(warm, folder / "warm.jsonl", args.model, cache)
        print(
            f"warm-up: {len(texts):,} distinct texts embedded into the cache in {seconds:.0f} s (peak {peak:.0f} MiB)"
        )
        for n in sizes:
            table = folder / f"export-{n}.csv"
            export(table, n, texts)
            out = folder / f"labels-{n}.jsonl"
            peaks[n], seconds = label(table, out, args.model, cache)
            with out.open("rb") as handle:
                records = sum(1 for _ in handle)
            print(
                f"{n:>8,} rows ({table.stat().st_size / 2**20:.0f} MiB CSV, {records:,} paragraphs): "
                f"peak RSS {peaks[n]:.0f} MiB, {seconds:.0f} s"
            )
    ratio = peaks[sizes[1]] / peaks[sizes[0]]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio {sizes[1]:,} / {sizes[0]:,} rows: {ratio:.2f}x")
    print(f"target: peak RSS within {TARGET_RATIO - 1:.0%}: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()

"""Peak memory of reading a 100,000-row table file against a 10,000-row one (`tables.read_table`).

Usage: python benchmarks/table_memory.py [--rows 100000] [--base N] [--format csv|tsv|parquet|jsonl]

The table is made up here: one article a row (an id, a date, an outlet, a
headline and a body of four fixture paragraphs), as a news database exports
it. Each reading is a whole child process that streams every row through
`read_table` with id, headline and two kept columns, and counts them. A second
reader keeps every row in a list, to show what the measurement sees when
memory is not flat. Prints peak RSS of each and the ratios big / small (the
target: streaming within 20%, a ratio of 1.20 or less). `--base` sets the
smaller table's rows (default a tenth): Parquet is written in row groups of
10,000 rows, and a file of one row group peaks lower than one of several.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["story_id", "published", "outlet", "headline", "body"]
TARGET_RATIO = 1.20
READ = """
import sys
from pathlib import Path
from stancetopic.tables import Columns, Row, read_table
columns = Columns(text="body", headline="headline", id="story_id", keep=("published", "outlet"))
rows = read_table(Path(sys.argv[1]), columns)
kept = list(rows) if sys.argv[2] == "list" else None
count = len(kept) if kept is not None else sum(isinstance(r, Row) for r in rows)
print(count)
"""


def table(path: Path, n: int, fmt: str) -> None:
    """`n` rows of made-up articles, written row by row (or in row groups for Parquet)."""
    texts = [
        json.loads(line)["text"]
        for source in sorted((ROOT / "data" / "fixtures").glob("*.jsonl"))
        for line in source.read_text(encoding="utf-8").splitlines()
    ]
    start = datetime.date(2026, 1, 1)

    def row(i: int) -> list[str]:
        body = "\n\n".join(texts[(i * 4 + k) % len(texts)] for k in range(4))
        day = (start + datetime.timedelta(days=i % 365)).isoformat()
        return [f"s{i}", day, f"Outlet {i % 12}", texts[(i * 7) % len(texts)][:80], body]

    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with pq.ParquetWriter(path, pa.schema([(h, pa.string()) for h in HEADER])) as writer:
            for first in range(0, n, 10_000):
                rows = [row(i) for i in range(first, min(n, first + 10_000))]
                writer.write_table(pa.table({h: [r[j] for r in rows] for j, h in enumerate(HEADER)}))
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "jsonl":
            handle.writelines(json.dumps(dict(zip(HEADER, row(i), strict=True))) + "\n" for i in range(n))
            return
        writer = csv.writer(handle, delimiter="\t" if fmt == "tsv" else ",")
        writer.writerow(HEADER)
        writer.writerows(row(i) for i in range(n))


def peak_rss(path: Path, mode: str) -> tuple[int, float]:
    """Rows read and peak RSS (MiB) of one child process."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout\n"
        "print(out.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-c", READ, str(path), mode]
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True
    )
    count, peak_kib = out.stdout.split()
    return int(count), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--base", type=int, help="rows of the smaller table (default: a tenth of --rows)")
    parser.add_argument("--format", dest="fmt", choices=("csv", "tsv", "parquet", "jsonl"), default="csv")
    args = parser.parse_args()
    print(f"machine: {machine()}; date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    sizes = (args.base or args.rows // 10, args.rows)
    peaks: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"export-{n}.{args.fmt}"
            table(path, n, args.fmt)
            megabytes = path.stat().st_size / 2**20
            for mode in ("stream", "list"):
                count, peaks[mode, n] = peak_rss(path, mode)
                assert count == n, (count, n)
                print(
                    f"{n:>8,} rows ({args.fmt}, {megabytes:.0f} MiB), {mode:>6}: peak RSS {peaks[mode, n]:.0f} MiB"
                )
    for mode, what in (("stream", "read_table, streamed"), ("list", "every row kept in a list")):
        print(
            f"ratio {sizes[1]:,} / {sizes[0]:,} rows, {what}: {peaks[mode, sizes[1]] / peaks[mode, sizes[0]]:.2f}x"
        )
    ratio = peaks["stream", sizes[1]] / peaks["stream", sizes[0]]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target: streamed peak RSS within {TARGET_RATIO - 1:.0%}: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()

"""Time `stancetopic overview` on a synthetic 100,000-record label output against a 10,000-record one.

Usage: python benchmarks/overview_time.py [--records 100000] [--format jsonl|csv|parquet] [--by date]

The label outputs are made up here (paragraph texts built from our fixtures,
random labels and scores, a date over 60 days and one of 12 outlets kept per
record), so no model runs. Each overview is a whole process, imports
included, run alone; prints wall seconds, peak RSS and the ratios of the big
run to the small one (the target: the big one written in 10 s or less).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("defence", "economy", "migration", "courts", "other")
OUTLETS = [f"Outlet {c}" for c in "ABCDEFGHIJKL"]
TARGET_SECONDS = 10.0


def records(n: int, seed: int = 0) -> list[dict]:
    """`n` label records with `date` and `outlet` kept, as `label` writes them to JSON Lines."""
    rng = random.Random(seed)
    texts = [
        json.loads(line)["text"]
        for path in sorted((ROOT / "data" / "fixtures").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    start = datetime.date(2026, 1, 1)
    out = []
    for i in range(n):
        topic = rng.choices(TOPICS, weights=(3, 4, 2, 2, 5))[0]
        topic_score = rng.uniform(0.3, 1.0)
        rest = (1 - topic_score) / 4
        stance_score = rng.uniform(0.5, 1.0)
        out.append({
            "source": f"article-{i // 20:05d}.txt", "paragraph": i % 20, "start": 0, "end": 100,
            "text": texts[i % len(texts)], "stance": rng.choice(("affirms", "denies")),
            "stance_score": round(stance_score, 6), "topic": topic, "topic_score": round(topic_score, 6),
            "topic_scores": {t: round(topic_score if t == topic else rest, 6) for t in TOPICS},
            "uncertain": stance_score < 0.7 or topic_score < 0.5,
            "date": (start + datetime.timedelta(days=rng.randrange(60))).isoformat(),
            "outlet": rng.choice(OUTLETS),
        })  # fmt: skip
    return out


def write(path: Path, rows: list[dict], fmt: str) -> None:
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return
    flat = [{k: v for k, v in r.items() if k != "topic_scores"}
            | {f"topic_score_{t}": s for t, s in r["topic_scores"].items()} for r in rows]  # fmt: skip
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(flat[0]))
            writer.writeheader()
            writer.writerows(flat)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(flat), path, row_group_size=8192)


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process, alone in a wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True
    )
    seconds, cpu, peak_kib = out.stdout.split()[-3:]
    return float(seconds), float(cpu), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--format", dest="fmt", choices=("jsonl", "csv", "parquet"), default="jsonl")
    parser.add_argument("--by", default="date", help="the --by column: date, outlet, source or none")
    args = parser.parse_args()
    print(f"machine: {machine()}; date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    sizes = (args.records // 10, args.records)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            labels = Path(tmp) / f"labels-{n}.{args.fmt}"
            write(labels, records(n), args.fmt)
            command = [sys.executable, "-m", "stancetopic.cli", "overview", str(labels), "-o",
                       str(Path(tmp) / f"overview-{n}.html"), "--overwrite"]  # fmt: skip
            if args.by != "none":
                command += ["--by", args.by]
            results[n] = measure(command)
            wall, cpu, peak = results[n]
            size = labels.stat().st_size / 2**20
            print(f"{n:>8,} records ({args.fmt}, {size:.1f} MiB), --by {args.by}: "
                  f"{wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:.0f} MiB")  # fmt: skip
    (small_s, small_cpu, small_m), (big_s, big_cpu, big_m) = results[sizes[0]], results[sizes[1]]
    print(f"ratio {sizes[1]:,} / {sizes[0]:,} records: wall {big_s / small_s:.2f}x, "
          f"CPU {big_cpu / small_cpu:.2f}x, peak RSS {big_m / small_m:.2f}x")  # fmt: skip
    verdict = "met" if big_s <= TARGET_SECONDS else "NOT met"
    print(f"target: {sizes[1]:,} records in <= {TARGET_SECONDS:.0f} s: {verdict} ({big_s:.2f} s wall)")


if __name__ == "__main__":
    main()

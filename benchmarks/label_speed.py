"""Benchmark `stancetopic label` against a bare sentence-transformers script.

Usage: python benchmarks/label_speed.py [--paragraphs 5000] [--model models]

Everything is measured in this one run, as whole processes, on the same
paragraphs, batch size and thread count:
  1. baseline: a bare script that imports sentence-transformers, loads the
     model's own embedder and encodes the paragraphs (and, for scale, the same
     script with the small packaged all-MiniLM-L6-v2);
  2. `label` with a cold embedding cache, then `label` again with the warm cache
     (what relabelling after retraining the heads costs);
  3. peak memory of `label` on N/10 and on 4N/... paragraphs (flat in corpus size).
Prints wall times, paragraphs/s and the ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from stancetopic import embedder, packaged

ROOT = Path(__file__).resolve().parents[1]
BARE = """
import json, sys
import torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads(int(sys.argv[3]))
texts = json.load(open(sys.argv[1]))
model = SentenceTransformer(sys.argv[4], device="cpu")
model.encode(texts, batch_size=int(sys.argv[2]), show_progress_bar=False)
"""


def corpus(folder: Path, paragraphs: int) -> list[str]:
    """Distinct realistic paragraphs built from the fixtures, 100 per .txt file."""
    sources = [
        json.loads(line)["text"]
        for path in sorted((ROOT / "data" / "fixtures").glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    texts = [
        f"{sources[i % len(sources)]} The report was updated at {i // len(sources) + 1} pm."
        for i in range(paragraphs)
    ]
    folder.mkdir(parents=True)
    for start in range(0, paragraphs, 100):
        (folder / f"article-{start // 100:05d}.txt").write_text("\n\n".join(texts[start : start + 100]))
    return texts


def label_command(model: Path, batch_size: int) -> list[str]:
    """`stancetopic label` as a child process, quiet, on `model`."""
    return [sys.executable, "-m", "stancetopic.cli", "label", "--model", str(model), "-q",
            "--batch-size", str(batch_size)]  # fmt: skip


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process, alone in a wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True
    )
    seconds, peak_kib = out.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--memory-paragraphs", type=int, nargs=2, default=(2000, 20000))
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    threads = str(os.cpu_count())
    os.environ.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS=threads)
    label = label_command(args.model, args.batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        texts = corpus(tmp / "corpus", args.paragraphs)
        (tmp / "texts.json").write_text(json.dumps(texts))
        rows = []
        bare = [sys.executable, "-c", BARE, str(tmp / "texts.json"), str(args.batch_size), threads]
        bare_s, bare_mb = measure([*bare, str(args.model / "embedder")])
        rows.append(("bare sentence-transformers encode", bare_s, bare_mb))
        rows.append(("the same, packaged MiniLM", *measure([*bare, embedder.resolve(packaged.MINILM)])))
        cold_s, cold_mb = measure(
            [*label, str(tmp / "corpus"), "-o", str(tmp / "cold.jsonl"), "--cache-dir", str(tmp / "cache")]
        )
        rows.append(("label, cold cache", cold_s, cold_mb))
        warm_s, warm_mb = measure(
            [*label, str(tmp / "corpus"), "-o", str(tmp / "warm.jsonl"), "--cache-dir", str(tmp / "cache")]
        )
        rows.append(("label, warm cache (relabel)", warm_s, warm_mb))
        print(f"{args.paragraphs} paragraphs, batch size {args.batch_size}, {threads} threads\n")
        print(f"{'run':<32}{'seconds':>9}{'para/s':>9}{'vs bare':>9}{'peak MiB':>10}")
        for name, seconds, peak in rows:
            print(
                f"{name:<32}{seconds:>9.1f}{args.paragraphs / seconds:>9.1f}{bare_s / seconds:>8.2f}x{peak:>10.0f}"
            )
        print(f"\nthroughput label/bare: {bare_s / cold_s:.2f}  (target >= 0.9)")
        print(f"relabel speed-up warm/cold: {cold_s / warm_s:.1f}x  (target >= 10)")

        peaks = []
        for n in args.memory_paragraphs:
            corpus(tmp / f"mem-{n}", n)
            _, peak = measure(
                [*label, str(tmp / f"mem-{n}"), "-o", str(tmp / f"mem-{n}.jsonl"), "--no-cache"]
            )
            peaks.append(peak)
            print(f"peak memory, {n} paragraphs, no cache: {peak:.0f} MiB")
        print(
            f"memory ratio {args.memory_paragraphs[1]}/{args.memory_paragraphs[0]}: {peaks[1] / peaks[0]:.2f}  (target <= 1.20)"
        )


if __name__ == "__main__":
    main()

"""Benchmark label's backends and engines on the same paragraphs, plus ONNX parity.

Usage: python benchmarks/engines.py [--paragraphs 5000] [--model models] [--workers 2]

In one run, each as a whole process on the same N paragraphs:
  1. baseline: a bare sentence-transformers encode of the model's embedder (torch);
  2. `label --backend torch`, `--backend onnx`, `--backend onnx-int8` (cold cache;
     the ONNX exports are made beforehand and timed on their own);
  3. `label --engine ray --workers W` (torch, a local Ray instance it starts itself);
  4. `label` again with the warm embedding cache of run 2.
Peak memory is the largest total RSS of the process and all its descendants
(Ray's raylet and workers included), sampled every 50 ms.
Then the parity check on the test split and the held-out set: label agreement
of each ONNX backend with torch, and macro-F1 of each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from label_speed import BARE, corpus, label_command

ROOT = Path(__file__).resolve().parents[1]
TEST = ROOT / "data" / "prepared" / "test.jsonl"
HOLDOUT = ROOT / "data" / "holdout" / "holdout.jsonl"


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak total RSS (MiB) of a command and all its descendants."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"{command[:6]}... exited {code}")
    return seconds, peak / 2**20


def parity(model: Path, path: Path) -> None:
    """Agreement with torch and macro-F1 per backend on a labelled file."""
    from sklearn.metrics import f1_score

    from stancetopic.fixtures import read_labelled
    from stancetopic.predictor import Predictor

    records = read_labelled([path])
    texts = [r["text"] for r in records]
    labels = {}
    for backend in ("torch", "onnx", "onnx-int8"):
        predictor = Predictor.from_folder(model, backend=backend)
        names = {"stance": predictor.heads.stances, "topic": predictor.heads.topics}
        probabilities = dict(zip(("stance", "topic"), predictor.predict_proba(texts), strict=True))
        labels[backend] = {h: [names[h][i] for i in p.argmax(axis=1)] for h, p in probabilities.items()}
    print(f"\nparity on {path.relative_to(ROOT)} ({len(records)} paragraphs)")
    print(f"{'backend':<11}{'stance F1':>10}{'topic F1':>10}{'stance agree':>14}{'topic agree':>13}")
    sided = [i for i, r in enumerate(records) if r["stance"] != "unverified"]  # take no side: topic only
    rows = {"stance": sided, "topic": range(len(records))}
    for backend, predicted in labels.items():
        f1 = {
            h: f1_score([records[i][h] for i in rows[h]], [predicted[h][i] for i in rows[h]], average="macro")
            for h in predicted
        }
        agree = {
            h: sum(a == b for a, b in zip(predicted[h], labels["torch"][h], strict=True)) / len(records)
            for h in predicted
        }
        print(
            f"{backend:<11}{f1['stance']:>10.3f}{f1['topic']:>10.3f}{agree['stance']:>13.1%}{agree['topic']:>13.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    threads = str(os.cpu_count())
    os.environ.update(HF_HUB_OFFLINE="1")
    label = label_command(args.model, args.batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        texts = corpus(tmp / "corpus", args.paragraphs)
        (tmp / "texts.json").write_text(json.dumps(texts))
        folder = str(tmp / "corpus")
        for backend in ("onnx", "onnx-int8"):  # make (or verify) the exports before timing
            seconds, _ = measure([*label, str(TEST.parent), "--glob", "test.jsonl", "-o", str(tmp / f"{backend}.x.jsonl"),
                                  "--backend", backend, "--no-cache"])  # fmt: skip
            print(f"{backend}: export (or verify) and label {TEST.name}: {seconds:.1f} s")
        runs = {
            "bare sentence-transformers": [sys.executable, "-c", BARE, str(tmp / "texts.json"),
                                           str(args.batch_size), threads, str(args.model / "embedder")],
            "label --backend torch": [*label, folder, "-o", str(tmp / "torch.jsonl"), "--cache-dir",
                                      str(tmp / "cache"), "--backend", "torch"],
            "label --backend onnx": [*label, folder, "-o", str(tmp / "onnx.jsonl"), "--no-cache",
                                     "--backend", "onnx"],
            "label --backend onnx-int8": [*label, folder, "-o", str(tmp / "int8.jsonl"), "--no-cache",
                                          "--backend", "onnx-int8"],
            f"label --engine ray ({args.workers} workers)": [*label, folder, "-o", str(tmp / "ray.jsonl"),
                                                           "--engine", "ray", "--workers", str(args.workers),
                                                           "--backend", "torch"],
            "label, warm cache (rerun)": [*label, folder, "-o", str(tmp / "warm.jsonl"), "--cache-dir",
                                          str(tmp / "cache"), "--backend", "torch"],
        }  # fmt: skip
        results = {name: measure(command) for name, command in runs.items()}
        # The identity check: Ray's workers run 1 thread each here, and thread
        # count moves float rounding, so the local reference runs with 1 too.
        measure(
            [
                *label,
                folder,
                "-o",
                str(tmp / "local-1.jsonl"),
                "--no-cache",
                "--threads",
                "1",
                "--backend",
                "torch",
            ]
        )
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "unknown CPU")  # fmt: skip
        print(f"\n{args.paragraphs} paragraphs, batch size {args.batch_size}, {threads} cores ({cpu})\n")
        bare = results["bare sentence-transformers"][0]
        torch_s = results["label --backend torch"][0]
        print(f"{'run':<32}{'seconds':>9}{'para/s':>9}{'vs bare':>9}{'vs torch':>10}{'peak MiB':>10}")
        for name, (seconds, peak) in results.items():
            print(
                f"{name:<32}{seconds:>9.1f}{args.paragraphs / seconds:>9.1f}{bare / seconds:>8.2f}x"
                f"{torch_s / seconds:>9.2f}x{peak:>10.0f}"
            )
        same = (tmp / "ray.jsonl").read_bytes() == (tmp / "local-1.jsonl").read_bytes()
        print(f"\nray records identical to local torch --threads 1 --no-cache: {same}")
        print(f"onnx-int8 / torch whole-process throughput: {torch_s / results['label --backend onnx-int8'][0]:.2f}x"
              "  (target >= 1.6)")  # fmt: skip
    for path in (TEST, HOLDOUT):
        parity(args.model, path)


if __name__ == "__main__":
    main()

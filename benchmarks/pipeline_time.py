"""Time `dvc repro` on a fresh clone and after new fixture lines; check `-f` is byte-identical.

Usage: python benchmarks/pipeline_time.py [--no-finetune] [--append 100]

Clones this repository (committed state) into a temporary folder and holds
back the last APPEND lines of its largest fixture file. Runs the whole
pipeline, runs `dvc repro` again (nothing should run), puts the held-back
lines back (a user appending labelled lines) and times `dvc repro` once more,
then `dvc repro -f`, and compares the SHA-256 of every model file and the
metrics with the run before it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stancetopic.digest import sha256_file

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("models/stance.joblib", "models/topic.joblib", "models/manifest.json",
           "models/embedder/model.safetensors", "reports/metrics.json")  # fmt: skip


def dvc(repo: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-finetune", action="store_true", help="set finetune.enabled=false first")
    parser.add_argument("--append", type=int, default=100, help="fixture lines added after the first run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        if args.no_finetune:
            params = repo / "params.yaml"
            params.write_text(params.read_text().replace("enabled: true", "enabled: false"))
        largest = max((repo / "data" / "fixtures").glob("*.jsonl"), key=lambda p: p.stat().st_size)
        lines = largest.read_text().splitlines(keepends=True)
        largest.write_text("".join(lines[: -args.append]))
        first, _ = dvc(repo, "repro")
        again, out = dvc(repo, "repro")
        largest.write_text("".join(lines))
        appended, _ = dvc(repo, "repro")
        digests = {name: sha256_file(repo / name) for name in CHECKED}
        forced, _ = dvc(repo, "repro", "-f")
        same = all(sha256_file(repo / name) == digest for name, digest in digests.items())
    print(f"fine-tuning: {'off' if args.no_finetune else 'on'}")
    print(f"dvc repro on a fresh clone: {first:.0f} s")
    print(f"second dvc repro: {again:.1f} s, stages run: {out.count('Running stage')}")
    print(f"dvc repro after appending {args.append} lines to {largest.name}: {appended:.0f} s")
    print(f"dvc repro -f: {forced:.0f} s, models and metrics byte-identical: {same}")


if __name__ == "__main__":
    main()

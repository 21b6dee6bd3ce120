"""Time `dvc repro` on a fresh clone, check a rerun does nothing and `-f` is byte-identical.

Usage: python benchmarks/pipeline_time.py [--no-finetune]

Clones this repository (committed state) into a temporary folder, runs the
whole pipeline, runs `dvc repro` again (nothing should run), then `dvc repro -f`
and compares the SHA-256 of every model file and the metrics.
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        if args.no_finetune:
            params = repo / "params.yaml"
            params.write_text(params.read_text().replace("enabled: true", "enabled: false"))
        first, _ = dvc(repo, "repro")
        digests = {name: sha256_file(repo / name) for name in CHECKED}
        again, out = dvc(repo, "repro")
        forced, _ = dvc(repo, "repro", "-f")
        same = all(sha256_file(repo / name) == digest for name, digest in digests.items())
    print(f"fine-tuning: {'off' if args.no_finetune else 'on'}")
    print(f"dvc repro on a fresh clone: {first:.0f} s")
    print(f"second dvc repro: {again:.1f} s, stages run: {out.count('Running stage')}")
    print(f"dvc repro -f: {forced:.0f} s, models and metrics byte-identical: {same}")


if __name__ == "__main__":
    main()

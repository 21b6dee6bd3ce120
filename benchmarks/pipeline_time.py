"""Time `dvc repro` on a fresh clone and after new lines; check `-f` is byte-identical.

Usage: python benchmarks/pipeline_time.py [--no-finetune] [--append 100]

Clones this repository (committed state) into a temporary folder, with an
empty embedding cache, and holds back the last APPEND lines of its two largest
fixture files. Runs the whole pipeline, runs `dvc repro` again (nothing should
run), then times the two ways a user adds lines: appended to a fixture file
(data/fixtures/: the embedder is fine-tuned again) and added to data/added/
(what `stancetopic add -t data/added/...` does: the heads only, new texts only
embedded). Last, `dvc repro -f`, comparing the SHA-256 of every model file
and the metrics with the run before it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

from stancetopic.digest import sha256_file

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("models/stance.joblib", "models/topic.joblib", "models/manifest.json",
           "models/embedder/model.safetensors", "reports/metrics.json")  # fmt: skip


def dvc(repo: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return time.perf_counter() - started, out


def ran(out: str) -> str:
    """The stages a `dvc repro` output says it ran."""
    return (
        ", ".join(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage"))
        or "none"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-finetune", action="store_true", help="set finetune.enabled=false first")
    parser.add_argument("--append", type=int, default=100, help="fixture lines added after the first run")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "XDG_CACHE_HOME": str(Path(scratch) / "cache")}  # fmt: skip
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        if args.no_finetune:
            params = repo / "params.yaml"
            params.write_text(params.read_text().replace("enabled: true", "enabled: false"))
        files = sorted((repo / "data" / "fixtures").glob("*.jsonl"), key=lambda p: p.stat().st_size)[-2:]
        held = {}
        for path in files:
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join(lines[: -args.append]))
            held[path] = lines[-args.append :]
        first, _ = dvc(repo, env, "repro")
        again, out = dvc(repo, env, "repro")
        appended_file, added_file = files
        with appended_file.open("a") as handle:
            handle.writelines(held[appended_file])
        appended, appended_out = dvc(repo, env, "repro")
        (repo / "data" / "added" / "bench.jsonl").write_text("".join(held[added_file]))
        added, added_out = dvc(repo, env, "repro")
        digests = {name: sha256_file(repo / name) for name in CHECKED}
        forced, _ = dvc(repo, env, "repro", "-f")
        same = all(sha256_file(repo / name) == digest for name, digest in digests.items())
    print(f"fine-tuning: {'off' if args.no_finetune else 'on'}")
    print(f"dvc repro on a fresh clone: {first:.0f} s")
    print(f"second dvc repro: {again:.1f} s, stages run: {ran(out)}")
    print(f"dvc repro after appending {args.append} lines to data/fixtures/{appended_file.name}: {appended:.0f} s "
          f"(ran: {ran(appended_out)})")  # fmt: skip
    print(f"dvc repro after adding {args.append} lines to data/added/: {added:.0f} s (ran: {ran(added_out)}; "
          f"{next(line for line in added_out.splitlines() if 'texts encoded' in line)})")  # fmt: skip
    print(f"dvc repro -f: {forced:.0f} s, models and metrics byte-identical: {same}")


if __name__ == "__main__":
    main()

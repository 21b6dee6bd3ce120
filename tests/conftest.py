"""Shared, real fixtures: one loaded embedder and one trained pipeline per session.

Nothing here is mocked: the packaged MiniLM model, real DVC and real files in
temporary folders. Loading the model and running `dvc repro` once per session
keeps the suite inside its time budget on two cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "tiny.jsonl"
TINY_ARTICLES = Path(__file__).parent / "data" / "articles.jsonl"
PIPELINE_FILES = ("dvc.yaml", "params.yaml", "train", "evaluate", "src/stancetopic")


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command with the test interpreter's bin folder first on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def make_pipeline_repo(
    dest: Path, fixtures: Path = TINY, test_size: float = 0.25, calib_size: float = 0.25
) -> Path:
    """A fresh git + DVC repo holding the real pipeline and the given fixtures."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PIPELINE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, dest / name)
    (dest / "data" / "fixtures").mkdir(parents=True)
    shutil.copy(fixtures, dest / "data" / "fixtures" / fixtures.name)
    (dest / "data" / "added").mkdir()
    shutil.copy(ROOT / "data" / "added" / "README.md", dest / "data" / "added" / "README.md")
    (dest / "data" / "articles").mkdir()
    shutil.copy(TINY_ARTICLES, dest / "data" / "articles" / TINY_ARTICLES.name)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    params["prepare"].update(test_size=test_size, calib_size=calib_size)
    # tests/data/tiny_metrics.json was recorded in fp32 (`auto` would train in bf16 on some CPUs only)
    # with MiniLM, its learning rate and the stance floor rule alone: the small model keeps the suite fast.
    params["finetune"].update(precision="fp32", learning_rate=8.0e-5)
    params["embed"]["model"] = "all-MiniLM-L6-v2"
    params["label"]["floors"]["stance"] = 0.0
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], dest)
    run([sys.executable, "-m", "dvc", "init", "-q"], dest)
    return dest


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "dvc", *args], repo, check=check)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory) -> None:
    """The embedding cache (`label`, the embed stage) goes to a session folder, never the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg"))


@pytest.fixture(scope="session")
def embedder_model():
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    from stancetopic import embedder, packaged

    return embedder.load(packaged.MINILM)


@pytest.fixture(scope="session")
def trained_repo(tmp_path_factory) -> Path:
    """A pipeline repo on the tiny fixtures after one real `dvc repro`."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("pipeline"))
    dvc(repo, "repro")
    return repo


@pytest.fixture
def model(trained_repo) -> Path:
    """The trained model folder (read only: use `model_copy` to tamper)."""
    return trained_repo / "models"


@pytest.fixture
def model_copy(trained_repo, tmp_path) -> Path:
    """A private copy of the trained model folder, safe to tamper with."""
    return Path(shutil.copytree(trained_repo / "models", tmp_path / "models"))

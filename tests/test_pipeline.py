"""The DVC pipeline end to end, in temporary git repos, with real `dvc repro`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from .conftest import TINY, dvc, make_pipeline_repo, run

OUTPUTS = (
    "data/prepared/train.jsonl",
    "data/prepared/calib.jsonl",
    "data/prepared/test.jsonl",
    "data/embeddings/train.npy",
    "data/embeddings/calib.npy",
    "data/embeddings/test.npy",
    "models/stance.joblib",
    "models/topic.joblib",
    "models/manifest.json",
    "models/embedder/model.safetensors",
    "reports/metrics.json",
    "reports/report.json",
)


def digests(repo) -> dict[str, str]:
    from stancetopic.digest import sha256_file

    return {name: sha256_file(repo / name) for name in OUTPUTS}


def test_repro_writes_every_output_and_metrics(trained_repo):
    assert all((trained_repo / name).is_file() for name in OUTPUTS)
    metrics = json.loads((trained_repo / "reports/metrics.json").read_text())
    for head, labels in (("stance", {"affirms", "denies"}), ("topic", {"courts", "other"})):
        assert labels <= set(metrics[head]["per_class"])
        assert set(metrics[head]["per_class"]["other" if head == "topic" else "denies"]) == {
            "precision",
            "recall",
            "f1",
        }
    manifest = json.loads((trained_repo / "models/manifest.json").read_text())
    assert manifest["embedder"] == {
        **manifest["embedder"],
        "name": "embedder",
        "base": "all-MiniLM-L6-v2",
        "finetuned": True,
        "dimension": 384,
        "precision": "fp32",  # from the finetune stage's record (models/embedder/finetuning.json)
    }
    assert {"stance.joblib", "topic.joblib", "embedder/model.safetensors"} <= set(manifest["files"])
    assert manifest["calib_size"] == 10
    assert all(0.5 <= manifest["uncertain_below"][head] <= 0.95 for head in ("stance", "topic"))
    prepared = {
        n: (trained_repo / f"data/prepared/{n}.jsonl").read_text().splitlines()
        for n in ("train", "calib", "test")
    }
    assert [len(lines) for lines in prepared.values()] == [20, 10, 10]
    assert not set(prepared["calib"]) & (set(prepared["train"]) | set(prepared["test"]))
    # A param the manifest records must rerun the train stage when it changes, or the record goes stale.
    declared = yaml.safe_load((trained_repo / "dvc.yaml").read_text())["stages"]["train"]["params"]
    assert set(manifest["params"]) <= set(declared)
    recorded = json.dumps(manifest["params"])
    for name in ("fixtures", "articles", "added"):  # relative paths only
        recorded = recorded.replace(f"data/{name}", "")
    assert "/" not in recorded
    shown = dvc(trained_repo, "plots", "show", "--json").stdout
    assert "stance_confusion.json" in shown


def test_metrics_match_the_recorded_run_within_the_cross_machine_tolerance(trained_repo):
    """Another CPU fine-tunes to other last bits (README, "Reproducibility"); the metrics must hold.

    A change of recipe, params or tiny fixtures moves them on purpose: then
    record the new figures in tests/data/tiny_metrics.json.
    """
    recorded = json.loads((Path(__file__).parent / "data" / "tiny_metrics.json").read_text())
    metrics = json.loads((trained_repo / "reports/metrics.json").read_text())
    for head in ("stance", "topic"):
        for key, expected in recorded[head].items():
            assert abs(metrics[head][key] - expected) <= recorded["tolerance"], (
                head,
                key,
                metrics[head][key],
            )


def test_second_repro_runs_nothing(trained_repo):
    out = dvc(trained_repo, "repro").stdout
    assert "Running stage" not in out
    assert "up to date" in out


def test_forced_reruns_are_byte_identical(tmp_path):
    repo = make_pipeline_repo(tmp_path)
    dvc(repo, "repro")
    first = digests(repo)
    dvc(repo, "repro", "-f")
    assert digests(repo) == first


def test_changing_a_head_param_does_not_re_embed(trained_repo, tmp_path):
    repo = make_pipeline_repo(tmp_path)
    dvc(repo, "repro")
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("C: 4.0", "C: 0.5", 1))
    out = dvc(repo, "repro").stdout
    assert "Running stage 'train'" in out
    for upstream in ("prepare", "finetune", "embed"):
        assert f"Running stage '{upstream}'" not in out


def test_bad_fixture_stops_repro_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = TINY.read_text().splitlines()
    lines[4] = lines[4].replace('"stance": "denies"', '"stance": "refutes"')
    bad.write_text("\n".join(lines) + "\n")
    repo = make_pipeline_repo(tmp_path / "repo", fixtures=bad)
    result = dvc(repo, "repro", check=False)
    assert result.returncode != 0
    assert "data/fixtures/bad.jsonl:5: unknown stance 'refutes'" in result.stderr
    assert not (repo / "models").exists()


def test_stage_scripts_run_one_by_one(tmp_path):
    repo = make_pipeline_repo(tmp_path)
    scripts = (
        "train/prepare.py",
        "train/finetune.py",
        "train/embed.py",
        "train/train.py",
        "evaluate/evaluate.py",
    )
    for script in scripts:
        out = run([sys.executable, script], repo).stdout
        assert out.splitlines()[-1].startswith(script.split("/")[1].removesuffix(".py") + ":")


ADDED = [
    {"id": "mine-001", "text": "The port authority confirmed that grain shipments resumed on Tuesday.",
     "stance": "affirms", "topic": "economy"},
    {"id": "mine-002", "text": "Border officials denied that the crossing had been closed to refugees.",
     "stance": "denies", "topic": "migration"},
    {"id": "mine-003", "text": "The appeals court upheld the sentence handed to the former governor.",
     "stance": "affirms", "topic": "courts"},
    {"id": "mine-004", "text": "The club said reports that its coach had resigned were untrue.",
     "stance": "denies", "topic": "other"},
]  # fmt: skip


def test_added_lines_retrain_the_heads_without_fine_tuning_until_asked(tmp_path):
    from stancetopic.digest import sha256_file

    repo = make_pipeline_repo(tmp_path)
    dvc(repo, "repro")
    parts = {
        n: (repo / f"data/prepared/{n}.jsonl").read_text() for n in ("train", "calib", "test", "finetune")
    }
    (repo / "data/added/mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ADDED))
    out = dvc(repo, "repro").stdout
    for stage in ("prepare", "embed", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out
    assert "Running stage 'finetune'" not in out
    assert "embed: 4 texts encoded, the others from the cache" in out
    added_ids = set()
    for name, before in parts.items():  # our fixtures keep their parts; the added lines join them
        after = (repo / f"data/prepared/{name}.jsonl").read_text()
        assert after.startswith(before)
        new = [json.loads(line)["id"] for line in after[len(before) :].splitlines()]
        assert not new if name == "finetune" else set(new).isdisjoint(added_ids)
        added_ids |= set(new)
    assert added_ids == {r["id"] for r in ADDED}
    manifest = json.loads((repo / "models/manifest.json").read_text())
    assert manifest["added_sha256"] and manifest["train_size"] > len(parts["train"].splitlines())

    params = repo / "params.yaml"  # another weight for your lines: only the heads are refitted, and they move
    assert added_ids & {json.loads(line)["id"] for line in (repo / "data/prepared/train.jsonl").open()}
    heads = {name: sha256_file(repo / "models" / name) for name in ("stance.joblib", "topic.joblib")}
    params.write_text(params.read_text().replace("added_weight: 100.0", "added_weight: 3.0", 1))
    out = dvc(repo, "repro").stdout
    ran = [stage for stage in ("prepare", "finetune", "embed", "train") if f"Running stage '{stage}'" in out]
    assert ran == ["train"]
    assert all(sha256_file(repo / "models" / name) != digest for name, digest in heads.items())

    params.write_text(params.read_text().replace("added: false", "added: true", 1))
    out = dvc(repo, "repro").stdout
    assert "Running stage 'finetune'" in out
    assert (repo / "data/prepared/finetune.jsonl").read_text() == (
        repo / "data/prepared/train.jsonl"
    ).read_text()


def test_unknown_precision_stops_repro_with_one_line(tmp_path):
    repo = make_pipeline_repo(tmp_path)
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("precision: fp32", "precision: fp16", 1))
    result = dvc(repo, "repro", check=False)
    assert result.returncode != 0
    assert (
        "finetune: finetune.precision must be one of auto, fp32, bf16, not 'fp16' (params.yaml)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (repo / "models" / "embedder").exists()

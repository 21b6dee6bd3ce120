"""Backends (torch, ONNX fp32, ONNX int8) and the Ray engine, against the local torch path.

Ray runs for real: one local instance with 2 CPUs for the whole module, which
the CLI joins through --ray-address, as it would join a cluster.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from stancetopic import onnx_backend
from stancetopic.digest import sha256_file
from stancetopic.fixtures import read_labelled
from stancetopic.predictor import Predictor
from tests.conftest import TINY
from tests.helpers import label, many_paragraphs, read, write_corpus


@pytest.fixture(scope="module")
def ray_address():
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [record["text"] for record in read_labelled([TINY])]


def test_onnx_export_is_cached_with_a_checksum_and_remade_when_altered(model_copy, texts):
    predictor = Predictor.from_folder(model_copy, backend="onnx")
    folder = onnx_backend.export_dir(model_copy, "onnx")
    info = json.loads((folder / onnx_backend.INFO_FILE).read_text())
    assert info["files"][onnx_backend.ONNX_FILE] == sha256_file(folder / onnx_backend.ONNX_FILE)
    assert info["embedder"] == predictor.identity and info["backend"] == "onnx"

    made = (folder / onnx_backend.ONNX_FILE).stat().st_mtime_ns
    Predictor.from_folder(model_copy, backend="onnx")
    assert (folder / onnx_backend.ONNX_FILE).stat().st_mtime_ns == made  # reused, not exported again

    with (folder / onnx_backend.ONNX_FILE).open("r+b") as handle:
        handle.seek(-64, 2)
        handle.write(b"\0" * 64)
    again = Predictor.from_folder(model_copy, backend="onnx")
    assert sha256_file(folder / onnx_backend.ONNX_FILE) == info["files"][onnx_backend.ONNX_FILE]
    assert np.array_equal(again.embed(texts[:4]), predictor.embed(texts[:4]))


def test_onnx_backends_agree_with_torch(model_copy, texts):
    torch_predictor = Predictor.from_folder(model_copy, backend="torch")
    reference = torch_predictor.embed(texts)
    labels = [p.argmax(axis=1) for p in torch_predictor.predict_proba(texts)]
    for backend, closeness in (("onnx", 0.99999), ("onnx-int8", 0.97)):
        predictor = Predictor.from_folder(model_copy, backend=backend)
        vectors = predictor.embed(texts)
        cosine = (vectors * reference).sum(axis=1)
        assert cosine.min() > closeness, (backend, cosine.min())
        if backend == "onnx":
            for head, probabilities in zip(labels, predictor.predict_proba(texts), strict=True):
                assert (probabilities.argmax(axis=1) == head).all()


def test_long_texts_are_windowed_the_same_way_on_onnx(model_copy, texts):
    long_text = " ".join(texts)  # far past the 256-token limit
    torch_vector = Predictor.from_folder(model_copy, backend="torch").embed([long_text])
    onnx_vector = Predictor.from_folder(model_copy, backend="onnx").embed([long_text])
    assert float((torch_vector * onnx_vector).sum()) > 0.99999


def test_backends_never_share_cached_vectors(model_copy, tmp_path):
    identities = {
        Predictor.from_folder(model_copy, backend=b, cache_dir=tmp_path, lazy=True).cache.embedder_id
        for b in onnx_backend.BACKENDS
    }
    assert len(identities) == 3


def test_label_with_int8_backend(model_copy, tmp_path):
    corpus = write_corpus(tmp_path / "in")
    torch_out, int8_out = tmp_path / "torch.jsonl", tmp_path / "int8.jsonl"
    assert label(corpus, "-o", torch_out, "--model", model_copy, "--no-cache").exit_code == 0
    result = label(corpus, "-o", int8_out, "--model", model_copy, "--no-cache", "--backend", "onnx-int8")
    assert result.exit_code == 0, result.stderr
    a, b = read(torch_out), read(int8_out)
    assert [(r["source"], r["paragraph"], r["text"]) for r in a] == [
        (r["source"], r["paragraph"], r["text"]) for r in b
    ]
    assert (onnx_backend.export_dir(model_copy, "onnx-int8") / onnx_backend.ONNX_FILE).is_file()


def test_ray_engine_gives_the_local_engines_records(model, tmp_path, ray_address):
    corpus = write_corpus(tmp_path / "in")
    (corpus / "broken.jsonl").write_text('{"text": "Officials confirmed the deal."}\n{not json\n')
    (corpus / "photo.png").write_bytes(b"\x89PNG")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.csv"
    # Ray's workers here run 1 thread each (2 CPUs, 2 workers); thread count moves float rounding.
    expected = label(
        corpus, "-o", local, "--model", model, "--no-cache", "--threads", "1", "--format", "csv", "-q"
    )
    result = label(
        corpus, "-o", on_ray, "--model", model, "--engine", "ray", "--ray-address", ray_address, "-q"
    )
    assert expected.exit_code == result.exit_code == 4  # broken.jsonl line 2, named, the rest labelled
    assert result.stderr == expected.stderr
    assert on_ray.read_bytes() == local.read_bytes()


def test_ray_engine_resumes_on_whole_chunks(model, tmp_path, ray_address):
    corpus = many_paragraphs(tmp_path / "many", files=6, per_file=120)  # 720 paragraphs: two chunks
    reference = tmp_path / "reference.jsonl"
    assert (
        label(corpus, "-o", reference, "--model", model, "--no-cache", "--threads", "1", "-q").exit_code == 0
    )
    out = tmp_path / "out.jsonl"
    lines = reference.read_text().splitlines(keepends=True)
    (tmp_path / "out.jsonl.partial").write_text("".join(lines[:600]))  # cut back to 512 on resume
    ray_args = ("--engine", "ray", "--ray-address", ray_address, "--workers", "2", "-q")
    result = label(corpus, "-o", out, "--model", model, "--resume", *ray_args)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == reference.read_bytes()


def test_ray_engine_with_onnx_int8_matches_local(model_copy, tmp_path, ray_address):
    corpus = write_corpus(tmp_path / "in")
    shutil.copy(corpus / "a.txt", corpus / "a-copy.txt")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ("--model", model_copy, "--backend", "onnx-int8", "-q")
    assert label(corpus, "-o", local, "--no-cache", "--threads", "1", *common).exit_code == 0
    assert (
        label(corpus, "-o", on_ray, "--engine", "ray", "--ray-address", ray_address, *common).exit_code == 0
    )
    assert on_ray.read_bytes() == local.read_bytes()


def test_engine_options_are_checked(model, tmp_path):
    corpus = write_corpus(tmp_path / "in")
    result = label(corpus, "-o", tmp_path / "o.jsonl", "--model", model, "--ray-address", "auto")
    assert result.exit_code == 2 and "--engine ray" in result.stderr
    result = label(corpus, "-o", tmp_path / "o.jsonl", "--model", model, "--backend", "fast")
    assert result.exit_code == 2

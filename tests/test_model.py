"""Model loading: nothing is loaded unless the manifest lists it and its checksum matches."""

from __future__ import annotations

import hashlib
import json
import pathlib
from pathlib import Path

import joblib
import numpy as np
import pytest

from stancetopic.model import FORMAT, EmbedderInfo, Manifest, ModelError, load_heads, read_manifest
from stancetopic.predictor import Predictor


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


class RunsCodeOnLoad:
    """A pickle that creates a file when unpickled: what a hostile head would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_loads_a_verified_folder(model_copy, embedder_model):
    predictor = Predictor.from_folder(model_copy, model=embedder_model)
    stance, topic = predictor.predict_proba(["The court quashed the conviction on Monday."])
    assert stance.shape == (1, 2) and topic.shape == (1, 5)
    assert abs(stance.sum() - 1) < 1e-6 and abs(topic.sum() - 1) < 1e-6


def test_refuses_a_tampered_joblib_file(model_copy):
    path = model_copy / "stance.joblib"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=r"stance\.joblib: checksum does not match"):
        load_heads(model_copy)


@pytest.mark.parametrize("head", ["stance.joblib", "topic.joblib", "ngrams.joblib"])
def test_a_head_whose_entry_is_deleted_is_refused_before_it_is_unpickled(model_copy, tmp_path, head):
    marker = tmp_path / "code-ran"
    joblib.dump(RunsCodeOnLoad(marker), model_copy / head)
    edit_manifest(model_copy, lambda m: m["files"].pop(head))
    with pytest.raises(ModelError, match=rf"{head}: not listed in manifest\.json"):
        load_heads(model_copy)
    assert not marker.exists()


def test_an_embedder_file_whose_entry_is_deleted_is_refused(model_copy):
    weights = model_copy / "embedder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    edit_manifest(model_copy, lambda m: m["files"].pop("embedder/model.safetensors"))
    with pytest.raises(ModelError, match=r"model\.safetensors: not listed in manifest\.json"):
        load_heads(model_copy)


def test_an_extra_file_in_the_embedder_folder_is_refused(model_copy):
    (model_copy / "embedder" / "pytorch_model.bin").write_bytes(b"not listed anywhere")
    with pytest.raises(ModelError, match=r"pytorch_model\.bin: not listed"):
        load_heads(model_copy)


def test_refuses_a_missing_file(model_copy):
    (model_copy / "topic.joblib").unlink()
    with pytest.raises(ModelError, match=r"topic\.joblib: missing"):
        load_heads(model_copy)


def test_refuses_a_folder_without_manifest(model_copy):
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no model manifest"):
        load_heads(model_copy)


def test_refuses_a_manifest_pointing_outside_the_folder(model_copy):
    edit_manifest(model_copy, lambda m: m["files"].update({"../escape.joblib": "0" * 64}))
    with pytest.raises(ModelError, match="outside the model folder"):
        load_heads(model_copy)


def test_refuses_a_bundled_embedder_outside_the_folder(model_copy, tmp_path):
    elsewhere = Path(tmp_path / "elsewhere")
    (model_copy / "embedder").rename(elsewhere)
    edit_manifest(model_copy, lambda m: m["embedder"].update(name=str(elsewhere)))
    with pytest.raises(ModelError, match="outside the model folder"):
        load_heads(model_copy)


def test_a_pinned_manifest_digest_vouches_for_the_folder(model_copy):
    digest = hashlib.sha256((model_copy / "manifest.json").read_bytes()).hexdigest()
    assert load_heads(model_copy, manifest_sha256=digest).stances == ["affirms", "denies"]
    edit_manifest(model_copy, lambda m: m.update(calib_size=0))  # consistent, but not the pinned one
    with pytest.raises(ModelError, match="manifest digest is not the pinned"):
        load_heads(model_copy, manifest_sha256=digest)


def test_an_external_embedder_must_be_the_one_trained_on(model_copy, embedder_model, tmp_path):
    """An embedder outside the folder is checked by its digest, and by its vector size."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    from stancetopic import embedder

    small = SentenceTransformer(
        modules=[*embedder_model, Dense(in_features=384, out_features=128)], device="cpu"
    )
    small.save(str(tmp_path / "small"))
    edit_manifest(
        model_copy,
        lambda m: m["embedder"].update(name=str(tmp_path / "small"), bundled=False, sha256="0" * 64),
    )
    with pytest.raises(ModelError, match="is not the one the heads were trained on"):
        load_heads(model_copy)
    edit_manifest(
        model_copy, lambda m: m["embedder"].update(sha256=embedder.identity(str(tmp_path / "small")))
    )
    with pytest.raises(ModelError, match=r"heads expect 384-dimensional embeddings but .* gives 128"):
        Predictor.from_folder(model_copy)


def small_manifest(**changes) -> dict:
    data = {
        "format": FORMAT,
        "labels": {"stance": ["affirms", "denies"], "topic": ["courts", "other"]},
        "embedder": {"name": "embedder", "bundled": True, "dimension": 8},
        "uncertain_below": {"stance": 0.7, "topic": 0.5},
        "files": {"stance.joblib": "0" * 64},
    }
    return {**data, **changes}


def test_the_manifest_schema_round_trips_and_leaves_out_what_is_not_there(tmp_path):
    manifest = Manifest.from_dict(small_manifest(), tmp_path / "manifest.json")
    assert manifest.embedder == EmbedderInfo(name="embedder", bundled=True, dimension=8)
    assert manifest.backend == "torch" and manifest.article is None and manifest.article_rule is None
    assert "article" not in manifest.to_dict()
    assert Manifest.from_dict(manifest.to_dict(), tmp_path) == manifest
    assert manifest.embedder_source(tmp_path) == str(tmp_path / "embedder")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (small_manifest(format=1), "model format 1 is not 2; retrain it"),
        ({"format": FORMAT}, "manifest has no 'files' table"),
        (small_manifest(labels={"stance": ["affirms", "denies"]}), "no topic labels or threshold"),
        (small_manifest(embedder={"name": "x", "bundled": True}), "lacks or misnames a field"),
        (small_manifest(colour="blue"), "lacks or misnames a field"),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_the_file(tmp_path, data, reason):
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=reason) as caught:
        read_manifest(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "manifest.json")) and "\n" not in str(caught.value)


def test_the_trained_manifest_is_read_whole(model):
    """What `train` writes is what every reader gets: nothing dropped on the way in or out."""
    written = json.loads((model / "manifest.json").read_text())
    assert read_manifest(model).to_dict() == written


def test_uncertain_threshold_is_where_held_out_accuracy_reaches_the_target():
    from stancetopic.heads import uncertain_threshold

    confidence = np.array([0.55, 0.6, 0.7, 0.8, 0.9, 0.95])
    correct = np.array([False, False, True, False, True, True])
    assert uncertain_threshold(confidence, correct, 0.75) == 0.61  # keeps 0.7..0.95: 3 of 4 right
    assert uncertain_threshold(confidence, correct, 1.0) == 0.81
    assert uncertain_threshold(confidence, np.zeros(6, dtype=bool), 0.9) == 0.95

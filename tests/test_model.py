"""Model loading: nothing is unpickled unless the manifest's checksums match."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancetopic.model import ModelError, load_heads
from stancetopic.predictor import Predictor


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


def test_refuses_a_missing_file(model_copy):
    (model_copy / "topic.joblib").unlink()
    with pytest.raises(ModelError, match=r"topic\.joblib: missing"):
        load_heads(model_copy)


def test_refuses_a_folder_without_manifest(model_copy):
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no model manifest"):
        load_heads(model_copy)


def test_refuses_a_manifest_pointing_outside_the_folder(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["files"]["../escape.joblib"] = "0" * 64
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="outside the model folder"):
        load_heads(model_copy)


def test_refuses_an_embedder_of_the_wrong_dimension(model_copy, embedder_model, tmp_path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    small = SentenceTransformer(
        modules=[*embedder_model, Dense(in_features=384, out_features=128)], device="cpu"
    )
    small.save(str(tmp_path / "small"))
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["embedder"]["name"] = str(tmp_path / "small")
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"heads expect 384-dimensional embeddings but .* gives 128"):
        Predictor.from_folder(model_copy)


def test_uncertain_threshold_is_where_held_out_accuracy_reaches_the_target():
    from stancetopic.heads import uncertain_threshold

    confidence = np.array([0.55, 0.6, 0.7, 0.8, 0.9, 0.95])
    correct = np.array([False, False, True, False, True, True])
    assert uncertain_threshold(confidence, correct, 0.75) == 0.61  # keeps 0.7..0.95: 3 of 4 right
    assert uncertain_threshold(confidence, correct, 1.0) == 0.81
    assert uncertain_threshold(confidence, np.zeros(6, dtype=bool), 0.9) == 0.95

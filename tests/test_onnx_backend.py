"""ONNX exports: verified file by file, tokenizer included, and known by a digest of all of it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from stancetopic import onnx_backend
from stancetopic.digest import sha256_file
from stancetopic.onnx_backend import INFO_FILE, ONNX_FILE, TOKENIZER_FILE, digest, is_current
from stancetopic.predictor import Predictor

IDENTITY = "e" * 64


def fake_export(folder: Path, backend: str = "onnx") -> Path:
    """An export folder as `ensure_export` leaves it, with made-up model bytes."""
    folder.mkdir(parents=True)
    (folder / ONNX_FILE).write_bytes(b"graph bytes")
    (folder / TOKENIZER_FILE).write_text('{"model": {"vocab": {"[UNK]": 0, "denied": 1}}}')
    files = {name: sha256_file(folder / name) for name in (ONNX_FILE, TOKENIZER_FILE)}
    info = {"embedder": IDENTITY, "backend": backend, "files": files, "source": str(folder), "dimension": 4}
    (folder / INFO_FILE).write_text(json.dumps(info))
    return folder


def test_an_intact_export_is_current(tmp_path):
    folder = fake_export(tmp_path / "onnx")
    assert is_current(folder, IDENTITY, "onnx")
    assert not is_current(folder, "f" * 64, "onnx")  # another embedder
    assert not is_current(folder, IDENTITY, "onnx-int8")


def test_an_int8_export_is_current_only_if_quantised_as_now(tmp_path):
    folder = fake_export(tmp_path / "int8", backend="onnx-int8")
    assert not is_current(folder, IDENTITY, "onnx-int8")  # made before the fp32 nodes were kept
    info = json.loads((folder / INFO_FILE).read_text())
    (folder / INFO_FILE).write_text(json.dumps(info | {"quantisation": onnx_backend.QUANTISATION}))
    assert is_current(folder, IDENTITY, "onnx-int8")


def test_an_edited_tokenizer_makes_the_export_stale(tmp_path):
    folder = fake_export(tmp_path / "onnx")
    (folder / TOKENIZER_FILE).write_text('{"model": {"vocab": {"[UNK]": 0, "confirmed": 1}}}')
    assert not is_current(folder, IDENTITY, "onnx")


@pytest.mark.parametrize("change", ["drop tokenizer entry", "extra file", "no files table", "bad json"])
def test_an_export_that_does_not_account_for_every_file_is_stale(tmp_path, change):
    folder = fake_export(tmp_path / "onnx")
    info = json.loads((folder / INFO_FILE).read_text())
    if change == "drop tokenizer entry":
        del info["files"][TOKENIZER_FILE]
    elif change == "extra file":
        (folder / "model.onnx.data").write_bytes(b"external weights nobody listed")
    elif change == "no files table":
        info["sha256"] = info.pop("files")[ONNX_FILE]  # the format before tokenizers were checked
    (folder / INFO_FILE).write_text("{" if change == "bad json" else json.dumps(info))
    assert not is_current(folder, IDENTITY, "onnx")


def test_the_digest_follows_every_file_but_not_where_the_folder_lies(tmp_path):
    a = fake_export(tmp_path / "a")
    b = fake_export(tmp_path / "b")  # the same export in another place
    assert digest(a) == digest(b)
    (b / TOKENIZER_FILE).write_text('{"model": {"vocab": {"[UNK]": 0}}}')
    info = json.loads((b / INFO_FILE).read_text())
    info["files"][TOKENIZER_FILE] = sha256_file(b / TOKENIZER_FILE)  # a consistent edit of the folder
    (b / INFO_FILE).write_text(json.dumps(info))
    assert is_current(b, IDENTITY, "onnx") and digest(a) != digest(b)


def test_quantising_leaves_the_callers_logging_as_it_was(caplog):
    root = logging.getLogger()
    handlers, filters = list(root.handlers), list(root.filters)
    logging.disable(logging.DEBUG)  # the caller's own setting
    try:
        with caplog.at_level(logging.INFO), onnx_backend._root_warnings_dropped():
            logging.warning("advice for static quantisation")  # as onnxruntime logs it
            logging.getLogger("stancetopic").warning("warning: kept")
        assert logging.root.manager.disable == logging.DEBUG
    finally:
        logging.disable(logging.NOTSET)
    assert root.handlers == handlers and root.filters == filters
    assert [r.getMessage() for r in caplog.records] == ["warning: kept"]


@pytest.fixture(scope="module")
def exported(trained_repo, tmp_path_factory) -> Path:
    """A model copy with a real fp32 export, made once for this module."""
    folder = Path(shutil.copytree(trained_repo / "models", tmp_path_factory.mktemp("onnx") / "models"))
    Predictor.from_folder(folder, backend="onnx", lazy=True).prepare()
    return folder


def test_a_real_export_lists_its_tokenizer_and_is_remade_when_it_is_edited(exported, tmp_path):
    folder = Path(shutil.copytree(exported, tmp_path / "models"))
    export = onnx_backend.export_dir(folder, "onnx")
    info = json.loads((export / INFO_FILE).read_text())
    assert set(info["files"]) == {ONNX_FILE, TOKENIZER_FILE}
    original = (export / TOKENIZER_FILE).read_bytes()
    (export / TOKENIZER_FILE).write_bytes(original.replace(b'"denied"', b'"confirmed"', 1))
    Predictor.from_folder(folder, backend="onnx", lazy=True).prepare()
    assert (export / TOKENIZER_FILE).read_bytes() == original


def test_the_cache_knows_vectors_by_the_export_that_made_them(exported, tmp_path):
    folder = Path(shutil.copytree(exported, tmp_path / "models"))
    before = Predictor.from_folder(folder, backend="onnx", lazy=True, cache_dir=tmp_path / "cache")
    export = onnx_backend.export_dir(folder, "onnx")
    tokenizer = json.loads((export / TOKENIZER_FILE).read_text())
    tokenizer["normalizer"] = None  # vectors change; export.json updated to match, as a tamperer would
    (export / TOKENIZER_FILE).write_text(json.dumps(tokenizer))
    info = json.loads((export / INFO_FILE).read_text())
    info["files"][TOKENIZER_FILE] = sha256_file(export / TOKENIZER_FILE)
    (export / INFO_FILE).write_text(json.dumps(info))
    after = Predictor.from_folder(folder, backend="onnx", lazy=True, cache_dir=tmp_path / "cache")
    assert before.identity == after.identity  # same embedder
    assert before.cache.embedder_id != after.cache.embedder_id  # different producer of vectors


def test_int8_keeps_the_feed_forward_output_of_the_given_layers_in_fp32(exported, tmp_path):
    import onnx

    source = onnx_backend.export_dir(exported, "onnx") / ONNX_FILE

    def fp32_layers(kept: list[int]) -> set[int]:
        onnx_backend.quantise(source, tmp_path / "int8.onnx", kept)
        nodes = onnx.load(str(tmp_path / "int8.onnx")).graph.node
        assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in nodes)  # the rest is int8
        assert not any(n.op_type == "MatMul" and "attention/output/dense" in n.name for n in nodes)
        plain = [n.name for n in nodes if n.op_type == "MatMul"]
        return {int(m.group(1)) for name in plain if (m := onnx_backend.FFN_OUTPUT_NODE.search(name))}

    assert fp32_layers([0, 2]) == {0, 2}
    assert fp32_layers([]) == set()


def test_outlier_layers_are_measured_on_sample_texts_and_leave_the_model_as_it_was():
    from stancetopic import embedder, packaged

    model = embedder.load(packaged.MINILM)
    before = model.encode(["The court upheld the sentence."])
    ratios = onnx_backend.input_ratios(model)
    assert sorted(ratios) == list(range(6)) and all(r > 1 for r in ratios.values())  # one per layer
    assert onnx_backend.outlier_layers(ratios) == [
        n for n, r in ratios.items() if r > onnx_backend.OUTLIER_RATIO
    ]
    assert onnx_backend.outlier_layers(ratios) == []  # MiniLM has none: all of it is quantised
    assert not any(module._forward_hooks for module in model.modules())
    assert (model.encode(["The court upheld the sentence."]) == before).all()


def test_int8_labels_agree_with_torch(exported):
    """What users of `--backend onnx-int8` read: the same labels as torch, nearly always."""
    from stancetopic.fixtures import read_labelled
    from tests.conftest import TINY

    texts = [r["text"] for r in read_labelled([TINY])]
    reference = Predictor.from_folder(exported, backend="torch").predict_proba(texts)
    int8 = Predictor.from_folder(exported, backend="onnx-int8").predict_proba(texts)
    for head, (a, b) in zip(("stance", "topic"), zip(reference, int8, strict=True), strict=True):
        agreement = (a.argmax(axis=1) == b.argmax(axis=1)).mean()
        assert agreement >= 0.95, (head, agreement)

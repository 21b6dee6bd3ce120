"""The embedder module: offline loading, windows for long texts, and one-way imports."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from stancetopic import embedder, packaged

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stancetopic"


def test_vectors_are_unit_rows_one_per_text(embedder_model):
    vectors = embedder.encode(embedder_model, ["The court quashed the verdict.", "Prices rose 3 percent."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert embedder.encode(embedder_model, []).shape == (0, 384)


def test_a_long_text_is_the_renormalised_mean_of_its_windows(embedder_model):
    sentence = "The ministry denied that the frigate contract had been cancelled. "
    text = sentence * 60  # far past the 256-word-piece limit
    pieces, owners = embedder._windows(embedder_model, [text, "short"])
    windows = len(pieces) - 1
    assert windows >= 3 and list(owners) == [0] * windows + [1]
    assert "".join(pieces[:windows]).replace(" ", "") == text.replace(" ", "")  # nothing dropped
    windows = embedder.encode(embedder_model, pieces[:windows])
    mean = windows.mean(axis=0) / np.linalg.norm(windows.mean(axis=0))
    assert np.allclose(embedder.encode(embedder_model, [text])[0], mean, atol=1e-6)


def test_a_lone_surrogate_is_read_as_the_replacement_character(embedder_model):
    broken = embedder.encode(embedder_model, ["The minister \ud800 denied it."])
    assert np.array_equal(broken, embedder.encode(embedder_model, ["The minister \ufffd denied it."]))


def test_loading_leaves_the_callers_progress_bar_setting_alone():
    from transformers.utils import logging as transformers_logging

    transformers_logging.enable_progress_bar()
    embedder.load(packaged.MINILM)
    assert transformers_logging.is_progress_bar_enabled()


def test_a_missing_embedder_is_one_clear_error(tmp_path):
    with pytest.raises(OSError, match=r"cannot load embedder .* offline"):
        embedder.load(str(tmp_path / "nowhere"))


def test_identity_is_the_folder_digest_and_names_resolve_to_the_packaged_model():
    assert embedder.resolve("sentence-transformers/all-MiniLM-L6-v2") == embedder.resolve(packaged.MINILM)
    assert embedder.resolve("/some/folder") == "/some/folder"
    assert len(embedder.identity(packaged.MINILM)) == 64


def imports(path: Path) -> set[str]:
    """The stancetopic modules a file imports, at any depth (lazy imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "stancetopic":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stancetopic."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("stancetopic.")}
    return {name for name in names if (PACKAGE / f"{name}.py").exists()}


def test_library_modules_import_one_way():
    """No import circles: the embedder never imports its ONNX runtime, nor any module its importers."""
    graph = {p.stem: imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert "onnx_backend" not in graph["embedder"]

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += graph.get(name, ())
        return seen

    circles = sorted(name for name in graph if name in reachable(name))
    assert not circles, f"modules in an import circle: {circles}"

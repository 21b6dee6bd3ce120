"""ONNX Runtime encoders, fp32 and int8, exported locally from a sentence-transformers model.

Why: on a CPU, ONNX Runtime with dynamically quantised int8 weights (VNNI
instructions where the CPU has them) embeds markedly faster than torch, and a
run that finds its export already made never imports torch at all.

The whole sentence-transformers pipeline (transformer, pooling, any dense or
normalise module) is traced into one graph, so the ONNX model returns the same
sentence embedding as `SentenceTransformer.encode`. Exports are cached next to
the model in `<model folder>/onnx/<backend>/` with an `export.json` that holds
the embedder's identity and the SHA-256 of every other file of the export
(`model.onnx`, `tokenizer.json`); a stale, altered or added file makes it
export again. Nothing is fetched from a hub.

This module implements `embedder.Encoder`; the embedder module never imports it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from stancetopic import embedder
from stancetopic.digest import sha256_file

BACKENDS = ("torch", "onnx", "onnx-int8")
ONNX_FILE = "model.onnx"
INFO_FILE = "export.json"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17
# Kept in fp32 by `onnx-int8`: each transformer layer's feed-forward output
# projection (the exporter names it `.../layer.N/output/dense/MatMul` for BERT,
# MiniLM and MPNet; a BERT layer's attention projection is `attention/output/...`
# and is not matched). Its input, after the GELU, carries a few very large
# activations; one int8 scale per tensor for them rounds the rest away. With
# all-mpnet-base-v2 quantising it too moved 8% of the calib slice's stance labels
# (docs/benchmarks.md, "Backends and engines").
FP32_NODES = re.compile(r"/layer\.\d+/output/dense/MatMul$")
# What an int8 export was made with: an export made otherwise is stale.
QUANTISATION = {"weights": "int8 per channel", "activations": "int8 dynamic", "fp32": FP32_NODES.pattern}


def export_dir(model_folder: Path, backend: str) -> Path:
    """Where a model folder keeps its export for `backend`."""
    return Path(model_folder) / "onnx" / backend


def _read_info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _present(folder: Path) -> set[str]:
    """Every file of an export folder but its `export.json`, by relative name."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {INFO_FILE}


def is_current(folder: Path, identity: str, backend: str) -> bool:
    """True when `folder` holds an intact export of this embedder for this backend.

    Intact: `export.json` lists exactly the files present, the model and the
    tokenizer among them, and each has its recorded SHA-256. An edited
    `tokenizer.json` changes the vectors as surely as an edited model does.
    An int8 export must also have been quantised as `quantise` does now.
    """
    info = _read_info(folder)
    if info is None or info.get("embedder") != identity or info.get("backend") != backend:
        return False
    if info.get("quantisation") != _quantisation(backend):
        return False
    files = info.get("files")
    if not isinstance(files, dict) or not {ONNX_FILE, TOKENIZER_FILE} <= set(files):
        return False
    return set(files) == _present(folder) and all(
        sha256_file(folder / name) == digest for name, digest in files.items()
    )


def digest(folder: Path) -> str:
    """The identity of a verified export: what produced its vectors.

    A hash of its `export.json` (less the source path, so a moved model
    folder keeps it), which holds the embedder identity, the backend and the
    SHA-256 of every file of the export.
    """
    info = _read_info(folder) or {}
    info.pop("source", None)
    return hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()


def ensure_export(source: str, identity: str, folder: Path, backend: str) -> Path:
    """Return `folder` holding a verified export of `source`, exporting it first if needed.

    The export is built in a temporary sibling folder and moved into place, so
    an interrupted export never leaves a half-written model behind.
    """
    if backend not in BACKENDS[1:]:
        raise ValueError(f"not an ONNX backend: {backend!r}")
    if is_current(folder, identity, backend):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{backend}-", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    scratch.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is for every user of the model
    try:
        info = _export(source, scratch, quantize=backend == "onnx-int8")
        files = {name: sha256_file(scratch / name) for name in sorted(_present(scratch))}
        info.update(embedder=identity, backend=backend, files=files)
        if _quantisation(backend):
            info["quantisation"] = _quantisation(backend)
        (scratch / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _export(source: str, dest: Path, quantize: bool) -> dict[str, Any]:
    """Trace the sentence-transformers model to `dest/model.onnx` (int8 when `quantize`)."""
    import torch

    model = embedder.load(source)
    model.tokenizer.backend_tokenizer.save(str(dest / TOKENIZER_FILE))  # the fast tokenizer, as loaded
    sample = model.tokenizer(["a sample sentence", "another"], padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, inputs, strict=True)))["sentence_embedding"]

    fp32 = dest / ("fp32.onnx" if quantize else ONNX_FILE)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            Pipeline().eval(),
            tuple(sample[name] for name in names),
            str(fp32),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    if quantize:
        quantise(fp32, dest / ONNX_FILE)
        fp32.unlink()
    return {
        "source": source,
        "inputs": names,
        "max_seq_length": model.get_max_seq_length(),
        "dimension": embedder.dimension(model),
        "normalised": any(type(m).__name__ == "Normalize" for m in model),
    }


def _quantisation(backend: str) -> dict[str, str] | None:
    return QUANTISATION if backend == "onnx-int8" else None


def quantise(
    fp32: Path,
    int8: Path,
    per_channel: bool = True,
    op_types: list[str] | None = None,
    keep_fp32: re.Pattern[str] | None = FP32_NODES,
) -> None:
    """Dynamic int8 quantisation: int8 weights (per channel by default), int8 activations at run time.

    Nodes whose names match `keep_fp32` stay in fp32 (None: none). The defaults
    are what `onnx-int8` uses; `benchmarks/int8_variants.py` shows why.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    kept = [node.name for node in graph.node if keep_fp32 is not None and keep_fp32.search(node.name)]
    with _root_warnings_dropped():  # its advice to pre-process is for static quantisation
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=op_types,
            nodes_to_exclude=kept,
        )


@contextmanager
def _root_warnings_dropped() -> Iterator[None]:
    """Drop records logged on the root logger meanwhile (the quantiser logs there), then restore it.

    `logging.warning()` also installs a stderr handler on a bare root logger;
    that handler is removed again, so the caller's logging is left as it was.
    """
    root = logging.getLogger()
    handlers = list(root.handlers)

    def quiet(record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING

    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)


class OnnxEncoder:
    """An exported embedder on ONNX Runtime.

    Offers the part of `SentenceTransformer`'s interface that `embedder.encode`
    uses, so token windows and pooling of long texts work the same on every
    backend. Texts are batched only with texts of the same token length: no
    padding, so no wasted work, and int8 activation ranges see real tokens only.
    """

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.info = json.loads((folder / INFO_FILE).read_text())
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.info["max_seq_length"])

    def get_max_seq_length(self) -> int:
        return int(self.info["max_seq_length"])

    def get_embedding_dimension(self) -> int:
        return int(self.info["dimension"])

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Character offsets of each text's tokens, without special tokens or truncation."""
        self._tokenizer.no_truncation()
        try:
            return [e.offsets for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
        finally:
            self._tokenizer.enable_truncation(max_length=self.info["max_seq_length"])

    def encode(
        self, texts: list[str], batch_size: int = 32, normalize_embeddings: bool = True, **_: object
    ) -> np.ndarray:
        """Sentence embeddings, one float32 row per text, in input order."""
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        out = np.zeros((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < len(order):
            stop = start + 1
            while (
                stop < len(order)
                and stop - start < batch_size
                and lengths[order[stop]] == lengths[order[start]]
            ):
                stop += 1
            rows = order[start:stop]
            feed = {
                "input_ids": np.array([encodings[i].ids for i in rows], dtype=np.int64),
                "attention_mask": np.array([encodings[i].attention_mask for i in rows], dtype=np.int64),
                "token_type_ids": np.array([encodings[i].type_ids for i in rows], dtype=np.int64),
            }
            (vectors,) = self.session.run(None, {name: feed[name] for name in self.info["inputs"]})
            out[rows] = vectors
            start = stop
        if normalize_embeddings and not self.info["normalised"]:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

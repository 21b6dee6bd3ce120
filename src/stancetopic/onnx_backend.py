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
from collections.abc import Collection, Iterator
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
# `onnx-int8` keeps in fp32 the feed-forward output projection of each
# transformer layer whose input has outliers: a few activations, after the GELU,
# far larger than the rest. Dynamic quantisation gives a whole tensor one int8
# scale, so they take the range and the rest round away. A layer has outliers
# when its largest input activation on SAMPLE_TEXTS is over OUTLIER_RATIO times
# the 99.9th percentile: 23-42 times in layers 6-10 of all-mpnet-base-v2, where
# quantising them moved 8% of the calib slice's stance labels, and at most 11
# times in every other layer of it and of all-MiniLM-L6-v2 (docs/benchmarks.md,
# "Backends and engines"). The module is `...layer.N.output.dense` in BERT,
# MiniLM and MPNet, and the exporter names its MatMul `.../layer.N/output/dense/
# MatMul`; a BERT attention projection (`layer.N.attention.output.dense`) is not one.
OUTLIER_RATIO = 15.0
FFN_OUTPUT_MODULE = re.compile(r"(?:^|\.)layer\.(\d+)\.output\.dense$")
FFN_OUTPUT_NODE = re.compile(r"/layer\.(\d+)/output/dense/MatMul$")
SAMPLE_TEXTS = (
    "The central bank left its main interest rate unchanged on Thursday, saying inflation had eased.",
    "A court in the capital acquitted the former minister of all corruption charges.",
    "The defence ministry denied reports that troops had been moved towards the border overnight.",
    "More than two hundred people who crossed the sea in small boats were brought ashore on Sunday.",
    "FACT CHECK: No, the video does not show the president leaving the summit early",
    "Shares in the carmaker fell 6% after it cut its profit forecast for the year.",
    "The striker scored twice as the home side came from behind to win the cup final.",
    "Police said they had arrested a man in connection with the fire at the warehouse.",
)
# What an int8 export was made with: an export made otherwise is stale.
QUANTISATION = {
    "weights": "int8 per channel",
    "activations": "int8 dynamic",
    "fp32": f"feed-forward outputs of layers with outliers over {OUTLIER_RATIO}x",
}


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
    if info.get("quantisation") != (QUANTISATION if backend == "onnx-int8" else None):
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
    info: dict[str, Any] = {
        "source": source,
        "inputs": names,
        "max_seq_length": model.get_max_seq_length(),
        "dimension": embedder.dimension(model),
        "normalised": any(type(m).__name__ == "Normalize" for m in model),
    }
    if quantize:
        info.update(quantisation=QUANTISATION, fp32_layers=outlier_layers(input_ratios(model)))
        quantise(fp32, dest / ONNX_FILE, info["fp32_layers"])
        fp32.unlink()
    return info


def input_ratios(model: Any) -> dict[int, float]:
    """Per layer: the largest input activation of its feed-forward output over their 99.9th percentile.

    Measured on SAMPLE_TEXTS, one at a time (no padding tokens), by forward hooks
    on the torch model; {} for a model without layers named as in BERT.
    """
    import torch

    seen: dict[int, list[torch.Tensor]] = {}
    hooks = []
    for name, module in model.named_modules():
        if found := FFN_OUTPUT_MODULE.search(name):
            inputs = seen.setdefault(int(found.group(1)), [])
            hooks.append(
                module.register_forward_hook(lambda _m, args, _o, into=inputs: into.append(args[0].abs()))
            )
    try:
        with torch.no_grad():
            model.encode(list(SAMPLE_TEXTS), batch_size=1)
    finally:
        for hook in hooks:
            hook.remove()
    ratios: dict[int, float] = {}
    for layer, batches in sorted(seen.items()):
        values = torch.cat([batch.flatten() for batch in batches]).float()
        ratios[layer] = float(values.max() / torch.quantile(values, 0.999))
    return ratios


def outlier_layers(ratios: dict[int, float]) -> list[int]:
    """The layers, of `input_ratios`, whose feed-forward output `onnx-int8` keeps in fp32 (see OUTLIER_RATIO)."""
    return [layer for layer, ratio in ratios.items() if ratio > OUTLIER_RATIO]


def quantise(
    fp32: Path,
    int8: Path,
    fp32_layers: Collection[int] = (),
    per_channel: bool = True,
    op_types: list[str] | None = None,
) -> None:
    """Dynamic int8 quantisation: int8 weights (per channel by default), int8 activations at run time.

    The feed-forward output projections of `fp32_layers` stay in fp32. The
    defaults, with `outlier_layers`, are what `onnx-int8` uses;
    `benchmarks/int8_variants.py` shows why.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    kept = [
        node.name
        for node in graph.node
        if (found := FFN_OUTPUT_NODE.search(node.name)) and int(found.group(1)) in fp32_layers
    ]
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

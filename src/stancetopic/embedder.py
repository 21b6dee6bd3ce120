"""Load a sentence-transformers embedder offline and encode paragraphs.

The packaged base models (all-mpnet-base-v2, the default in params.yaml, and
all-MiniLM-L6-v2; `packaged`) come from pip packages, so nothing is fetched
from a hub (`HF_HUB_OFFLINE` is set). Any other model name or local path works
where the user has it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from stancetopic import packaged
from stancetopic.digest import sha256_folder

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sentence_transformers import SentenceTransformer

# Written by the finetune stage into the embedder folder it saves: how it was trained.
FINETUNING_RECORD = "finetuning.json"


class Encoder(Protocol):
    """What `encode` needs from an embedder runtime.

    `SentenceTransformer` has it, and so does `onnx_backend.OnnxEncoder`: the
    runtimes depend on this module, never this module on them.
    """

    def get_max_seq_length(self) -> int | None: ...

    def get_embedding_dimension(self) -> int | None: ...

    def encode(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class OwnTokenizer(Protocol):
    """An encoder that tokenizes by itself (not with a transformers tokenizer)."""

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]: ...


# A lone surrogate is a valid Python str character but no tokenizer accepts it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def resolve(name: str) -> str:
    """Map a packaged model's name to its folder (`packaged`); pass anything else through."""
    return packaged.folder(name) or name


def load(name: str) -> SentenceTransformer:
    """Load an embedder on the CPU without touching the network."""
    from sentence_transformers import SentenceTransformer

    folder = resolve(name)  # a packaged model's own errors say what to install; not rewrapped below
    try:
        with _no_loading_bar():
            return SentenceTransformer(folder, device="cpu")
    except OSError as exc:
        raise OSError(
            f"cannot load embedder {name!r} offline: give a local folder or a model in the "
            f"Hugging Face cache ({exc.__class__.__name__})"
        ) from exc


@contextmanager
def _no_loading_bar() -> Iterator[None]:
    """transformers' weight-loading bar is noise on stderr; the caller's setting is restored after."""
    from transformers.utils import logging as transformers_logging

    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            transformers_logging.enable_progress_bar()


def identity(name: str) -> str:
    """The embedder's identity: the digest of its folder (or hub snapshot).

    The same name can point to different weights; the same digest cannot.
    """
    folder = Path(resolve(name))
    if not folder.is_dir():
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(name, local_files_only=True))
    return sha256_folder(folder)


def _token_offsets(model: Encoder, texts: list[str]) -> list[list[tuple[int, int]]]:
    """Character offsets of each text's tokens, without special tokens or truncation."""
    if isinstance(model, OwnTokenizer):
        return model.token_offsets(texts)
    tokenizer = model.tokenizer  # type: ignore[attr-defined]  # a SentenceTransformer's
    # verbose=False: a text over the limit is expected here (it is windowed by the caller), so
    # transformers' "Token indices sequence length is longer..." warning is noise.
    encoded = tokenizer(
        texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
    )
    return list(encoded["offset_mapping"])


def _windows(model: Encoder, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Split texts longer than the model's limit into token windows.

    Returns the window texts and, for each, the index of the text it came from.
    Windows are cut on token offsets, so no text is silently truncated.
    """
    limit = max(8, (model.get_max_seq_length() or 512) - 2)  # room for [CLS] and [SEP]
    all_offsets = _token_offsets(model, texts)
    pieces: list[str] = []
    owners: list[int] = []
    for index, (text, offsets) in enumerate(zip(texts, all_offsets, strict=True)):
        if len(offsets) <= limit:
            pieces.append(text)
            owners.append(index)
            continue
        for first in range(0, len(offsets), limit):
            chunk = offsets[first : first + limit]
            pieces.append(text[chunk[0][0] : chunk[-1][1]])
            owners.append(index)
    return pieces, np.asarray(owners, dtype=np.int64)


def dimension(model: Encoder) -> int:
    """The encoder's vector size (sentence-transformers types it as optional)."""
    size = model.get_embedding_dimension()
    if size is None:
        raise ValueError("the embedder does not say its vector size")
    return size


def encode(model: Encoder, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Encode texts to L2-normalised float32 rows, one per text.

    A text over the model's sequence limit is encoded window by window and its
    row is the renormalised mean of its windows. The heads are linear, so this
    is the same as pooling the windows' logits before the softmax. A lone
    surrogate (JSON's `"\\ud800"`) is read as U+FFFD, the replacement character.
    """
    size = dimension(model)
    if not texts:
        return np.zeros((0, size), dtype=np.float32)
    texts = [_SURROGATE.sub("\ufffd", text) for text in texts]  # same length, so windows keep their offsets
    pieces, owners = _windows(model, texts)
    vectors: np.ndarray = model.encode(
        pieces,
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    ).astype(np.float32)
    if len(pieces) == len(texts):
        return vectors
    pooled = np.zeros((len(texts), size), dtype=np.float32)
    np.add.at(pooled, owners, vectors)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return pooled

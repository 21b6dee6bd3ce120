"""Fine-tuning: the real embedder moves the way it is meant to, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stancetopic import embedder
from stancetopic.finetune import (
    LayerSplit,
    base_states,
    finetune,
    length_grouped_batches,
    native_bf16,
    resolve_precision,
    stance_loss,
    topic_distributions,
)
from stancetopic.fixtures import read_labelled

from .conftest import TINY

PARAMS = {
    "seed": 7,
    "stance_weight": 1.0,  # stance only, so the test can measure it alone
    "also_share": 0.25,
    "batch_size": 8,
    "group_by_length": True,
    "train_layers": 2,
    "epochs": 3,
    "learning_rate": 2e-4,  # a few steps on 40 lines: larger than the pipeline's
    "max_length": 256,
    "precision": "fp32",
    "dropout": None,
}


def stance_gap(vectors: np.ndarray, stances: list[str]) -> float:
    """Mean cosine of same-stance pairs minus that of opposite-stance pairs."""
    similarity = vectors @ vectors.T
    same = np.equal.outer(stances, stances)
    off_diagonal = ~np.eye(len(stances), dtype=bool)
    return float(similarity[same & off_diagonal].mean() - similarity[~same].mean())


@pytest.mark.parametrize(("train_layers", "precision"), [(2, "fp32"), (6, "fp32"), (0, "fp32"), (2, "bf16")])
def test_finetuning_pulls_paragraphs_of_one_stance_together(train_layers, precision):
    """The top two layers, all six (frozen token embeddings), or (0) the whole model; bf16 autocast too."""
    records = read_labelled([TINY])
    texts, stances = [r["text"] for r in records], [r["stance"] for r in records]
    model = embedder.load("all-MiniLM-L6-v2")  # fresh: fine-tuning changes it in place
    bert = model[0].auto_model
    frozen = [p.detach().clone() for p in bert.encoder.layer[0].parameters()]
    words = bert.embeddings.word_embeddings.weight.detach().clone()
    before = stance_gap(embedder.encode(model, texts), stances)
    finetune(model, records, {**PARAMS, "train_layers": train_layers, "precision": precision})
    after = stance_gap(embedder.encode(model, texts), stances)
    assert after > before + 0.05, (before, after)
    unchanged = all(
        torch.equal(a, b)
        for a, b in zip(frozen, model[0].auto_model.encoder.layer[0].parameters(), strict=True)
    )
    assert unchanged == (train_layers == 2)  # the bottom layer moves unless only the top two train
    assert torch.equal(words, bert.embeddings.word_embeddings.weight) == (train_layers != 0)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_finetuning_is_reproducible_and_leaves_torch_settings_alone(precision):
    records = read_labelled([TINY])[:16]
    params = {**PARAMS, "epochs": 1, "precision": precision}
    vectors = []
    for _ in range(2):
        model = finetune(embedder.load("all-MiniLM-L6-v2"), records, params)
        vectors.append(embedder.encode(model, [r["text"] for r in records]))
    assert np.array_equal(vectors[0], vectors[1])
    assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.is_autocast_enabled("cpu")  # bf16 autocast only around the training forward pass


def test_bf16_precision_takes_effect():
    records = read_labelled([TINY])[:16]
    vectors = [
        embedder.encode(
            finetune(embedder.load("all-MiniLM-L6-v2"), records, {**PARAMS, "epochs": 1, "precision": p}),
            [r["text"] for r in records],
        )
        for p in ("fp32", "bf16")
    ]
    assert not np.array_equal(vectors[0], vectors[1])
    assert np.allclose(vectors[0], vectors[1], atol=0.05)  # the same training, rounded otherwise


def test_an_unverified_line_is_trained_towards_an_even_stance():
    logits = torch.tensor([[4.0, -4.0], [4.0, -4.0], [0.0, 0.0]])
    sure = stance_loss(logits[:1], torch.tensor([0]))
    assert stance_loss(logits[1:2], torch.tensor([2])) > sure  # confident on an unverified line: costly
    assert stance_loss(logits[2:], torch.tensor([2])) < stance_loss(logits[1:2], torch.tensor([2]))


def test_also_topics_share_the_topic_target():
    records = [
        {"topic": "economy"},
        {"topic": "courts", "also": ["migration"]},
        {"topic": "defence", "also": ["economy", "courts"]},
    ]
    targets = topic_distributions(records, 0.25).tolist()
    # TOPICS order: defence, economy, migration, courts, other
    assert targets == [
        [0.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.25, 0.75, 0.0],
        [0.75, 0.125, 0.0, 0.125, 0.0],
    ]
    assert topic_distributions(records, 0.0).argmax(dim=1).tolist() == [1, 3, 0]
    assert topic_distributions(records, 0.0).max(dim=1).values.tolist() == [1.0, 1.0, 1.0]  # one-hot at 0


def test_base_states_from_the_split_model_give_the_full_models_embeddings():
    model = embedder.load("all-MiniLM-L6-v2")
    texts = [r["text"] for r in read_labelled([TINY])[:6]]
    split = LayerSplit(model, 2)
    with torch.no_grad():
        vectors = split.top(base_states(split, texts, 4, 256)).numpy()
    assert np.allclose(vectors, embedder.encode(model, texts), atol=1e-5)


def padded_length(batches: list[list[int]], lengths: list[int]) -> int:
    """What the encoder processes: every row padded to its batch's longest."""
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


def test_length_grouped_batches_cover_every_row_once_with_less_padding():
    lengths = [len(r["text"]) for r in read_labelled([TINY]) * 10]  # 400 rows: several windows
    first = length_grouped_batches(lengths, 8, seed=7)
    assert sorted(i for batch in first for i in batch) == list(range(len(lengths)))
    assert length_grouped_batches(lengths, 8, seed=7) == first  # reproducible for a seed
    assert length_grouped_batches(lengths, 8, seed=8) != first  # a new order each epoch
    random_order = np.random.default_rng(7).permutation(len(lengths)).tolist()
    random_batches = [random_order[i : i + 8] for i in range(0, len(lengths), 8)]
    assert padded_length(first, lengths) < 0.9 * padded_length(random_batches, lengths)


def test_offline_mode_is_on_before_the_hub_is_imported():
    """The hub reads HF_HUB_OFFLINE once, at import, and saved tokenizer configs
    record it: importing the package must switch it on whatever the caller's
    environment, or `dvc repro` models would differ between shells."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = "import stancetopic.finetune, huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("flags", "native"),
    [("fpu sse avx2 avx512f", False), ("fpu avx512f avx512_bf16", True), ("fpu amx_bf16 amx_tile", True)],
)
def test_native_bf16_reads_the_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU avx512_bf16\nflags\t\t: {flags}\n\n")
    assert native_bf16(cpuinfo) is native  # the word in the model name does not count
    assert native_bf16(tmp_path / "absent") is False  # no /proc/cpuinfo (not Linux): fp32


def test_resolve_precision_keeps_explicit_settings_and_refuses_unknown_ones():
    assert resolve_precision("fp32") == "fp32"
    assert resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") == ("bf16" if native_bf16() else "fp32")
    with pytest.raises(ValueError, match=r"finetune\.precision must be one of auto, fp32, bf16, not 'fp16'"):
        resolve_precision("fp16")
    with pytest.raises(ValueError, match="fp16"):  # refused before any training, even with nothing to train
        finetune(None, [], {**PARAMS, "precision": "fp16"})


def test_dropout_setting_takes_effect_reproducibly_and_only_while_training():
    records = read_labelled([TINY])[:16]
    texts = [r["text"] for r in records]
    runs = []
    for dropout in (None, 0.0, 0.0):
        model = finetune(
            embedder.load("all-MiniLM-L6-v2"), records, {**PARAMS, "epochs": 1, "dropout": dropout}
        )
        runs.append(embedder.encode(model, texts))
        assert model[0].auto_model.config._attn_implementation == "sdpa"  # eager only while training
        assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.1}
    assert not np.array_equal(runs[0], runs[1])
    assert np.array_equal(runs[1], runs[2])

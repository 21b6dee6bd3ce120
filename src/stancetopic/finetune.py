"""Fine-tuning of the embedder, end to end under two classifiers.

Frozen sentence embeddings mostly encode what a paragraph is about, not whether
it affirms or denies it. Training the embedder under a linear stance and a
linear topic classifier (cross-entropy weighted by `stance_weight`) teaches it
the few words that flip a stance ("dismissed the appeal" affirms a verdict,
"allowed the appeal" denies it). The classifiers are thrown away: the stages'
logistic-regression heads are trained afterwards.

`train_layers: N` trains only the top N transformer layers: the token
embeddings and the layers below stay frozen, so each text goes through them
once (`base_states`, no gradients) and every epoch runs and back-propagates
through the top N only. N equal to the model's depth freezes just the token
embeddings (half of MiniLM's weights, and most of the optimiser's work); 0
trains everything. `benchmarks/finetune_speed.py` compares the recipes. A
model that is not BERT-shaped (no `embeddings` and `encoder.layer`) is always
trained whole.

`precision: bf16` runs the training forward pass under bfloat16 autocast
(the weights, their gradients and the optimiser stay fp32): 0.76x the time
on an Intel Xeon with AMX and 0.67x on an AMD EPYC with AVX512-BF16, the same
calib F1. A CPU with neither emulates bf16 and may be slower, so `auto` (the
default) takes bf16 only where the CPU reports one of those instruction sets
(docs/benchmarks.md, "Fine-tuning recipes").

`dropout: P` sets every dropout of the embedder to P while it trains (null:
the model's own). 0 is 0.74x the time, but the dropout is what keeps the
embedder from fitting our fixtures' style: without it, real news scored 0.6
to 0.8 points lower, so the default keeps it.

`unverified` records (a claim reported without taking a side) are trained
towards an even stance (a soft 0.5 / 0.5 target), so the model learns to be
unsure of them instead of being told they affirm or deny. Likewise a line
with `also` topics is trained towards a share of them (`also_share`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from stancetopic.labels import FIXTURE_STANCES, STANCES, TOPICS

PRECISIONS = ("auto", "fp32", "bf16")
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo: bf16 matrix products in hardware
SCALE = 10.0  # the classifiers see unit-length embeddings times this
GROUP_BATCHES = 8  # length-sorted windows span this many batches
WARMUP = 0.1  # share of the steps over which the learning rate rises


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar-length rows, reproducible for a seed.

    A batch is padded to its longest text, so random batches of news
    paragraphs spend much of the work on padding. The rows are shuffled,
    windows of `GROUP_BATCHES` batches sorted by length, cut into batches, and
    the batches shuffled: each batch is still a random draw of topics and
    stances, only with little padding.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    window = batch_size * GROUP_BATCHES
    batches = []
    for start in range(0, len(order), window):
        rows = sorted(order[start : start + window], key=lengths.__getitem__)
        batches += [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


class LayerSplit:
    """A sentence-transformers model cut into a frozen base and a trained top.

    BERT-shaped models (MiniLM, MPNet, BERT…) are cut between encoder layers;
    any other model is all top (its base state is just the tokens).
    """

    def __init__(self, model: Any, train_layers: int) -> None:
        self.model = model
        transformer = model[0]
        self.bert: Any = getattr(transformer, "auto_model", None)
        layers: Any = getattr(getattr(self.bert, "encoder", None), "layer", None)
        layered = layers is not None and hasattr(self.bert, "embeddings")
        if layered and 0 < train_layers <= len(layers):
            self.base_layers, self.top_layers = list(layers[:-train_layers]), list(layers[-train_layers:])
            self.trained: list[nn.Module] = self.top_layers
        else:
            self.bert, self.base_layers, self.top_layers = None, [], []
            self.trained = [model]

    def parameters(self) -> list[nn.Parameter]:
        return [p for module in self.trained for p in module.parameters()]

    def _mask(self, hidden: Tensor, attention: Tensor) -> Tensor | None:
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(
            config=self.bert.config, inputs_embeds=hidden, attention_mask=attention
        )

    @torch.no_grad()
    def base(self, features: dict[str, Tensor]) -> list[dict[str, Tensor]]:
        """Per text, what the top needs: the frozen layers' output (or its tokens)."""
        attention = features["attention_mask"]
        lengths = attention.sum(dim=1).tolist()
        if self.bert is None:
            return [{k: v[i, : lengths[i]] for k, v in features.items()} for i in range(len(lengths))]
        hidden = self.bert.embeddings(
            input_ids=features["input_ids"], token_type_ids=features.get("token_type_ids")
        )
        mask = self._mask(hidden, attention)
        for layer in self.base_layers:
            hidden = layer(hidden, mask)
        return [{"hidden": hidden[i, : lengths[i]].clone()} for i in range(len(lengths))]

    def top(self, states: list[dict[str, Tensor]]) -> Tensor:
        """Sentence embeddings for a batch of base states (with gradients)."""
        padded = {
            key: nn.utils.rnn.pad_sequence([s[key] for s in states], batch_first=True) for key in states[0]
        }
        if self.bert is None:
            return self.model(padded)["sentence_embedding"]
        hidden = padded["hidden"]
        attention = nn.utils.rnn.pad_sequence(
            [torch.ones(len(s["hidden"]), dtype=torch.long) for s in states], batch_first=True
        )
        mask = self._mask(hidden, attention)
        for layer in self.top_layers:
            hidden = layer(hidden, mask)
        features = {"token_embeddings": hidden, "attention_mask": attention}
        for module in list(self.model)[1:]:  # pooling, normalisation, any dense layers
            features = module(features)
        return features["sentence_embedding"]


def base_states(
    split: LayerSplit, texts: list[str], batch_size: int, max_length: int
) -> list[dict[str, Tensor]]:
    """Each text's base state, computed once, in batches of similar length."""
    tokenizer = split.model.tokenizer
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    states: list[dict[str, Tensor]] = [{} for _ in texts]
    for start in range(0, len(order), batch_size * 4):
        rows = order[start : start + batch_size * 4]
        features = tokenizer(
            [texts[i] for i in rows],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        for row, state in zip(rows, split.base(dict(features)), strict=True):
            states[row] = state
    return states


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX or AVX512-BF16).

    Read from the kernel's CPU flags; where there are none (not Linux) the
    answer is no, so `auto` falls back to fp32, which is never slow.
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = {word for line in text.splitlines() if line.startswith("flags") for word in line.split()}
    return any(flag in flags for flag in BF16_FLAGS)


def resolve_precision(setting: str) -> str:
    """`fp32` or `bf16`: the precision a `precision` setting trains in on this machine."""
    if setting not in PRECISIONS:
        raise ValueError(f"finetune.precision must be one of {', '.join(PRECISIONS)}, not {setting!r}")
    if setting == "auto":
        return "bf16" if native_bf16() else "fp32"
    return setting


def stance_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy; an `unverified` target counts as half affirms, half denies."""
    log_p = nn.functional.log_softmax(logits, dim=-1)
    decided = targets < len(STANCES)
    hard = -log_p.gather(1, targets.clamp(max=len(STANCES) - 1)[:, None])[:, 0]
    return torch.where(decided, hard, -log_p.mean(dim=-1)).mean()


def topic_distributions(records: list[dict], also_share: float) -> Tensor:
    """Soft topic targets, one row per record: the primary topic gets 1 - also_share,
    the topics in its `also` list share also_share equally; a line without `also`
    is one-hot.

    A paragraph about two topics is not wrong to score the second; one-hot
    targets push it down. Most of the held-out set's topic errors are the
    primary and an `also` topic swapped.
    """
    targets = torch.zeros(len(records), len(TOPICS))
    for row, record in enumerate(records):
        also = [TOPICS.index(t) for t in record.get("also", [])]
        targets[row, TOPICS.index(record["topic"])] = 1.0 - also_share if also else 1.0
        for column in also:
            targets[row, column] = also_share / len(also)
    return targets


@contextmanager
def _dropout(model: Any, p: float | None) -> Iterator[None]:
    """Every dropout at `p` while training (None: the model's own), restored after.

    At 0 a BERT-shaped model's attention also runs eager (two matrix products
    and a softmax) instead of PyTorch's fused kernel, which has no dropout
    left to fuse; `benchmarks/finetune_speed.py` times the whole setting.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    if p is None or not layers:
        yield
        return
    bert: Any = getattr(model[0], "auto_model", None)  # a Hugging Face model, if any
    attention = bert.config._attn_implementation if bert is not None and p == 0 else None
    before = [m.p for m in layers]
    for layer in layers:
        layer.p = p
    if attention is not None:
        bert.set_attn_implementation("eager")
    try:
        yield
    finally:
        for layer, old in zip(layers, before, strict=True):
            layer.p = old
        if attention is not None:
            bert.set_attn_implementation(attention)


@contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    """Seeded, deterministic kernels inside; the caller's torch settings restored after."""
    previous = torch.are_deterministic_algorithms_enabled()
    rng = torch.get_rng_state()
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_rng_state(rng)


def finetune(model: Any, records: list[dict], params: dict) -> Any:
    """Fine-tune `model` in place on `records` (params: the `finetune` section); returns it.

    Nothing is trained when `epochs` is 0.
    """
    bf16 = resolve_precision(params["precision"]) == "bf16"
    if not params["epochs"] or not records:
        return model
    weight = params["stance_weight"]
    with _deterministic(params["seed"]), _dropout(model, params["dropout"]):
        split = LayerSplit(model, params["train_layers"])
        model.eval()
        texts = [r["text"] for r in records]
        states = base_states(split, texts, params["batch_size"], params["max_length"])
        stance_targets = torch.tensor([FIXTURE_STANCES.index(r["stance"]) for r in records])
        topic_targets = topic_distributions(records, params["also_share"])
        dimension = model.get_embedding_dimension()
        stance_head, topic_head = nn.Linear(dimension, len(STANCES)), nn.Linear(dimension, len(TOPICS))
        for layer in (stance_head, topic_head):
            nn.init.normal_(layer.weight, std=0.02)
            nn.init.zeros_(layer.bias)
        trained = split.parameters() + list(stance_head.parameters()) + list(topic_head.parameters())
        optimizer = torch.optim.AdamW(trained, lr=params["learning_rate"], fused=True)
        lengths = [len(s[next(iter(s))]) for s in states]
        steps = params["epochs"] * math.ceil(len(records) / params["batch_size"])
        warmup = max(1, int(WARMUP * steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))),
        )
        for module in split.trained:
            module.train()
        for epoch in range(params["epochs"]):
            for batch in _batches(lengths, params, epoch):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    top = split.top([states[i] for i in batch])
                embedding = nn.functional.normalize(top.float(), dim=-1) * SCALE
                loss = weight * stance_loss(stance_head(embedding), stance_targets[batch]) + (
                    1 - weight
                ) * nn.functional.cross_entropy(topic_head(embedding), topic_targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
        model.eval()
    return model


def _batches(lengths: list[int], params: dict, epoch: int) -> list[list[int]]:
    seed = params["seed"] + epoch
    if params["group_by_length"]:
        return length_grouped_batches(lengths, params["batch_size"], seed)
    order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
    return [order[i : i + params["batch_size"]] for i in range(0, len(order), params["batch_size"])]

"""Fine-tuning of the embedder on labelled paragraphs, in two phases.

Frozen sentence embeddings mostly encode what a paragraph is about, not whether
it affirms or denies it. Phase 1 is contrastive (the SetFit recipe): pairs
whose target cosine similarity is
`stance_weight * same_stance + (1 - stance_weight) * same_topic`, so opposite
stances are pushed apart while topics stay together. Phase 2 trains the
embedder end to end under two linear classifiers (stance and topic,
cross-entropy weighted by the same `stance_weight`), which teaches it the few
words that flip a stance ("dismissed the appeal" affirms a verdict, "allowed
the appeal" denies it) far more directly than pairs do. The classifiers are
thrown away: the stages' logistic-regression heads are trained afterwards.

With `group_by_length`, batches hold paragraphs of similar length
(`LengthGroupedBatchSampler`): a batch is padded to its longest text, so
random batches of news paragraphs spend much of the encoder's work on padding
(`benchmarks/finetune_speed.py` measures it).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from datasets import Dataset
from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.base.sampler import BatchSamplers, DefaultBatchSampler
from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
from torch import Tensor, nn
from transformers import set_seed

from stancetopic.labels import STANCES, TOPICS

SCALE = 10.0  # the classifiers see unit-length embeddings times this
GROUP_BATCHES = 8  # length-sorted windows span this many batches

PAIR_ID = re.compile(r"^(?P<event>.+\d)(?P<side>[ab])$")


def make_pairs(records: list[dict], pairs_per_example: int, stance_weight: float, seed: int) -> dict:
    """Training pairs with graded similarity targets, reproducible for a seed.

    Each paragraph gets half its partners with the same stance and half with the
    opposite one; a minimal pair (ids `…12a` / `…12b`: one event, opposite
    stances) is always paired, the hardest negative there is.
    """
    rng = random.Random(seed)
    by_stance: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        by_stance.setdefault(record["stance"], []).append(i)
    index_of = {r["id"]: i for i, r in enumerate(records)}
    first, second, score = [], [], []

    def add(i: int, j: int) -> None:
        a, b = records[i], records[j]
        same_stance = float(a["stance"] == b["stance"])
        same_topic = float(a["topic"] == b["topic"])
        first.append(a["text"])
        second.append(b["text"])
        score.append(stance_weight * same_stance + (1 - stance_weight) * same_topic)

    for i, record in enumerate(records):
        match = PAIR_ID.match(record["id"])
        if match:
            partner = match["event"] + ("b" if match["side"] == "a" else "a")
            if partner in index_of and match["side"] == "a":
                add(i, index_of[partner])
        for k in range(pairs_per_example):
            want_same = k % 2 == 0
            pool = [s for s in by_stance if (s == record["stance"]) == want_same]
            if not pool:
                continue
            candidates = by_stance[rng.choice(pool)]
            j = rng.choice(candidates)
            if j != i:
                add(i, j)
    return {"sentence1": first, "sentence2": second, "score": score}


class LengthGroupedBatchSampler(DefaultBatchSampler):
    """Shuffled batches of similar-length rows, reproducible for a seed and epoch.

    Each epoch shuffles the rows, sorts windows of `GROUP_BATCHES` batches by
    length (characters over the text columns, a proxy for tokens), cuts them
    into batches and shuffles the batches, so every batch is still a random
    draw of topics and stances, only with little padding.
    """

    def __init__(self, dataset: Dataset, batch_size: int, drop_last: bool, **kwargs: object) -> None:
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last, **kwargs)
        texts = [
            name for name, feature in dataset.features.items() if getattr(feature, "dtype", "") == "string"
        ]
        self.lengths = [sum(len(row[name]) for name in texts) for row in dataset.select_columns(texts)]

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        window = self.batch_size * GROUP_BATCHES
        batches = []
        for start in range(0, len(order), window):
            rows = sorted(order[start : start + window], key=self.lengths.__getitem__)
            batches += [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        if self.drop_last:
            batches = [batch for batch in batches if len(batch) == self.batch_size]
        for i in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[i]


class LabelLoss(nn.Module):
    """Weighted cross-entropy of a stance and a topic classifier on the embedding."""

    def __init__(self, model: SentenceTransformer, stance_weight: float, seed: int) -> None:
        super().__init__()
        self.model = model
        self.stance_weight = stance_weight
        dimension = model.get_embedding_dimension()
        generator = torch.Generator().manual_seed(seed)  # the classifiers' start, reproducible
        self.stance = nn.Linear(dimension, len(STANCES))
        self.topic = nn.Linear(dimension, len(TOPICS))
        for layer in (self.stance, self.topic):
            nn.init.normal_(layer.weight, std=0.02, generator=generator)
            nn.init.zeros_(layer.bias)

    def forward(self, features: list[dict[str, Tensor]], labels: Tensor) -> Tensor:
        # Unit-length embeddings, as the stages feed the heads; scaled up so the
        # logits can reach confident values.
        embedding = nn.functional.normalize(self.model(features[0])["sentence_embedding"], dim=-1) * SCALE
        stance = nn.functional.cross_entropy(self.stance(embedding), labels[:, 0])
        topic = nn.functional.cross_entropy(self.topic(embedding), labels[:, 1])
        return self.stance_weight * stance + (1 - self.stance_weight) * topic


def _train(
    model: SentenceTransformer, dataset: Dataset, loss: nn.Module, params: dict, workdir: Path
) -> None:
    """One sentence-transformers training run, seeded and quiet."""
    set_seed(params["seed"])
    arguments = SentenceTransformerTrainingArguments(
        output_dir=str(workdir),
        num_train_epochs=params["epochs"],
        per_device_train_batch_size=params["batch_size"],
        learning_rate=params["learning_rate"],
        warmup_steps=0.1,  # a float is a fraction of the steps
        seed=params["seed"],
        data_seed=params["seed"],
        batch_sampler=LengthGroupedBatchSampler if params["group_by_length"] else BatchSamplers.BATCH_SAMPLER,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        logging_strategy="no",
    )
    SentenceTransformerTrainer(model=model, args=arguments, train_dataset=dataset, loss=loss).train()


def finetune(
    model: SentenceTransformer, records: list[dict], params: dict, workdir: Path
) -> SentenceTransformer:
    """Fine-tune `model` in place on `records` (phase 1 pairs, phase 2 labels); returns it.

    A phase is skipped when its epochs (or pairs per example) are 0.
    """
    torch.use_deterministic_algorithms(True)
    weight = params["stance_weight"]
    if params["epochs"] and params["pairs_per_example"]:
        pairs = make_pairs(records, params["pairs_per_example"], weight, params["seed"])
        _train(model, Dataset.from_dict(pairs), CosineSimilarityLoss(model), params, workdir)
    if params["label_epochs"]:
        labelled = Dataset.from_dict(
            {
                "text": [r["text"] for r in records],
                "label": [[STANCES.index(r["stance"]), TOPICS.index(r["topic"])] for r in records],
            }
        )
        phase = {
            **params,
            "epochs": params["label_epochs"],
            "learning_rate": params["label_learning_rate"],
        }
        _train(model, labelled, LabelLoss(model, weight, params["seed"]), phase, workdir)
    return model

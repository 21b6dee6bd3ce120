"""Contrastive fine-tuning of the embedder (the SetFit recipe) on labelled paragraphs.

Frozen sentence embeddings mostly encode what a paragraph is about, not whether
it affirms or denies it. Fine-tuning on pairs pulls paragraphs of the same
stance together and pushes opposite stances apart, while a smaller weight on
topic keeps the topic structure. Each pair's target cosine similarity is
`stance_weight * same_stance + (1 - stance_weight) * same_topic`.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

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


def finetune(
    model: SentenceTransformer, records: list[dict], params: dict, workdir: Path
) -> SentenceTransformer:
    """Fine-tune `model` in place on pairs from `records`; returns it."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    from transformers import set_seed

    set_seed(params["seed"])
    torch.use_deterministic_algorithms(True)
    pairs = make_pairs(records, params["pairs_per_example"], params["stance_weight"], params["seed"])
    arguments = SentenceTransformerTrainingArguments(
        output_dir=str(workdir),
        num_train_epochs=params["epochs"],
        per_device_train_batch_size=params["batch_size"],
        learning_rate=params["learning_rate"],
        warmup_steps=0.1,  # a float is a fraction of the steps
        seed=params["seed"],
        data_seed=params["seed"],
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        logging_strategy="no",
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=arguments,
        train_dataset=Dataset.from_dict(pairs),
        loss=CosineSimilarityLoss(model),
    )
    trainer.train()
    return model

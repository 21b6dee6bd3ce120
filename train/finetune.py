"""Stage `finetune`: fine-tune the embedder on the train split (finetune.jsonl: see prepare).

Usage: python train/finetune.py   (reads params.yaml: finetune.*, embed.model)
Writes models/embedder/, a sentence-transformers model folder that the later
stages, `label` and `evaluate` use, with `finetuning.json` in it saying which
precision `precision: auto` took on this machine (the train stage copies it
into the manifest). With `finetune.enabled: false` the base model is saved
there unchanged, so every later step works the same way.
"""

import json
import shutil
import sys
from pathlib import Path

import yaml

from stancetopic import embedder
from stancetopic.finetune import finetune, resolve_precision
from stancetopic.fixtures import read_labelled

OUT = Path("models/embedder")


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())
    settings = params["finetune"]
    try:
        precision = resolve_precision(settings["precision"])
    except ValueError as exc:
        print(f"finetune: {exc} (params.yaml)", file=sys.stderr)
        return 1
    model = embedder.load(params["embed"]["model"])
    if settings["enabled"]:
        # The precision resolved once, so the record below is what trained.
        finetune(
            model, read_labelled([Path("data/prepared/finetune.jsonl")]), {**settings, "precision": precision}
        )
    shutil.rmtree(OUT, ignore_errors=True)
    model.save(str(OUT), create_model_card=False)
    if settings["enabled"]:
        (OUT / embedder.FINETUNING_RECORD).write_text(
            json.dumps({"precision": precision}) + "\n", encoding="utf-8"
        )
    state = f"fine-tuned in {precision}" if settings["enabled"] else "unchanged (finetune.enabled is false)"
    print(f"finetune: embedder {state} -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stage `prepare`: validate the fixtures and added lines, then split them into train, calib and test.

Usage: python train/prepare.py   (reads params.yaml: prepare.*, finetune.added)
Exit 1 with one `file:line: problem` line per problem when a line is bad.
The calib slice (`calib_size`, a share of all lines; 0 for none) is seen by
neither the fine-tuning nor the heads: it calibrates their probabilities.
Our fixtures get a stratified split; the lines a user adds (`prepare.added`)
are split by a hash of their id, so our fixtures' parts never move when lines
are added. `finetune.jsonl` is the train part the embedder is fine-tuned on:
our fixtures only unless `finetune.added` is true, so that adding lines
retrains the heads without fine-tuning again.
"""

import sys
from pathlib import Path

import yaml

from stancetopic.fixtures import (
    LabelledDataError,
    fixture_files,
    read_labelled,
    split,
    split_by_id,
    write_jsonl,
)

OUT = Path("data/prepared")


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())
    settings = params["prepare"]
    ours, added = fixture_files(settings["fixtures"]), fixture_files(settings["added"])
    if not ours:
        print(f"{settings['fixtures']}: no *.jsonl fixture files", file=sys.stderr)
        return 1
    try:
        records = read_labelled(ours + added)  # one read, so a text repeated across the two folders is caught
    except LabelledDataError as exc:
        print(exc, file=sys.stderr)
        print(f"prepare: {len(exc.problems)} problem(s) in the fixtures", file=sys.stderr)
        return 1
    added_ids = {r["id"] for r in read_labelled(added)}
    fixtures = [r for r in records if r["id"] not in added_ids]
    rest, test = split(fixtures, settings["test_size"], settings["seed"])
    train, calib = rest, []
    if settings["calib_size"] > 0:
        train, calib = split(rest, settings["calib_size"] / (1 - settings["test_size"]), settings["seed"])
    finetune = train
    new = split_by_id(
        [r for r in records if r["id"] in added_ids],
        settings["test_size"],
        settings["calib_size"],
        settings["seed"],
    )
    train, calib, test = train + new[0], calib + new[1], test + new[2]
    if params["finetune"]["added"]:
        finetune = train
    for name, part in (("train", train), ("calib", calib), ("test", test), ("finetune", finetune)):
        write_jsonl(OUT / f"{name}.jsonl", part)
    print(
        f"prepare: {len(train)} train / {len(calib)} calib / {len(test)} test lines "
        f"({len(added_ids)} of them added) from {len(ours) + len(added)} files; "
        f"the embedder is fine-tuned on {len(finetune)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stage `prepare`: validate the fixtures, then split them into train and test.

Usage: python train/prepare.py   (reads params.yaml: prepare.*)
Exit 1 with one `file:line: problem` line per problem when a fixture is bad.
"""

import sys
from pathlib import Path

import yaml

from stancetopic.fixtures import LabelledDataError, fixture_files, read_labelled, split, write_jsonl

OUT = Path("data/prepared")


def main() -> int:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    files = fixture_files(params["fixtures"])
    if not files:
        print(f"{params['fixtures']}: no *.jsonl fixture files", file=sys.stderr)
        return 1
    try:
        records = read_labelled(files)
    except LabelledDataError as exc:
        print(exc, file=sys.stderr)
        print(f"prepare: {len(exc.problems)} problem(s) in the fixtures", file=sys.stderr)
        return 1
    train, test = split(records, params["test_size"], params["seed"])
    write_jsonl(OUT / "train.jsonl", train)
    write_jsonl(OUT / "test.jsonl", test)
    print(f"prepare: {len(train)} train / {len(test)} test lines from {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

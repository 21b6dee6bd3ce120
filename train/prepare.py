"""Stage `prepare`: validate the fixtures, then split them into train, calib and test.

Usage: python train/prepare.py   (reads params.yaml: prepare.*)
Exit 1 with one `file:line: problem` line per problem when a fixture is bad.
The calib slice (`calib_size`, a share of all lines; 0 for none) is seen by
neither the fine-tuning nor the heads: it calibrates their probabilities.
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
    rest, test = split(records, params["test_size"], params["seed"])
    train, calib = rest, []
    if params["calib_size"] > 0:
        train, calib = split(rest, params["calib_size"] / (1 - params["test_size"]), params["seed"])
    for name, part in (("train", train), ("calib", calib), ("test", test)):
        write_jsonl(OUT / f"{name}.jsonl", part)
    print(
        f"prepare: {len(train)} train / {len(calib)} calib / {len(test)} test lines from {len(files)} files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

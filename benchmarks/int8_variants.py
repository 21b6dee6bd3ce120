"""Compare int8 quantisation variants of the ONNX export on held-out data (never the test split).

Usage: python benchmarks/int8_variants.py [--model models]

Each variant is quantised from the model's fp32 export and scored on the calib
slice and the held-out set: label agreement with the torch backend (stance /
topic) and encode speed on the held-out texts, against torch's speed measured
in the same run. `onnx-int8` uses the variant this picks (see
`onnx_backend.quantise`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from stancetopic import embedder, onnx_backend
from stancetopic.fixtures import read_labelled
from stancetopic.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
SETS = {"calib": ROOT / "data/prepared/calib.jsonl", "held-out": ROOT / "data/holdout/holdout.jsonl"}


def variants(layers: int, outliers: list[int]) -> dict[str, dict]:
    """Quantisation options by name; the first is what `onnx-int8` does ("outliers": its fp32 layers)."""
    return {
        "per-channel, FFN output fp32 in outliers (default)": {"fp32_layers": outliers},
        "per-channel, all ops": {},
        "per-channel, FFN output fp32 in every layer": {"fp32_layers": range(layers)},
        "per-tensor, FFN output fp32 in outliers": {"fp32_layers": outliers, "per_channel": False},
        "per-channel, MatMul only, FFN fp32 in outliers": {"fp32_layers": outliers, "op_types": ["MatMul"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    torch_predictor = Predictor.from_folder(args.model, backend="torch")
    heads = torch_predictor.heads
    texts = {name: [r["text"] for r in read_labelled([path])] for name, path in SETS.items()}
    reference = {
        name: [p.argmax(axis=1) for p in torch_predictor.predict_proba(t)] for name, t in texts.items()
    }
    fp32 = Predictor.from_folder(args.model, backend="onnx", lazy=True)
    fp32.prepare()
    source = onnx_backend.export_dir(args.model, "onnx")
    ratios = onnx_backend.input_ratios(torch_predictor.model)
    print(
        "largest FFN-output input / its 99.9th percentile, by layer:",
        {k: round(v, 1) for k, v in ratios.items()},
    )
    outliers = onnx_backend.outlier_layers(ratios)
    print(f"outliers (over {onnx_backend.OUTLIER_RATIO}x): layers {outliers}")
    options_by_name = variants(len(ratios), outliers)
    baseline = speed(torch_predictor.model, texts["held-out"])
    print(f"{'variant':<52}{'texts/s':>9}{'vs torch':>10}" + "".join(f"{n + ' agree':>20}" for n in SETS))
    print(f"{'torch (the baseline)':<52}{baseline:>9.0f}{1:>9.2f}x")
    with tempfile.TemporaryDirectory() as scratch:
        for name, options in options_by_name.items():
            folder = Path(scratch) / str(len(list(Path(scratch).iterdir())))
            shutil.copytree(source, folder)
            onnx_backend.quantise(source / onnx_backend.ONNX_FILE, folder / onnx_backend.ONNX_FILE, **options)
            encoder = onnx_backend.OnnxEncoder(folder)
            cells = []
            for set_name, set_texts in texts.items():
                vectors = embedder.encode(encoder, set_texts)
                labels = [p.argmax(axis=1) for p in heads.predict_proba(vectors, set_texts)]
                agree = [(a == b).mean() for a, b in zip(labels, reference[set_name], strict=True)]
                cells.append(f"{agree[0]:>11.1%} / {agree[1]:.1%}")
            rate = speed(encoder, texts["held-out"])
            print(f"{name:<52}{rate:>9.0f}{rate / baseline:>9.2f}x" + "".join(f"{c:>20}" for c in cells))


def speed(encoder: embedder.Encoder, texts: list[str]) -> float:
    """Texts per second encoding `texts` three times, after one warm-up pass."""
    embedder.encode(encoder, texts[:32])
    started = time.perf_counter()
    embedder.encode(encoder, texts * 3)
    return 3 * len(texts) / (time.perf_counter() - started)


if __name__ == "__main__":
    main()

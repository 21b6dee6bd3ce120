"""The Python API: load a model folder, label texts or a folder, evaluate a labelled file.

    import stancetopic
    model = stancetopic.load_model("models")
    model.label(["The ministry denied that the frigate had been sold."])

This is what a notebook needs, in the terms the CLI's users read: records with
the fields of `stancetopic label`'s JSON Lines output, and the report dict that
`stancetopic evaluate --out` writes. Nothing heavy is imported with this
module: torch and scikit-learn load with the first model (docs/python-api.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import TracebackType

    from stancetopic.job import LabelResult
    from stancetopic.predictor import Predictor


class Model:
    """A verified model folder and its embedder, ready to score texts.

    Made by `load_model`. Use it as a context manager, or call `close()`, to
    close its embedding cache when it has one.
    """

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    @property
    def folder(self) -> Path:
        return self.predictor.folder

    @property
    def backend(self) -> str:
        return self.predictor.backend

    @property
    def labels(self) -> dict[str, list[str]]:
        """Each head's labels, in the order of its probability columns."""
        return {"stance": self.predictor.heads.stances, "topic": self.predictor.heads.topics}

    @property
    def uncertain_below(self) -> dict[str, float]:
        """Each head's own `uncertain` threshold, chosen at training time."""
        return dict(self.predictor.heads.manifest.uncertain_below)

    def label(
        self, texts: Iterable[str], *, uncertain_below: float | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        """One record per text, in order, with the fields of `stancetopic label`'s output.

        Each text is scored whole, as one paragraph: no splitting and no
        boilerplate filter (that is what labelling files does). `paragraph` is
        the text's index, `start`/`end` span the whole text, and `source` is
        whatever you pass (None by default). `uncertain_below` sets one
        threshold for both heads, as the CLI's `--uncertain-below` does.
        """
        from stancetopic.labeling import CHUNK, NOTHING_KEPT, to_records
        from stancetopic.paragraphs import Segment

        if isinstance(texts, str):
            raise TypeError("label() takes a list of texts, not one string")
        items = [
            (source, index, Segment(text, 0, len(text)), NOTHING_KEPT) for index, text in enumerate(texts)
        ]
        thresholds = self.uncertain_below
        if uncertain_below is not None:
            thresholds = dict.fromkeys(thresholds, uncertain_below)
        heads = self.predictor.heads
        records: list[dict[str, Any]] = []
        for first in range(0, len(items), CHUNK):  # the CLI's chunks, so scores match it to the digit
            chunk = items[first : first + CHUNK]
            stance, topic = self.predictor.predict_proba([item[2].text for item in chunk])
            # A source of None (texts from no file) is fine in a record; to_records types it for files.
            records += to_records(chunk, stance, topic, heads.stances, heads.topics, thresholds)  # type: ignore[arg-type]
        return records

    def close(self) -> None:
        if self.predictor.cache is not None:
            self.predictor.cache.close()

    def __enter__(self) -> Model:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def load_model(
    folder: str | Path = "models",
    *,
    backend: str | None = None,
    batch_size: int = 32,
    threads: int | None = None,
    cache_dir: str | Path | None = None,
    manifest_sha256: str | None = None,
) -> Model:
    """Verify a model folder against its manifest and load it (raises `ModelError` with a one-line reason).

    `backend`: "torch", "onnx" or "onnx-int8" (default: the model's own).
    `threads`: embedder CPU threads, set only while embedding. `cache_dir`:
    cache embeddings there (default: no cache; the CLI's default place is
    `stancetopic.cache.default_dir()`). `manifest_sha256`: refuse the folder
    unless its manifest has this digest (docs/security.md).
    """
    from stancetopic.predictor import Predictor

    predictor = Predictor.from_folder(
        folder,
        backend=backend,
        batch_size=batch_size,
        threads=threads,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        manifest_sha256=manifest_sha256,
    )
    return Model(predictor)


def evaluate_file(path: str | Path, model: Model | str | Path = "models") -> dict[str, Any]:
    """Score a labelled JSON Lines file (the fixture format) and return its report.

    The same dict as `stancetopic evaluate FILE --out report.json` writes
    (schema in the README). Raises `LabelledDataError`, listing every bad
    line as `file:line: reason`, when the file is not valid.
    """
    from stancetopic.report import evaluate_file as report_file

    loaded = model if isinstance(model, Model) else load_model(model)
    return report_file(loaded.predictor, Path(path), strict=False)


def label_folder(
    inputs: str | Path, output: str | Path | None, *, model: str | Path | None = None, **options: Any
) -> LabelResult:
    """Label a folder, one article file or a table file exactly as `stancetopic label` does.

    The same outputs, journal, lock and refusals: `options` are `LabelJob`'s
    fields (`format`, `glob`, `summary`, `overwrite`, `resume`, `text_column`,
    ...). `output` None writes JSON Lines to stdout. Returns the run's
    `LabelResult` (its `summary` is the `--summary` JSON; `exit_code` is 4 when
    some input was skipped); raises `StancetopicError` when the run is refused.
    """
    from stancetopic.job import LabelJob, run

    for name in ("summary", "cache_dir"):
        if options.get(name) is not None:
            options[name] = Path(options[name])
    job = LabelJob(
        Path(inputs),
        Path(output) if output is not None else None,
        model=Path(model) if model is not None else None,
        **options,
    )
    return run(job)

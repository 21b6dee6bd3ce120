"""The label job as a library call: a `LabelJob` description and `run(job)`.

`run` does what `stancetopic label` does, so a script or notebook gets the
same safety: outputs checked before any work, OUT locked for the run, records
journaled to `OUT.partial` (whose first line is the run's identity, checked on
`--resume`), the local or the Ray engine, and the final file written
atomically. Every failure is a `StancetopicError` carrying its exit code;
files that could not be read are not failures but `LabelResult.problems`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stancetopic import labeling, output
from stancetopic.digest import sha256_file
from stancetopic.errors import EXIT_PARTIAL, EngineError, Interrupted, RefusedError, short_path
from stancetopic.model import MANIFEST, ModelError
from stancetopic.predictor import Predictor
from stancetopic.table_input import TableInput, is_table
from stancetopic.tables import Columns

MAX_FILE_BYTES = 20_000_000
DEFAULT_MODEL = Path("models")
ENGINES = ("local", "ray")


class Progress(Protocol):
    """What `run` reports progress to (a `tqdm` bar fits): paragraphs done and, when known, the total."""

    total: Any

    def update(self, n: int) -> Any: ...


@dataclass
class LabelJob:
    """Everything one label run needs; the fields mirror `stancetopic label`'s options.

    `output` None writes JSON Lines to stdout (no journal, so no resume or
    lock); `model` None is `./models`. `inputs` is a folder, one article
    file, or a table file (`.csv`, `.tsv`, `.parquet`, or `.jsonl` with
    `text_column`): one article a row, see `table_input`.
    """

    inputs: Path
    output: Path | None
    model: Path | None = None
    format: str | None = None  # default: from the output's suffix, else jsonl
    glob: str = "*"
    summary: Path | None = None
    backend: str | None = None  # default: the model's own
    batch_size: int = 32
    uncertain_below: float | None = None  # default: the model's own threshold per head
    resume: bool = False
    overwrite: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None  # default: cache.default_dir()
    engine: str = "local"
    ray_address: str | None = None
    workers: int | None = None
    threads: int | None = None
    max_file_size: int = MAX_FILE_BYTES
    all_languages: bool = False  # also score paragraphs the language check would skip
    text_column: str | None = None  # default `text`; a `.jsonl` input is a table only when given
    headline_column: str | None = None
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()

    @property
    def fmt(self) -> str:
        return self.format or output.infer_format(self.output)

    @property
    def table(self) -> bool:
        """Whether the input is read as a table file (one article a row)."""
        return is_table(self.inputs, self.text_column)

    @property
    def columns(self) -> Columns:
        return Columns(self.text_column or "text", self.headline_column, self.id_column, self.keep_columns)

    def identity(self, model_digest: str, backend: str, thresholds: dict[str, float]) -> dict[str, Any]:
        """What makes two runs' records one output: `--resume` refuses a journal whose identity differs.

        Thread count, engine and cache move only last digits and are left out.
        """
        table = self.columns
        columns = {"text": table.text, "headline": table.headline, "id": table.id, "keep": list(table.keep)}
        return {
            **({"columns": columns} if self.table else {}),
            "inputs": str(self.inputs.resolve()),
            "glob": self.glob,
            "model": model_digest,
            "backend": backend,
            "uncertain_below": thresholds,
            "format": self.fmt,
            "max_file_size": self.max_file_size,
            "batch_size": self.batch_size,
            "all_languages": self.all_languages,
        }


@dataclass
class LabelResult:
    """What a run did: its summary (the `--summary` JSON), problems and counts."""

    summary: dict
    stances: list[str]
    scored: int
    recovered: int
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[dict]:
        return self.summary["problems"]

    @property
    def exit_code(self) -> int:
        """0, or 4 when some input was skipped (each is in `problems`)."""
        return EXIT_PARTIAL if self.problems else 0


def load_predictor(model: Path | None, **options: Any) -> Predictor:
    """The verified model at `model` (None: `./models`), or ModelError naming `--model` when none is there."""
    try:
        return Predictor.from_folder(model or DEFAULT_MODEL, **options)
    except ModelError:
        if model is None and not (DEFAULT_MODEL / MANIFEST).is_file():
            raise ModelError(
                f"no trained model in {DEFAULT_MODEL.resolve()}: pass --model DIR (a model folder), "
                "or run `dvc repro` in a stancetopic checkout"
            ) from None
        raise


def check(job: LabelJob) -> None:
    """Refuse a job that cannot run before anything is loaded or written (RefusedError, OutputError)."""
    if job.engine not in ENGINES:
        raise RefusedError(f"--engine {job.engine!r}: choose one of {', '.join(ENGINES)}")
    if job.fmt not in output.FORMATS:
        raise RefusedError(f"--format {job.fmt!r}: choose one of {', '.join(output.FORMATS)}")
    if job.engine == "local" and job.ray_address:
        raise RefusedError("--ray-address needs --engine ray")
    if job.engine == "ray" and job.cache_dir:
        raise RefusedError("--cache-dir: the Ray engine does not use the embedding cache")
    if job.output is None and (job.resume or job.fmt != "jsonl"):
        raise RefusedError("-o -: stdout gets JSON Lines only, with no journal to --resume from")
    try:
        inputs = job.inputs.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # missing, a path over PATH_MAX, a link loop
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RefusedError(f"{short_path(job.inputs)}: cannot use this input ({reason})") from exc
    if job.table and job.engine == "ray":
        raise RefusedError(f"{job.inputs}: the Ray engine does not read table files; leave out --engine ray")
    named = {"--text-column": job.text_column, "--headline-column": job.headline_column,
             "--id-column": job.id_column, "--keep-column": job.keep_columns}  # fmt: skip
    given = [option for option, value in named.items() if value]
    if given and not job.table:
        raise RefusedError(
            f"{given[0]}: only for a table file (.csv, .tsv, .parquet, or .jsonl with --text-column)"
        )
    for option, path in (("-o", job.output), ("--summary", job.summary)):
        if path is not None and (path.resolve() == inputs or inputs in path.resolve().parents):
            where = "is the input" if path.resolve() == inputs else "lies inside the input folder"
            raise RefusedError(f"{path}: {option} {where}; write it elsewhere")
    output.prepare_targets({"-o": job.output, "--summary": job.summary}, overwrite=job.overwrite)


def run(job: LabelJob, progress: Progress | None = None) -> LabelResult:
    """Label every paragraph of `job.inputs`; see the module docstring for the guarantees.

    Raises StancetopicError (with its exit code) when the run is refused or
    fails; Ctrl-C becomes `Interrupted`, which says how to resume.
    """
    check(job)
    chosen: labeling.Inputs
    if job.table:
        name = labeling.source_name(job.inputs.name)
        chosen = TableInput.open(job.inputs, job.columns, name)
        outcome = labeling.Outcome(table=name)
    else:
        outcome = labeling.Outcome()
        chosen = labeling.files(job.inputs, job.glob, outcome)
    if job.output is None:
        return _label(job, chosen, outcome, None, progress)
    partial = output.partial_path(job.output)
    with output.OutputLock(job.output):
        if partial.exists() and not (job.resume or job.overwrite):
            raise RefusedError(
                f"{partial} holds an unfinished run; pass --resume to continue it or --overwrite to start over"
            )
        if partial.exists() and not job.resume:
            partial.unlink()
        return _label(job, chosen, outcome, partial, progress)


def _label(
    job: LabelJob,
    chosen: labeling.Inputs,
    outcome: labeling.Outcome,
    partial: Path | None,
    progress: Progress | None,
) -> LabelResult:
    """The run proper: load the model, recover, score on the engine, finish and summarise.

    `partial` is the journal, None when the records go to stdout.
    """
    from stancetopic import cache

    use_cache = job.engine == "local" and job.use_cache
    predictor = load_predictor(
        job.model,
        backend=job.backend,
        batch_size=job.batch_size,
        cache_dir=(job.cache_dir or cache.default_dir()) if use_cache else None,
        lazy=True,
        threads=job.threads,
    )
    manifest = predictor.heads.manifest
    thresholds = dict(manifest.uncertain_below)
    if job.uncertain_below is not None:
        thresholds = dict.fromkeys(("stance", "topic"), job.uncertain_below)
    identity = job.identity(sha256_file(predictor.folder / MANIFEST), predictor.backend, thresholds)
    warnings: list[str] = []
    recovered = 0
    sink: output.Journal | output.StreamWriter
    if partial is None:
        sink = output.StreamWriter(sys.stdout)
    else:
        if job.resume and partial.exists():
            if output.is_legacy(partial):
                warnings.append(f"{partial}: written by an older version, with no run identity to check")
            recovered, records = output.recover(partial, identity, labeling.CHUNK)
            outcome.add(records)
        sink = output.Journal.start(partial, identity, resume=recovered > 0)
    if progress is not None and recovered:
        progress.update(recovered)

    def emit(records: list[dict]) -> None:
        sink.write(records)
        outcome.add(records)
        if progress is not None:
            progress.update(len(records))

    total: Callable[[int], None] | None = None
    if progress is not None:
        total = lambda n: setattr(progress, "total", n)  # noqa: E731
    kept = f" ({partial} is kept for --resume)" if partial is not None else ""
    try:
        scored = _engine(job)(
            predictor,
            chosen,
            job.max_file_size,
            emit,
            outcome,
            uncertain_below=thresholds,
            skip=recovered,
            total=total,
            all_languages=job.all_languages,
        )
    except KeyboardInterrupt:
        how = (
            f": {partial} keeps what was done; rerun the same command with --resume to go on" if kept else ""
        )
        raise Interrupted(f"interrupted{how}") from None
    except (ModelError, EngineError) as exc:  # the embedder loads lazily, on the first cache miss
        raise type(exc)(f"{exc}{kept}") from exc
    finally:
        sink.close()
        if predictor.cache:
            predictor.cache.close()
    if partial is not None and job.output is not None:
        output.finish(partial, job.output, job.fmt, predictor.heads.topics, job.keep_columns)
    summary = outcome.summary(
        str(job.output or "<stdout>"),
        predictor.heads.stances,
        predictor.heads.article_rule,
        thresholds["stance"],
    )
    if job.summary is not None:
        output.write_json(job.summary, summary)
    return LabelResult(summary, predictor.heads.stances, scored, recovered, warnings)


def _engine(job: LabelJob) -> Callable[..., int]:
    """The engine's `label` function: both take the same arguments, Ray its cluster options too."""
    if job.engine == "local":
        return labeling.label
    from functools import partial

    from stancetopic import ray_engine

    return partial(ray_engine.label, address=job.ray_address, workers=job.workers, threads=job.threads)

"""The `stancetopic` command line: label folders, evaluate models, compare runs.

Heavy libraries (torch, sentence-transformers, scikit-learn, datasets) are
imported inside the commands, so `stancetopic --help` starts instantly.

Exit codes: 0 success; 2 bad arguments (click's usage errors, and refusing to
overwrite); 3 unusable model folder; 4 some inputs were skipped (each named on
stderr) while every other input was processed; 5 bad labelled data (file:line);
6 the Ray engine failed (not installed, cluster unreachable, a worker died).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from stancetopic.onnx_backend import BACKENDS
from stancetopic.output import FORMATS

if TYPE_CHECKING:
    from tqdm import tqdm

    from stancetopic.labeling import Outcome
    from stancetopic.predictor import Predictor

EXIT_MODEL = 3
EXIT_PARTIAL = 4
EXIT_DATA = 5
EXIT_ENGINE = 6
MAX_FILE_BYTES = 20_000_000


model_option = click.option(
    "--model",
    type=click.Path(path_type=Path),
    default=Path("models"),
    show_default=True,
    help="Model folder (verified against its manifest before loading).",
)


backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="Embedder runtime: torch, or ONNX Runtime fp32 / int8 (exported next to the model on first use)  "
    "[default: the model's, from params.yaml label.backend]",
)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load_predictor(
    model: Path,
    backend: str | None,
    batch_size: int,
    cache_dir: Path | None,
    lazy: bool = False,
    threads: int | None = None,
) -> Predictor:
    """The verified model, or exit 3 with the one-line reason."""
    from stancetopic.model import ModelError
    from stancetopic.predictor import Predictor

    try:
        return Predictor.from_folder(
            model, backend=backend, batch_size=batch_size, cache_dir=cache_dir, lazy=lazy, threads=threads
        )
    except ModelError as exc:
        _fail(str(exc), EXIT_MODEL)


def _refuse_existing(paths: list[Path | None], overwrite: bool) -> None:
    for path in paths:
        if path is not None and path.exists() and not overwrite:
            raise click.UsageError(f"{path} exists; pass --overwrite to replace it")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="stancetopic")
def main() -> None:
    """Score news paragraphs for stance (affirms/denies) and topic."""


@main.command()
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file. Written to OUT.partial first, renamed when complete.",
)
@model_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format  [default: from OUT's suffix, else jsonl]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Paragraphs per embedder batch.",
)
@click.option(
    "--glob",
    "pattern",
    default="*",
    show_default=True,
    help="Only files whose relative path or name matches this pattern.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from OUT.partial.")
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT (and summary file).")
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the per-file summary as JSON to this file.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedding cache folder  [default: $XDG_CACHE_HOME/stancetopic or ~/.cache/stancetopic]",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the embedding cache (the Ray engine never uses it).",
)
@backend_option
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this process. ray: Ray Data tasks read the files, a pool of workers scores them.",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="Ray cluster to join (e.g. ray://head:10001 or auto)  [default: start a local instance]",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Embedder CPU threads per process (local) or per Ray worker  "
    "[default: all cores locally; on Ray, (CPUs - 1) / workers, at least 1]",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Ray scoring workers, each loading the model once  [default: one per CPU of the cluster]",
)
@click.option(
    "--uncertain-below",
    type=click.FloatRange(0, 1),
    help="Flag a paragraph uncertain when either score is under this  [default: the model's, per head]",
)
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1),
    default=MAX_FILE_BYTES,
    show_default=True,
    help="Skip (and report) files larger than this many bytes.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
def label(
    input_dir: Path,
    out: Path,
    model: Path,
    fmt: str | None,
    batch_size: int,
    pattern: str,
    resume: bool,
    overwrite: bool,
    summary_path: Path | None,
    cache_dir: Path | None,
    no_cache: bool,
    backend: str | None,
    engine: str,
    ray_address: str | None,
    threads: int | None,
    workers: int | None,
    uncertain_below: float | None,
    max_file_size: int,
    quiet: bool,
) -> None:
    """Label every paragraph of every article under INPUT_DIR.

    Reads .txt, .md, .html, .htm, .json and .jsonl files recursively, in sorted
    order; other files are skipped with a note. Writes one record per labelled
    paragraph (see the README for the fields). Exit 4 when some file could not
    be read: it is named on stderr and every other file is still labelled.
    """
    from tqdm import tqdm

    from stancetopic import cache as cache_module
    from stancetopic import labeling, output
    from stancetopic.model import ModelError, write_json

    fmt = fmt or {".csv": "csv", ".parquet": "parquet"}.get(out.suffix.lower(), "jsonl")
    partial = output.partial_path(out)
    _refuse_existing([out, summary_path], overwrite)
    if engine == "local" and ray_address:
        raise click.UsageError("--ray-address needs --engine ray")
    if engine == "ray" and cache_dir:
        raise click.UsageError("--cache-dir: the Ray engine does not use the embedding cache")
    if partial.exists() and not (resume or overwrite):
        raise click.UsageError(
            f"{partial} holds an unfinished run; pass --resume to continue it or --overwrite to start over"
        )
    if partial.exists() and not resume:
        partial.unlink()

    use_cache = engine == "local" and not no_cache
    predictor = _load_predictor(
        model,
        backend,
        batch_size,
        (cache_dir or cache_module.default_dir()) if use_cache else None,
        lazy=True,
        threads=threads,
    )
    threshold = dict(predictor.heads.manifest.uncertain_below)
    if uncertain_below is not None:
        threshold = dict.fromkeys(("stance", "topic"), uncertain_below)
    outcome = labeling.Outcome()
    skip = 0
    if resume and partial.exists():
        for record in output.recover(partial, labeling.CHUNK):
            outcome.files.setdefault(record["source"], labeling.FileSummary()).add(record)
            skip += 1
    # Our own output may lie inside INPUT_DIR: never read it back as input.
    own = {p.resolve() for p in (out, partial, summary_path) if p is not None}
    show = not quiet and sys.stderr.isatty()
    journal = output.Journal(partial)
    try:
        with tqdm(initial=skip, unit="para", file=sys.stderr, disable=not show) as bar:
            if engine == "local":
                bar.total = labeling.count(input_dir, pattern, max_file_size, exclude=own) if show else None
                stream = labeling.paragraphs(input_dir, pattern, max_file_size, outcome, exclude=own)
                labeling.label(
                    predictor,
                    stream,
                    journal.write,
                    outcome,
                    skip=skip,
                    uncertain_below=threshold,
                    progress=bar.update,
                )
            else:
                _label_on_ray(
                    predictor,
                    input_dir,
                    pattern,
                    max_file_size,
                    journal.write,
                    outcome,
                    own,
                    ray_address=ray_address,
                    workers=workers,
                    threads=threads,
                    skip=skip,
                    uncertain_below=threshold,
                    bar=bar,
                )
    except ModelError as exc:  # the embedder is loaded lazily, on the first cache miss
        _fail(f"{exc} (the partial output is kept for --resume)", EXIT_MODEL)
    finally:
        journal.close()
        if predictor.cache:
            predictor.cache.close()
    output.finish(partial, out, fmt, predictor.heads.topics)

    stances = predictor.heads.stances
    article = predictor.heads.article_rule
    summary = {
        "output": str(out),
        "files": {
            name: s.as_dict(stances, article, threshold["stance"]) for name, s in outcome.files.items()
        },
        "problems": [{"file": f, "reason": r} for f, r in outcome.problems],
        "skipped": outcome.skipped,
    }
    if summary_path is not None:
        write_json(summary_path, summary)
    if not quiet:
        _print_summary(summary, stances)
    for name in outcome.skipped:
        click.echo(f"note: {input_dir / name}: skipped (unsupported file type)", err=True)
    for name, reason in outcome.problems:
        click.echo(f"error: {input_dir / name}: {reason}", err=True)
    if outcome.problems:
        sys.exit(EXIT_PARTIAL)


def _label_on_ray(
    predictor: Predictor,
    input_dir: Path,
    pattern: str,
    max_bytes: int,
    write: Callable[[list[dict]], None],
    outcome: Outcome,
    own: set[Path],
    *,
    ray_address: str | None,
    workers: int | None,
    threads: int | None,
    skip: int,
    uncertain_below: dict[str, float],
    bar: tqdm,
) -> None:
    """The label job on Ray Data; Ray failures exit 6 with the partial output kept for --resume."""
    from stancetopic import labeling, ray_engine

    files = list(labeling.files(input_dir, pattern, outcome, exclude=own))
    try:
        ray_engine.connect(ray_address)
        predictor.prepare()  # an ONNX export is made once, here, not by every worker
        ray_engine.label(
            predictor.folder,
            predictor.backend,
            predictor.batch_size,
            files,
            max_bytes,
            write,
            outcome,
            uncertain_below=uncertain_below,
            workers=workers,
            threads=threads,
            skip=skip,
            progress=bar.update,
            total=lambda n: setattr(bar, "total", n),
        )
    except ray_engine.EngineError as exc:
        _fail(f"{exc} (the partial output is kept for --resume)", EXIT_ENGINE)
    except ImportError as exc:
        _fail(f"--engine ray needs Ray: pip install 'stancetopic[ray]' ({exc.name} is missing)", EXIT_ENGINE)


def _print_summary(summary: dict, stances: list[str]) -> None:
    """The per-file summary as a compact table on stderr."""
    files = summary["files"]
    width = max([len(n) for n in files] + [4])
    header = f"{'file':<{width}}  paras  " + "  ".join(f"{s:>7}" for s in stances)
    click.echo(f"{header}  {'topic':<9}  article", err=True)
    for name, row in files.items():
        shares = "  ".join(f"{row['stance_share'][s]:>7.0%}" for s in stances)
        article = row.get("article_stance")
        verdict = (
            f"{article['stance']} {article['probability']:.2f}{'?' if article['uncertain'] else ''}"
            if article
            else "-"
        )
        click.echo(
            f"{name:<{width}}  {row['paragraphs']:>5}  {shares}  {row['dominant_topic'] or '-':<9}  {verdict}",
            err=True,
        )
    total = sum(row["paragraphs"] for row in files.values())
    click.echo(f"{total} paragraphs in {len(files)} files -> {summary['output']}", err=True)


@main.command()
@click.argument("labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@model_option
@click.option(
    "--out",
    "out_json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here (schema in the README).",
)
@click.option(
    "--html",
    "out_html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained HTML report with figures here.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@backend_option
@click.option("--overwrite", is_flag=True, help="Replace existing report files.")
def evaluate(
    labelled: Path,
    model: Path,
    backend: str | None,
    out_json: Path | None,
    out_html: Path | None,
    batch_size: int,
    overwrite: bool,
) -> None:
    """Score a model on LABELLED, a JSON Lines file in the fixture format.

    Keys beyond id, text, stance, topic (and also, hard) are ignored; a `hard`
    tag gets its own breakdown. Exit 5 with file:line for every bad line.
    """
    from stancetopic.fixtures import LabelledDataError
    from stancetopic.html_report import render
    from stancetopic.model import write_json
    from stancetopic.report import evaluate_file, summary_table

    _refuse_existing([out_json, out_html], overwrite)
    predictor = _load_predictor(model, backend, batch_size, None)
    try:
        report = evaluate_file(predictor, labelled, strict=False)
    except LabelledDataError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_DATA)
    if out_json:
        write_json(out_json, report)
    if out_html:
        out_html.write_text(render(report, f"stancetopic: {labelled.name}"), encoding="utf-8")
    click.echo(summary_table(report))


@main.command()
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table", show_default=True
)
def compare(a: Path, b: Path, fmt: str) -> None:
    """Compare two evaluation reports, or two `label` outputs of the same folder.

    Reports: accuracy, macro-F1, ECE and per-class F1 side by side with the
    signed delta B - A and a mark (▲ better, ▼ worse), plus the confusion cells
    that changed. Label outputs: how many paragraphs changed stance or topic,
    and the biggest changes. Warnings (different data, label sets or folders)
    go to stderr.
    """
    import json

    from stancetopic import compare as comparing

    reports = comparing.is_report(a)
    if reports != comparing.is_report(b):
        raise click.UsageError("compare two evaluation reports or two label outputs, not one of each")
    try:
        if reports:
            result = comparing.compare_reports(json.loads(a.read_text()), json.loads(b.read_text()))
        else:
            result = comparing.compare_labels(a, b)
    except (KeyError, ValueError) as exc:
        _fail(f"not a stancetopic report or label output ({exc.__class__.__name__}: {exc})", EXIT_DATA)
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(comparing.render(result, fmt))


if __name__ == "__main__":
    main()

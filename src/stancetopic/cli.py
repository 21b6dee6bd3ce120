"""The `stancetopic` command line: label folders, evaluate models, compare runs.

The CLI parses options and prints; the work is in the library (`job.run`,
`report.evaluate_file`, `compare`). Heavy libraries (torch,
sentence-transformers, scikit-learn, datasets) are imported inside the
commands, so `stancetopic --help` starts instantly. Every library error is a
`StancetopicError` carrying its exit code (README "Exit codes"); `Group`
turns it into `error: ...` lines and that code, in one place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from stancetopic.errors import EXIT_INTERRUPTED, DataError, RefusedError, StancetopicError
from stancetopic.onnx_backend import BACKENDS
from stancetopic.output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


class Group(click.Group):
    """Runs a command; a library error becomes its `error:` lines and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StancetopicError as exc:
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


model_option = click.option("--model", type=click.Path(path_type=Path),
                            help="Model folder, verified against its manifest before loading  [default: ./models]")  # fmt: skip


def fixtures_option(help_text: str) -> Callable[[F], F]:
    """`--fixtures FOLDER` (repeatable): our fixtures and the user's added lines by default."""
    return click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), multiple=True,
                        default=(Path("data/fixtures"), Path("data/added")), show_default=True, help=help_text)  # fmt: skip


backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="Embedder runtime: torch, or ONNX Runtime fp32 / int8 (exported next to the model on first use)  "
    "[default: the model's, from params.yaml label.backend]",
)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="stancetopic")
def main() -> None:
    """Score news paragraphs for stance (affirms/denies) and topic."""


# fmt: off
@main.command()
@click.argument("inputs", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True,
              type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Output file, written to OUT.partial and renamed when complete; `-`: JSON Lines on stdout.")
@model_option
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format  [default: from OUT's suffix, else jsonl]")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Paragraphs per embedder batch.")
@click.option("--glob", "pattern", default="*", show_default=True,
              help="Only files whose relative path or name matches this pattern.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from OUT.partial (the same run only).")
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT (and summary file).")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the per-file summary as JSON to this file.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Embedding cache folder  [default: $XDG_CACHE_HOME/stancetopic or ~/.cache/stancetopic]")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the embedding cache (the Ray engine never uses it).")
@backend_option
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process. ray: Ray Data tasks read the files, a pool of workers scores them.")
@click.option("--ray-address", metavar="ADDR",
              help="Ray cluster to join (e.g. ray://head:10001 or auto)  [default: start a local instance]")
@click.option("--threads", type=click.IntRange(min=1),
              help="Embedder CPU threads per process (local) or per Ray worker  "
                   "[default: all cores locally; on Ray, (CPUs - 1) / workers, at least 1]")
@click.option("--workers", type=click.IntRange(min=1),
              help="Ray scoring workers, each loading the model once  [default: one per CPU of the cluster]")
@click.option("--uncertain-below", type=click.FloatRange(0, 1),
              help="Flag a paragraph uncertain when either score is under this  "
                   "[default: the model's, per head]")
@click.option("--max-file-size", type=click.IntRange(min=1),
              help="Skip (and report) files larger than this many bytes (not tables)  [default: 20000000]")
@click.option("--all-languages", is_flag=True,
              help="Also score paragraphs in languages other than English (skipped and counted by default).")
@click.option("--text-column", metavar="NAME",
              help="Table input: the column of article text  [default: text]. Makes a .jsonl input a table "
                   "(without it, a .jsonl file is an article file of JSON records).")
@click.option("--headline-column", metavar="NAME",
              help="Table input: the column of headlines, labelled joined with the lead.")
@click.option("--id-column", metavar="NAME",
              help="Table input: the column of row ids; records say FILE#ID  [default: FILE#ROW].")
@click.option("--keep-column", "keep_columns", metavar="NAME", multiple=True,
              help="Table input: a column carried into every record of its row (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
def label(inputs: Path, out: Path, fmt: str | None, pattern: str, summary_path: Path | None,
          no_cache: bool, quiet: bool, **options: object) -> None:
    # fmt: on
    """Label every paragraph of INPUTS: a folder, an article file, or a table file.

    A folder is read recursively, in sorted order: .txt, .md, .html, .htm,
    .json and .jsonl files; other files are skipped with a note. A table file
    (.csv, .tsv, .parquet, or .jsonl with --text-column) is one article a
    row, streamed; see --text-column and the options after it. Writes one
    record per labelled paragraph (see the README for the fields). Exit 4 when
    some file or row could not be read: it is named on stderr and every other
    one is still labelled.
    """
    from tqdm import tqdm

    from stancetopic.job import LabelJob, run
    from stancetopic.labeling import summary_table

    options = {k: v for k, v in options.items() if v is not None and v != ()}  # unset: the library's defaults
    target = None if str(out) == "-" else out
    job = LabelJob(inputs, target, format=fmt, glob=pattern, summary=summary_path, use_cache=not no_cache,
                   **options)  # type: ignore[arg-type]
    show = not quiet and sys.stderr.isatty()
    with tqdm(unit="para", file=sys.stderr, disable=not show) as bar:
        result = run(job, progress=bar if show else None)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        click.echo(summary_table(result.summary, result.stances), err=True)
    folder = inputs if inputs.is_dir() else inputs.parent
    for name in result.summary["skipped"]:
        click.echo(f"note: {folder / name}: skipped (unsupported file type)", err=True)
    for problem in result.problems:
        click.echo(f"error: {folder / problem['file']}: {problem['reason']}", err=True)
    sys.exit(result.exit_code)


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
    model: Path | None,
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
    from stancetopic.html_report import render
    from stancetopic.job import load_predictor
    from stancetopic.output import prepare_targets, write_json, write_text
    from stancetopic.report import evaluate_file, summary_table

    prepare_targets({"--out": out_json, "--html": out_html}, overwrite=overwrite)
    report = evaluate_file(load_predictor(model, backend=backend, batch_size=batch_size), labelled, strict=False)
    if out_json:
        write_json(out_json, report)
    if out_html:
        write_text(out_html, render(report, f"stancetopic: {labelled.name}"))
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
    go to stderr; a file that is neither kind: exit 5.
    """
    from stancetopic import compare as comparing

    result = comparing.compare_files(a, b)
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(comparing.render(result, fmt))


@main.command()
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML page to write.")  # fmt: skip
@click.option("--by", help="Column to show shares per value of (source, or a kept column such as outlet "
              "or date); a column of dates is drawn as lines over time.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT.")
def overview(labels: Path, out: Path, by: str | None, overwrite: bool) -> None:
    """Write one self-contained HTML page of figures and tables about LABELS, a `label` output.

    Topic shares, stance per topic, the share uncertain, shares per --by value,
    and the most confident denials and most uncertain paragraphs per topic.
    Exit 5 with file:line at the first bad record.
    """
    from stancetopic.overview import write_overview
    from stancetopic.tables import TableError

    try:
        summary = write_overview(labels, out, by=by, overwrite=overwrite, progress=sys.stderr.isatty())
    except FileExistsError as exc:
        raise RefusedError(str(exc)) from None
    except TableError as exc:
        raise DataError(str(exc)) from None
    click.echo(f"{summary.n} paragraphs -> {out}")


@main.command()
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-n", "count", type=click.IntRange(min=1), default=50, show_default=True, help="Paragraphs to suggest."
)
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Breaks ties; the same seed gives the same choice."
)
@fixtures_option("Never suggest paragraphs already in these folders (or near-copies of them).")
@click.option(
    "--format", "fmt", type=click.Choice(["fixture", "label-studio"]), default="fixture", show_default=True
)
@model_option
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def suggest(
    labels: Path, count: int, out: Path, seed: int, fixtures: tuple[Path, ...], fmt: str, model: Path, overwrite: bool
) -> None:
    """Pick the COUNT paragraphs of a `label` output (LABELS) most worth labelling, for review.

    Writes them in the fixture format with the model's labels filled in and
    "review": "todo" (or as Label Studio tasks plus a labelling config); after
    correcting them, `stancetopic add` appends them to the fixtures.
    """
    from stancetopic import cache
    from stancetopic import suggest as suggesting
    from stancetopic.job import load_predictor
    from stancetopic.output import prepare_targets

    prepare_targets(dict(zip(("-o", "its labelling config"), suggesting.output_paths(out, fmt), strict=False)), overwrite=overwrite)
    predictor = load_predictor(model, cache_dir=cache.default_dir(), lazy=True)
    try:
        found = suggesting.suggest(labels, count, predictor, seed, [f for f in fixtures if f.is_dir()])
    except (KeyError, ValueError) as exc:
        raise DataError(f"{labels}: not a stancetopic label output ({exc.__class__.__name__}: {exc})") from None
    paths = suggesting.write(found, out, fmt)
    click.echo(f"{len(found.lines)} of {found.read} paragraphs suggested ({found.in_fixtures} already in the "
               f"fixtures) -> {', '.join(map(str, paths))}; correct them, then `stancetopic add`")  # fmt: skip


@main.command()
@click.argument("reviewed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-t", "--to", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to append to, e.g. data/added/mine.jsonl (created if new).")  # fmt: skip
@fixtures_option("Drop lines already in these folders (`prepare` reads them together).")
def add(reviewed: Path, target: Path, fixtures: tuple[Path, ...]) -> None:
    """Append reviewed paragraphs (fixture lines, or a Label Studio JSON export) to a fixture file.

    Every line is checked first; any bad line (exit 5, one `file:line` each)
    means nothing is appended. Duplicates of existing fixtures are dropped;
    lines without an id get the file's next free number. Lines in data/added/
    retrain the heads without fine-tuning the embedder again (params.yaml,
    `finetune.added`), so `dvc repro` after `add` takes about a minute.
    """
    from stancetopic.adding import add as adding

    added = adding(reviewed, target, fixtures)
    ids = f" ({added.lines[0]['id']} .. {added.lines[-1]['id']})" if added.lines else ""
    click.echo(
        f"added {len(added.lines)} lines to {target}{ids}; {added.duplicates} duplicates of fixtures dropped"
    )
    click.echo("now run `dvc repro` to retrain")


if __name__ == "__main__":
    main()

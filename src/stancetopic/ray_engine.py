"""The `label` job on Ray Data: the local engine's records, computed by a pool of workers.

What runs where:
- the driver (the `stancetopic label` process) lists the files, writes the
  output journal and assembles the output file, exactly as the local engine;
- Ray tasks read and split each file into paragraphs;
- a pool of actors (`Scorer`), each loading the embedder and heads once,
  scores the paragraphs in chunks of `labeling.CHUNK`.

Records match the local engine's byte for byte (with the same thread count)
because the chunks match: an embedding depends slightly on the other texts
batched with it, so paragraphs are numbered in corpus order and cut into the
same 512-paragraph chunks the local engine scores. The driver checks every
batch it receives against that.

On a cluster, every node needs stancetopic installed and the input and model
folders at the same path (a shared file system); the embedding cache, a local
SQLite file, is not used.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from stancetopic import labeling
from stancetopic.errors import EngineError
from stancetopic.paragraphs import Segment
from stancetopic.predictor import Predictor

# Actors hold at most this share of the cluster's CPU slots less one: Ray Data
# starts actors first, and when they take every slot its read tasks never run
# (ray-project/ray#44687, a hang that shows on a 2-core machine).
RESERVED_CPUS = 1.0


def connect(address: str | None) -> None:
    """Join the Ray cluster at `address`, or start a local instance sized to this machine."""
    import ray

    if ray.is_initialized():
        return
    # Ray's start-up notes and C++ warnings would bury our own output; real
    # failures still reach us as exceptions. A user's own settings win.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    options = {"logging_level": logging.ERROR, "log_to_driver": False, "include_dashboard": False}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=os.cpu_count(), **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EngineError(f"cannot start or reach Ray at {address or 'a local instance'}: {exc}") from exc


def actor_resources(workers: int | None) -> tuple[int, float, int]:
    """Workers (default: one per cluster CPU), the CPU slots each asks for, and its threads."""
    import ray

    cpus = ray.cluster_resources().get("CPU", 1.0)
    workers = workers or max(1, int(cpus))
    share = max(0.1, (cpus - RESERVED_CPUS) / workers)
    return workers, share, max(1, int(share + 0.5))


def _read(row: dict, max_bytes: int, all_languages: bool = False) -> dict:
    """A task: one file's paragraphs and problems, as JSON so any text survives Arrow."""
    units, problems, other = labeling.read_units(Path(row["path"]), row["source"], max_bytes, all_languages)
    return {
        "order": row["order"],
        "source": row["source"],
        "readable": units is not None,
        "count": len(units or []),
        "other_language": other,
        "problems": json.dumps(problems),
        "units": json.dumps([[u.text, u.start, u.end] for u in units or []]),
    }


def _explode(row: dict, offsets: dict[int, int], skip: int) -> Iterator[dict]:
    """One row per paragraph, numbered by its position in the corpus (after `skip`)."""
    first = offsets[row["order"]]
    for index, (text, start, end) in enumerate(json.loads(row["units"])):
        if first + index >= skip:
            yield {"position": first + index, "item": json.dumps([row["source"], index, text, start, end])}


class Scorer:
    """A Ray actor: loads the model once, then scores chunk after chunk."""

    def __init__(
        self, model: str, backend: str, batch_size: int, threads: int, uncertain_below: dict
    ) -> None:
        from stancetopic.predictor import Predictor

        self.predictor = Predictor.from_folder(model, backend=backend, batch_size=batch_size, threads=threads)
        self.uncertain_below = uncertain_below

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = []
        for item in batch["item"]:
            source, index, text, start, end = json.loads(item)
            items.append((source, index, Segment(text, start, end), labeling.NOTHING_KEPT))
        stance, topic = self.predictor.predict_proba([unit.text for _, _, unit, _ in items])
        heads = self.predictor.heads
        records = labeling.to_records(items, stance, topic, heads.stances, heads.topics, self.uncertain_below)
        positions = np.asarray(batch["position"], dtype=np.int64)
        return {
            "position": positions,
            "chunk_start": np.full(len(positions), positions[0]),
            "chunk_size": np.full(len(positions), len(positions)),
            "record": np.array([json.dumps(r) for r in records], dtype=object),
        }


def label(
    predictor: Predictor,
    chosen: list[tuple[Path, str]],
    max_bytes: int,
    emit: Callable[[list[dict]], None],
    outcome: labeling.Outcome,
    *,
    uncertain_below: dict[str, float],
    skip: int = 0,
    total: Callable[[int], None] | None = None,
    chunk: int = labeling.CHUNK,
    address: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    all_languages: bool = False,
) -> int:
    """The Ray engine, the same shape as `labeling.label`: records in corpus order go to `emit`.

    Joins the cluster at `address` (default: a local instance). `outcome` gets
    the files' problems; `skip` paragraphs (a whole number of chunks) were
    written by an interrupted run. `workers` defaults to one per cluster CPU,
    `threads` per worker to its share of the CPUs (at least 1). `total` is told
    the number of paragraphs once the files are split. Every failure (Ray
    missing, cluster unreachable, a task or worker dying) is an EngineError.
    Returns paragraphs scored.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise EngineError(
            f"--engine ray needs Ray: pip install 'stancetopic[ray]' ({exc.name} is missing)"
        ) from exc
    connect(address)
    predictor.prepare()  # an ONNX export is made once, here, not by every worker
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO lines would bury our own output
    warnings.filterwarnings("ignore", category=UserWarning, module="ray.data")  # pool size advice
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    rows = [{"order": i, "path": str(path), "source": name} for i, (path, name) in enumerate(chosen)]
    try:
        read_options = {"max_bytes": max_bytes, "all_languages": all_languages}
        split = ray.data.from_items(rows).map(_read, fn_kwargs=read_options).materialize()
        offsets, count = {}, 0
        columns = ["order", "source", "readable", "count", "problems", "other_language"]
        for row in split.select_columns(columns).iter_rows():
            outcome.problems += [tuple(p) for p in json.loads(row["problems"])]
            if row["readable"]:
                outcome.opened(row["source"], row["other_language"])
            offsets[row["order"]] = count
            count += row["count"]
        if total:
            total(count)
        if count <= skip:
            return 0
        workers, share, default_threads = actor_resources(workers)
        scored = (
            split.flat_map(_explode, fn_kwargs={"offsets": offsets, "skip": skip})
            .repartition(target_num_rows_per_block=chunk, strict=True)
            .map_batches(
                Scorer,
                batch_size=chunk,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=share,
                fn_constructor_kwargs={
                    "model": str(predictor.folder),
                    "backend": predictor.backend,
                    "batch_size": predictor.batch_size,
                    "threads": threads or default_threads,
                    "uncertain_below": uncertain_below,
                },
            )
        )
        done = 0
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            for at, start, size in zip(
                batch["position"], batch["chunk_start"], batch["chunk_size"], strict=True
            ):
                if start != at - at % chunk or size != min(chunk, count - start):
                    raise EngineError(f"Ray batched paragraph {at} apart from the local engine's chunks")
            records = [json.loads(r) for r in batch["record"]]
            emit(records)
            done += len(records)
    except ray.exceptions.RayError as exc:
        raise EngineError(f"a Ray task or worker failed: {str(exc).splitlines()[0]}") from exc
    return done

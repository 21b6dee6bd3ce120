"""The Ray engine's parts that need no cluster: actor sizing, the read task and paragraph numbering.

The engine end to end (records equal to the local engine's, resume) is in test_engines.py.
"""

from __future__ import annotations

import json

import pytest

from stancetopic import labeling
from stancetopic.ray_engine import _explode, _read, actor_resources
from tests.helpers import ARTICLE

LIMIT = 1_000_000


@pytest.fixture
def cpus(monkeypatch):
    """Set the CPU count the cluster reports, without starting Ray."""
    ray = pytest.importorskip("ray")

    def set_cpus(count: float) -> None:
        monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": count})

    return set_cpus


@pytest.mark.parametrize(
    "count, workers, expected",
    [
        (8.0, None, (8, 0.875, 1)),  # one worker a CPU, one CPU left for the read tasks
        (8.0, 2, (2, 3.5, 4)),  # threads: the share, rounded
        (16.0, 4, (4, 3.75, 4)),
        (2.0, None, (2, 0.5, 1)),
        (1.0, None, (1, 0.1, 1)),  # never less than a tenth of a slot or one thread
    ],
)
def test_actor_resources_leave_one_cpu_for_the_reads(cpus, count, workers, expected):
    cpus(count)
    assert actor_resources(workers) == pytest.approx(expected)


def test_the_read_task_gives_the_local_engines_units_as_json(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE)
    row = _read({"order": 3, "path": str(path), "source": "a.txt"}, LIMIT)
    units, problems, other = labeling.read_units(path, "a.txt", LIMIT)
    assert row["order"] == 3 and row["source"] == "a.txt" and row["readable"]
    assert row["count"] == len(units) > 0 and row["other_language"] == other == 0
    assert json.loads(row["units"]) == [[u.text, u.start, u.end] for u in units]
    assert json.loads(row["problems"]) == problems == []


def test_an_unreadable_file_is_a_row_with_its_problem(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes(b"binary\0data")
    row = _read({"order": 0, "path": str(path), "source": "b.txt"}, LIMIT)
    assert not row["readable"] and row["count"] == 0 and json.loads(row["units"]) == []
    ((source, reason),) = json.loads(row["problems"])
    assert source == "b.txt" and "binary" in reason


def test_another_language_is_counted_unless_all_languages(tmp_path):
    path = tmp_path / "de.txt"
    path.write_text(
        "Die Regierung hat am Montag bestätigt, dass die Gespräche über den Zollvertrag fortgesetzt werden.\n"
    )
    row = _read({"order": 0, "path": str(path), "source": "de.txt"}, LIMIT)
    assert row["count"] == 0 and row["other_language"] == 1
    row = _read({"order": 0, "path": str(path), "source": "de.txt"}, LIMIT, all_languages=True)
    assert row["count"] == 1 and row["other_language"] == 0


def test_explode_numbers_paragraphs_in_corpus_order_after_skip():
    units = [["First paragraph.", 0, 16], ["Second paragraph.", 18, 35], ["Third.", None, None]]
    row = {"order": 1, "source": "b.txt", "units": json.dumps(units)}
    offsets = {0: 5, 1: 10}
    exploded = list(_explode(row, offsets, skip=0))
    assert [r["position"] for r in exploded] == [10, 11, 12]
    assert [json.loads(r["item"]) for r in exploded] == [["b.txt", i, *unit] for i, unit in enumerate(units)]
    assert [r["position"] for r in _explode(row, offsets, skip=11)] == [11, 12]
    assert list(_explode(row, offsets, skip=13)) == []

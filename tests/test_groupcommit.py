"""Group commit: threads share transactions, and a bad job fails alone."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.groupcommit import GroupCommit


class Unavailable(Exception):
    pass


def _held_first(run_batch, gate: threading.Event):
    """run_batch whose first call waits for the gate: the other threads queue meanwhile."""
    calls = []

    def run(jobs):
        calls.append(list(jobs))
        if len(calls) == 1:
            gate.wait(10)
        return run_batch(jobs)
    return run, calls


def _submit_all(gc: GroupCommit, jobs, gate: threading.Event):
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(gc.submit, jobs[0])]
        time.sleep(0.1)                        # the first job leads and is held
        futures += [pool.submit(gc.submit, j) for j in jobs[1:]]
        deadline = time.monotonic() + 10
        while len(gc._queue) < len(jobs) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()
        out = []
        for f in futures:
            try:
                out.append(f.result(10))
            except Exception as exc:
                out.append(type(exc).__name__)
        return out


def test_waiting_writers_share_one_batch_and_each_gets_its_own_result():
    gate = threading.Event()
    run, calls = _held_first(lambda jobs: [j * 10 for j in jobs], gate)
    gc = GroupCommit(run)
    assert _submit_all(gc, list(range(1, 9)), gate) == [10, 20, 30, 40, 50, 60, 70, 80]
    assert calls == [[1], [2, 3, 4, 5, 6, 7, 8]]


def test_a_lone_writer_commits_alone():
    gc = GroupCommit(lambda jobs: [j + 1 for j in jobs])
    assert [gc.submit(i) for i in range(3)] == [1, 2, 3]
    assert gc.batches == 3


def test_batches_are_capped():
    gate = threading.Event()
    run, calls = _held_first(lambda jobs: list(jobs), gate)
    gc = GroupCommit(run, max_batch=3)
    assert _submit_all(gc, list(range(8)), gate) == list(range(8))
    assert [len(c) for c in calls] == [1, 3, 3, 1]


@pytest.mark.parametrize("bad, expected", [
    # A job the transaction refuses fails alone; its neighbours are committed one by one.
    ({4}, [1, 2, 3, "ValueError", 5, 6]),
    ({2, 6}, [1, "ValueError", 3, 4, 5, "ValueError"]),
])
def test_a_bad_job_fails_alone(bad, expected):
    def run_batch(jobs):
        if any(j in bad for j in jobs):
            raise ValueError("refused")
        return list(jobs)

    gate = threading.Event()
    run, _calls = _held_first(run_batch, gate)
    assert _submit_all(GroupCommit(run), [1, 2, 3, 4, 5, 6], gate) == expected


def test_an_unavailable_database_fails_the_whole_batch_without_retrying_each():
    tries = []

    def run_batch(jobs):
        tries.append(len(jobs))
        if len(tries) > 1:
            raise Unavailable("down")
        return list(jobs)

    gate = threading.Event()
    run, _calls = _held_first(run_batch, gate)
    out = _submit_all(GroupCommit(run, shared_failure=(Unavailable,)), [1, 2, 3, 4], gate)
    assert out == [1, "Unavailable", "Unavailable", "Unavailable"]
    assert tries == [1, 3]

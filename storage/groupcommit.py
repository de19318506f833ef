"""Group commit: writers in many threads share one transaction instead of queueing for one each.

The first thread to arrive commits everything queued so far (up to `max_batch` jobs) while
the others wait; whoever arrives during that commit is in the next one. Alone, a writer
commits alone and waits for nobody. Each job's result or error goes back to its own thread:
when a shared transaction fails, it is rolled back whole and its jobs are run again one by
one, so a bad job fails alone and a good one is never lost because of its neighbours.
Errors that say the database itself is unavailable are not retried job by job: every job of
the batch gets them (the caller's retries have been spent already).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass
class _Entry:
    job: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, run_batch: Callable[[Sequence[Any]], list[Any]], *, max_batch: int = 64,
                 shared_failure: tuple[type[BaseException], ...] = ()):
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.shared_failure = shared_failure
        self._cond = threading.Condition()
        self._queue: list[_Entry] = []
        self._leading = False
        self.batches = 0          # transactions committed (or tried), for tests and benchmarks

    def submit(self, job: Any) -> Any:
        entry = _Entry(job)
        with self._cond:
            self._queue.append(entry)
            while not entry.done:
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
                self._cond.release()
                try:
                    self._commit(batch)
                finally:
                    self._cond.acquire()
                    self._leading = False
                    self._cond.notify_all()
        if entry.error is not None:
            raise entry.error
        return entry.result

    def _commit(self, batch: list[_Entry]) -> None:
        self.batches += 1
        try:
            results = self.run_batch([e.job for e in batch])
        except self.shared_failure as exc:
            for e in batch:
                e.error, e.done = exc, True
            return
        except BaseException as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            for e in batch:       # find the bad job: each alone, in its own transaction
                try:
                    e.result = self.run_batch([e.job])[0]
                except BaseException as one:
                    e.error = one
                e.done = True
            return
        for e, result in zip(batch, results):
            e.result, e.done = result, True

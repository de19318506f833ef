"""Scheduler queues that keep a small frontier in memory and spill a large one to disk.

Scrapy's disk queues (used whenever JOBDIR is set, as `nianbao crawl` does so a frontier of
100,000 URLs costs no memory) serialise every request on its way in and rebuild it on its
way out, even for the few dozen requests a portal's crawl holds at a time; on a harvest of
many small sites that was a fifth of the crawl's CPU. These queues hold up to
`NIANBAO_QUEUE_IN_MEMORY` requests (per priority) as objects and write only the excess to
Scrapy's own pickle queue in the same place, in an order that pops exactly as the disk queue
alone would. Closing moves what is in memory to disk, so a JOBDIR left behind is complete.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

from scrapy.squeues import PickleFifoDiskQueue, PickleLifoDiskQueue

DEFAULT_IN_MEMORY = 1000
# Requests moved to disk at once when memory is over its limit (keeps pushes cheap on average).
SPILL = 100


class _Spilling:
    disk_class = PickleLifoDiskQueue
    lifo = True

    def __init__(self, crawler, key: str, in_memory: int):
        self.crawler = crawler
        self.key = key
        self.in_memory = max(0, in_memory)
        self.memory: deque = deque()
        self.disk = None
        if Path(key).exists():
            self._disk()      # a JOBDIR left by an earlier crawl: what it holds comes first

    @classmethod
    def from_crawler(cls, crawler, key: str, *args, **kwargs):
        return cls(crawler, key, crawler.settings.getint("NIANBAO_QUEUE_IN_MEMORY", DEFAULT_IN_MEMORY))

    def _disk(self):
        if self.disk is None:
            self.disk = self.disk_class.from_crawler(self.crawler, self.key)
        return self.disk

    def __len__(self) -> int:
        return len(self.memory) + (len(self.disk) if self.disk is not None else 0)

    def push(self, request) -> None:
        if self.lifo:
            # Newest on top, in memory; the oldest go down to disk, under everything in memory.
            self.memory.append(request)
            if len(self.memory) > self.in_memory:
                self._spill_oldest(len(self.memory) - self.in_memory + min(SPILL, self.in_memory // 2))
        elif (self.disk is not None and len(self.disk)) or len(self.memory) >= self.in_memory:
            # First in, first out: once anything waits on disk, newcomers queue behind it there.
            self._disk().push(request)
        else:
            self.memory.append(request)

    def _spill_oldest(self, n: int) -> None:
        disk = self._disk()
        for _ in range(min(n, len(self.memory))):
            request = self.memory[0]
            try:
                disk.push(request)
            except ValueError:
                return        # not serialisable (Scrapy says why when it meets one): stays in memory
            self.memory.popleft()

    def pop(self):
        if self.lifo:
            if self.memory:
                return self.memory.pop()
        elif self.memory:
            return self.memory.popleft()
        return self.disk.pop() if self.disk is not None else None

    def peek(self):
        if self.memory:
            return self.memory[-1] if self.lifo else self.memory[0]
        return self.disk.peek() if self.disk is not None else None

    def close(self) -> None:
        if self.memory:
            if self.lifo:
                self._spill_oldest(len(self.memory))
            else:
                disk = self._disk()
                behind = []
                while (request := disk.pop()) is not None:
                    behind.append(request)
                for request in [*self.memory, *behind]:
                    disk.push(request)
                self.memory.clear()
        if self.disk is not None:
            self.disk.close()


class SpillingLifoQueue(_Spilling):
    disk_class = PickleLifoDiskQueue
    lifo = True


class SpillingFifoQueue(_Spilling):
    disk_class = PickleFifoDiskQueue
    lifo = False

"""A Scrapy extension for bench.memory: samples the scheduler's length and RSS each half second;
once the frontier holds BENCH_PROBE_FRONTIER requests it writes the figures and closes the spider."""
from __future__ import annotations

import json
import resource
import time

from scrapy import signals
from twisted.internet import task


def _proc_mb(pid: str, name: str, field: str) -> float:
    """A kB figure from /proc/PID/NAME (the line starting with FIELD), in MB; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _rss_mb(pid: str = "self") -> float:
    return _proc_mb(pid, "status", "VmRSS:")


def _pss_mb(pid: str = "self") -> float:
    """Proportional set size: shared pages (the interpreter, libraries) split between the
    processes mapping them, so the PSS of two processes adds up to what they use together."""
    return _proc_mb(pid, "smaps_rollup", "Pss:")


def _children() -> set[str]:
    import glob

    pids = set()
    for path in glob.glob("/proc/self/task/*/children"):
        with open(path, encoding="ascii") as fh:
            pids.update(fh.read().split())
    return pids


def _children_rss_mb() -> float:
    """RSS of this process's children (the archiving process): a worker is both."""
    return sum(_rss_mb(pid) for pid in _children())


class FrontierProbe:
    def __init__(self, crawler):
        self.crawler = crawler
        self.out = crawler.settings.get("BENCH_PROBE_OUT")
        self.target = crawler.settings.getint("BENCH_PROBE_FRONTIER")
        self.idle = None
        self.largest = 0
        self.t0 = None
        self.loop = task.LoopingCall(self.sample)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider):
        self.idle = _rss_mb()
        self.t0 = time.monotonic()
        self.loop.start(0.5)

    def sample(self):
        # Never raise: an exception would stop the LoopingCall for good, and the probe with it.
        try:
            scheduler = self.crawler.engine.scheduler
            size = len(scheduler) if scheduler is not None else 0
        except Exception:
            return
        self.largest = max(self.largest, size)
        if size >= self.target * 0.99:
            self.loop.stop()
            self.write(size)
            self.crawler.engine.close_spider(self.crawler.spider, "frontier_measured")

    def write(self, size: int) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open(self.out, "w", encoding="utf-8") as fh:
            json.dump({"frontier": size, "peak_rss_mb": round(peak, 1), "rss_mb": round(_rss_mb(), 1),
                       "children_rss_mb": round(_children_rss_mb(), 1),
                       "pss_total_mb": round(_pss_mb() + sum(_pss_mb(pid) for pid in _children()), 1),
                       "idle_rss_mb": round(self.idle, 1), "seconds": round(time.monotonic() - self.t0, 1)}, fh)


class Elapsed:
    """Prints each spider's elapsed seconds (from Scrapy's own stats) when it closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def closed(self, spider, reason):
        stats = self.crawler.stats.get_stats()
        start = stats.get("start_time")
        if start is not None:
            import datetime as dt
            now = dt.datetime.now(start.tzinfo)
            print(f"ELAPSED={(now - start).total_seconds():.3f}", flush=True)

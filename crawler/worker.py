"""`nianbao worker`: one long-lived process serving the shared Redis frontier.

Scrapy's reactor cannot restart, so a worker keeps one running and adds a crawler for each
site that becomes active (crawler.distributed explains when a site is active and done).
Each crawler is the ordinary `reports` spider with the site's own settings (its politeness
slots, render mode) plus the distributed overlay; nothing in the spider knows about Redis.

A worker runs a site's generation (one `nianbao enqueue`) at most once: a crawler that
closed early (say the catalogue was down) is not restarted in a tight loop; the next
enqueue starts a new generation.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from scrapy.settings import Settings

from crawler.distributed import Frontier

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def _wake(engine) -> None:
    """Make an idle engine ask its scheduler again now, not at its next 5 s heartbeat:
    another worker has put requests in the shared queue. Scrapy has no public call for
    this (scrapy-redis's RedisSpider uses engine.crawl, which would re-filter the request)."""
    slot = getattr(engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


@dataclass
class Worker:
    frontier: Frontier
    worker_id: str
    base_settings: Settings
    settings_for: Callable[..., Settings]            # SiteConfig -> Settings for its crawler
    max_sites: int = 4
    poll: float = 1.0
    exit_when_idle: float | None = None              # seconds with nothing to do before exiting
    on_finish: Callable | None = None                # called with each SiteSummary
    summaries: list = field(default_factory=list)
    _running: dict = field(default_factory=dict)     # site_id -> (crawler, generation)
    _done: dict = field(default_factory=dict)        # site_id -> last generation run here
    _idle_since: float | None = None

    def run(self) -> list:
        from scrapy.utils.reactor import install_reactor

        install_reactor(ASYNCIO_REACTOR)
        from scrapy.crawler import CrawlerProcess
        from twisted.internet import reactor, task

        self.process = CrawlerProcess(self.base_settings)
        loop = task.LoopingCall(self._tick)

        def started():
            d = loop.start(self.poll, now=True)
            d.addErrback(lambda f: (log.error("worker loop failed: %s", f.getErrorMessage()), reactor.stop()))

        reactor.callWhenRunning(started)
        from crawler.runner import tune_gc
        tune_gc()
        self.process.start(stop_after_crawl=False)
        return self.summaries

    # -- one tick of the loop ------------------------------------------------------------
    def _tick(self) -> None:
        for site_id, (crawler, _gen) in list(self._running.items()):
            engine = getattr(crawler, "engine", None)
            # A long download or a full downloader calls no next_request: say we are alive.
            if engine is None or engine.spider is None:
                continue
            if not engine.spider_is_idle():
                self.frontier.mark_busy(site_id, self.worker_id)
            elif self.frontier.pending(site_id):
                _wake(engine)
        startable = self._startable()
        for site_id, generation in startable[: max(0, self.max_sites - len(self._running))]:
            self._start(site_id, generation)
        if self._running or startable:
            self._idle_since = None
        elif self.exit_when_idle is not None:
            now = time.monotonic()
            self._idle_since = self._idle_since or now
            if now - self._idle_since >= self.exit_when_idle:
                from twisted.internet import reactor

                log.info("worker %s: nothing to do for %.0fs, exiting", self.worker_id, self.exit_when_idle)
                reactor.stop()

    def _startable(self) -> list[tuple[str, int]]:
        out = []
        for site_id in self.frontier.active_sites():
            if site_id in self._running:
                continue
            generation = self.frontier.generation(site_id)
            if self._done.get(site_id) != generation:
                out.append((site_id, generation))
        return out

    def _start(self, site_id: str, generation: int) -> None:
        from scrapy.crawler import Crawler

        from spiders.reports import ReportsSpider

        site = self.frontier.config(site_id)
        if site is None:
            log.warning("site %s is active but has no stored config; skipped", site_id)
            self._done[site_id] = generation
            return
        crawler = Crawler(ReportsSpider, self.settings_for(site), init_reactor=False)
        self._running[site_id] = (crawler, generation)
        log.info("worker %s: joining harvest of %s (generation %d)", self.worker_id, site_id, generation)
        d = self.process.crawl(crawler, site_config=site)
        d.addBoth(self._finished, site_id, crawler, generation)

    def _finished(self, result, site_id: str, crawler, generation: int):
        from crawler.runner import summarise

        self._running.pop(site_id, None)
        self._done[site_id] = generation
        # A crawler that never opened its spider never went idle either: drop its busy mark.
        self.frontier.mark_idle(site_id, self.worker_id)
        summary = summarise(site_id, crawler.stats.get_stats() if crawler.stats else {})
        self.summaries.append(summary)
        if summary.run_id is not None:
            # Text renditions of what this worker archived, off the reactor thread.
            from twisted.internet import threads

            from crawler.renditions import render_runs
            s = crawler.settings
            threads.deferToThread(render_runs, s["NIANBAO_CATALOGUE"], s["NIANBAO_STORE"], [summary.run_id])
        if self.on_finish is not None:
            self.on_finish(summary)
        if hasattr(result, "getErrorMessage"):
            log.error("%s: crawler failed: %s", site_id, result.getErrorMessage())
        return None

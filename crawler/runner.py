"""Run harvests in this process: one Scrapy CrawlerProcess, one `reports` spider per site.

The command line, the demo and the scheduler all come through `run_sites`, so settings are
built in one place. Scrapy's reactor cannot restart, so `run_sites` is called once per process.
"""
from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field

import shutil
import tempfile

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from crawler import env, stopping
from crawler.logs import quiet_expected_failures
from crawler.progress import snapshot
from crawler.siteconfig import SiteConfig


@dataclass
class SiteSummary:
    """A site's run as the summary prints it; the counts are crawler/counts.py's, read from
    the run's catalogue row when there is one (the numbers `nianbao runs` shows)."""
    site_id: str
    outcome: str
    pages: int = 0
    reports: int = 0
    files: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    finish_reason: str | None = None
    owed: int = 0               # files of the site still owed when the run ended
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_due: int = 0
    removed: int = 0
    hosts: dict[str, list[str]] = field(default_factory=dict)   # error kind -> hosts it hit

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


# A site's delay is a floor: Scrapy varies each wait by ±JITTER around the slot's delay, so the
# slot's delay is set that much above the site's (waits fall between 1 and 1.5 times the site's).
# Regular intervals are what bot detectors look for; shorter ones are what the site asked us not to do.
JITTER = 0.2


def download_slots(sites: list[SiteConfig]) -> dict[str, dict]:
    """Per-host politeness from each site's config; Scrapy keys slots by hostname."""
    slots: dict[str, dict] = {}
    for site in sites:
        for entry in site.allowed_hosts:
            host = entry.lstrip("*").lstrip(".").rsplit(":", 1)[0] if ":" in entry else entry.lstrip("*.")
            slots[host] = {"concurrency": site.politeness.concurrency,
                           "delay": site.politeness.delay / (1 - JITTER), "jitter": JITTER}
    return slots


def build_settings(sites: list[SiteConfig], *, store: str | None = None, catalogue: str | None = None,
                   render: str | None = None, proxy: str | None = None, max_bytes: int | None = None,
                   log_level: str = "INFO", overrides: dict | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NIANBAO_STORE", env.store_url(store), priority="cmdline")
    settings.set("NIANBAO_CATALOGUE", env.catalogue_url(catalogue), priority="cmdline")
    if render:
        settings.set("NIANBAO_RENDER", render, priority="cmdline")
    if proxy:
        settings.set("NIANBAO_PROXY", proxy, priority="cmdline")
    if max_bytes:
        settings.set("DOWNLOAD_MAXSIZE", max_bytes, priority="cmdline")
    settings.set("DOWNLOAD_SLOTS", download_slots(sites), priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    if (processes := env.archive_processes()) is not None:
        settings.set("NIANBAO_ARCHIVE_PROCESSES", processes, priority="cmdline")
    for name in ("NIANBAO_STORE_OUTAGE_WAIT", "NIANBAO_LEASE_TTL"):
        if (value := env.seconds(name)) is not None:
            settings.set(name, value, priority="cmdline")
    if any((render or site.render) != "never" for site in sites):
        from crawler.rendering import playwright_settings
        for key, value in playwright_settings(proxy=proxy).items():
            settings.set(key, value, priority="cmdline")
    else:
        # Nothing will render: Scrapy's own HTTP handlers, not scrapy-playwright's.
        settings.set("DOWNLOAD_HANDLERS", {}, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def summarise(site_id: str, stats: dict, run=None) -> SiteSummary:
    """The summary of a site's crawl: from its catalogue row `run` when there is one (the same
    counts as `nianbao runs`), else from the crawl's stats (a run that never started)."""
    snap = snapshot(stats)
    errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("nianbao/error/")}
    outcome = stats.get("nianbao/outcome") or ("failed" if stats.get("nianbao/fatal") else "unknown")
    hosts = {k.split("/", 2)[2]: sorted(v) for k, v in stats.items()
             if k.startswith("nianbao/error_hosts/") and isinstance(v, (list, set, tuple))}
    # Without a run row (a distributed worker's summary) the crawl's own count of report URLs.
    summary = SiteSummary(site_id=site_id, outcome=outcome, pages=snap["pages"], reports=snap["reports"],
                          files=snap["files"], errors=errors, run_id=stats.get("nianbao/run_id"),
                          finish_reason=stats.get("finish_reason"), owed=stats.get("nianbao/owed", 0),
                          hosts=hosts)
    if run is not None:
        from crawler.counts import run_counts

        for name, value in run_counts(run).items():
            setattr(summary, name, value)
    return summary


def _run_rows(catalogue_url: str, run_ids: list) -> dict:
    """The catalogue rows of a harvest's runs, by id ({} when the catalogue cannot say)."""
    ids = {i for i in run_ids if i is not None}
    if not ids:
        return {}
    try:
        from storage.catalogue import Catalogue

        cat = Catalogue.shared(catalogue_url)
        # Newest first: this harvest's runs are among the latest, other crawls' beside them.
        return {r.id: r for r in cat.runs(limit=len(ids) + 1_000) if r.id in ids}
    except Exception as exc:   # the summary still prints, from the crawl's own stats
        logging.getLogger(__name__).warning("run counts not read from the catalogue: %s", exc)
        return {}


# Allocations between young-generation collections (Python's default: 700).
GC_YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """Before a crawl: what was built at start-up (modules, settings, spiders) is frozen out of
    the collector's sight, and young collections run less often. A crawl allocates requests,
    responses and parse trees at a furious rate; with Python's defaults the cycle collector
    took about a sixth of a harvest's time on the benchmark farm (docs/benchmarks.md)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


class _Process(CrawlerProcess):
    """Scrapy's process, telling the rest of nianbao when a stop was asked for (crawler.stopping)."""

    def _signal_shutdown(self, signum, frame) -> None:
        stopping.requested.set()
        super()._signal_shutdown(signum, frame)

    def _signal_kill(self, signum, frame) -> None:
        stopping.requested.set()
        super()._signal_kill(signum, frame)


def run_sites(sites: list[SiteConfig], **kwargs) -> list[SiteSummary]:
    from crawler.pipelines import close_abandoned_runs
    from spiders.reports import ReportsSpider

    settings = build_settings(sites, **kwargs)
    process = _Process(settings)
    logging.getLogger("scrapy.core.scraper").setLevel(logging.WARNING)
    quiet_expected_failures()
    crawlers = []
    queues = []
    for site in sites:
        site_settings = settings.copy()
        if site_settings.getbool("NIANBAO_DISK_QUEUE", True) and not site_settings.get("JOBDIR"):
            # The frontier waits on disk, not in memory: a 100,000-URL frontier stays small.
            # A fresh directory per run: resuming after a crash is the catalogue's job.
            queues.append(tempfile.mkdtemp(prefix=f"nianbao-{site.id}-"))
            site_settings.set("JOBDIR", queues[-1], priority="cmdline")
        crawler = Crawler(ReportsSpider, site_settings, init_reactor=not crawlers)
        crawlers.append((site, crawler))
        process.crawl(crawler, site_config=site)
    try:
        tune_gc()
        process.start()
    finally:
        # A second Ctrl-C stops the reactor before the spiders close: their runs are closed
        # here (interrupted, what they meant to fetch owed, leases released), never left running.
        close_abandoned_runs()
        for path in queues:
            shutil.rmtree(path, ignore_errors=True)
    # Plain-text renditions of what this harvest archived, for downstream parsers.
    from crawler.renditions import render_runs
    render_runs(settings["NIANBAO_CATALOGUE"], settings["NIANBAO_STORE"],
                [c.stats.get_value("nianbao/run_id") for _, c in crawlers if c.stats])
    all_stats = [(site, crawler.stats.get_stats() if crawler.stats else {}) for site, crawler in crawlers]
    rows = _run_rows(settings["NIANBAO_CATALOGUE"], [stats.get("nianbao/run_id") for _, stats in all_stats])
    return [summarise(site.id, stats, rows.get(stats.get("nianbao/run_id"))) for site, stats in all_stats]

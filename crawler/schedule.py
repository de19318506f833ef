"""When is a site due, and the long-lived scheduler that starts due crawls.

Due means: the site has a cron `schedule` and its cron fired since the last run started (or it
never ran). A run that died or failed is tried again once `retry_after` has passed, without
waiting for the next fire. All state is in the catalogue, so a restarted scheduler carries on
where it was. A schedule is read in its site's `timezone` (default Asia/Shanghai: the portals
and their people are in UTC+8); the zone goes into each run's stats (`nianbao/schedule/timezone`,
set by `RunTimezone`), so a run row says in which zone its schedule fired. The stats JSON rather
than a catalogue column: no migration for a value only people read.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

from crawler.siteconfig import SiteConfig

log = logging.getLogger("nianbao.schedule")
RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class LastRun:
    started_at: datetime
    outcome: str
    owed: int = 0           # files it left owed (storage/owed.py)


def is_due(schedule: str | None, last: LastRun | None, now: datetime, *,
           retry_after: timedelta = RETRY_AFTER, tz: str = "UTC") -> bool:
    """Whether a site is due at `now`, its cron read in the zone `tz` (a site passes its own)."""
    if not schedule:
        return False
    if last is None:
        return True
    if last.outcome == "running":
        return False
    # A run that left a hole (failed, interrupted, files owed) is retried soon, not at the next
    # fire of a weekly schedule: the retry fetches what is owed first.
    if (last.outcome in ("failed", "interrupted") or last.owed) and now - last.started_at >= retry_after:
        return True
    fired = croniter(schedule, now.astimezone(ZoneInfo(tz))).get_prev(datetime)
    started = last.started_at if last.started_at.tzinfo else last.started_at.replace(tzinfo=timezone.utc)
    return started < fired


def last_runs(catalogue_url: str) -> dict[str, LastRun]:
    from storage.catalogue import Catalogue

    cat = Catalogue.open(catalogue_url)
    out: dict[str, LastRun] = {}
    for run in cat.runs(limit=100_000):      # newest first
        out.setdefault(run.site_id, LastRun(run.started_at, run.outcome, (run.stats or {}).get("nianbao/owed", 0)))
    return out


def due_sites(sites: list[SiteConfig], *, catalogue_url: str, now: datetime | None = None) -> list[SiteConfig]:
    now = now or datetime.now(timezone.utc)
    last = last_runs(catalogue_url)
    return [s for s in sites if is_due(s.schedule, last.get(s.id), now, tz=s.timezone)]


class RunTimezone:
    """Scrapy extension: the site's schedule zone into the run's stats, which the run row keeps."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        return ext

    def opened(self, spider) -> None:
        site = getattr(spider, "site", None)
        if site is not None:
            self.crawler.stats.set_value("nianbao/schedule/timezone", site.timezone)


class Scheduler:
    """Starts `nianbao crawl SITE` for due sites, at most `concurrency` at once; or, given a
    shared frontier, enqueues them for the workers."""

    def __init__(self, *, sites_dir: str, catalogue_url: str, store_url: str, concurrency: int = 2,
                 interval: float = 60.0, extra_args: list[str] | None = None, frontier=None):
        self.sites_dir = sites_dir
        self.catalogue_url = catalogue_url
        self.store_url = store_url
        self.concurrency = concurrency
        self.interval = interval
        self.extra_args = extra_args or []
        self.running: dict[str, subprocess.Popen] = {}
        self.stopping = False
        # With a shared Redis frontier, due sites are enqueued for `nianbao worker`s instead.
        self.frontier = frontier
        self._warned: dict[str, str] = {}          # bad site file -> the problem last logged

    def _command(self, site_id: str) -> list[str]:
        return [sys.executable, "-m", "crawler.cli", "crawl", site_id, "--sites-dir", self.sites_dir,
                "--catalogue", self.catalogue_url, "--store", self.store_url, *self.extra_args]

    def reap(self) -> None:
        for site_id, proc in list(self.running.items()):
            code = proc.poll()
            if code is not None:
                log.info("crawl of %s ended with exit code %s", site_id, code)
                del self.running[site_id]

    def tick(self) -> list[str]:
        """One pass: reap finished crawls, start due ones. Returns the site ids started."""
        from crawler.siteconfig import describe, partition_sites

        self.reap()
        started = []
        # Site files are re-read every tick (an operator edits them while the scheduler runs): a
        # file broken in between is skipped with a warning, the others keep their schedule.
        sites, bad = partition_sites(self.sites_dir)
        for file, _stem, problems in bad:
            what = describe(problems)
            if self._warned.get(file) != what:
                log.warning("config error %s: %s (skipped until fixed)", file, what)
                self._warned[file] = what
        self._warned = {f: w for f, w in self._warned.items() if f in {b[0] for b in bad}}
        for site in due_sites(sites, catalogue_url=self.catalogue_url):
            if self.frontier is not None:
                if self.frontier.enqueue(site):       # False: a harvest of it is under way
                    log.info("enqueued %s for the workers", site.id)
                    started.append(site.id)
                continue
            if self.stopping or len(self.running) >= self.concurrency:
                break
            if site.id in self.running:
                continue
            log.info("starting crawl of %s", site.id)
            self.running[site.id] = subprocess.Popen(self._command(site.id))
            started.append(site.id)
        return started

    def wait(self) -> None:
        while self.running:
            self.reap()
            time.sleep(0.5)

    def stop(self, *_args) -> None:
        self.stopping = True
        for proc in self.running.values():
            proc.send_signal(signal.SIGTERM)   # Scrapy closes cleanly on the first SIGTERM

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        while not self.stopping:
            self.tick()
            deadline = time.time() + self.interval
            while time.time() < deadline and not self.stopping:
                time.sleep(0.5)
                self.reap()
        self.wait()

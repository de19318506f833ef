"""Where the crawler meets storage: bytes into the object store, then rows into the catalogue.

The order is the guarantee: a capture row is written only after its object is durably
stored, so no catalogue row ever points at a missing object. The work itself is
crawler.archiving's, run in an archiving process (or threads) so the crawl keeps going;
this pipeline opens and closes the run, waits out store outages and records errors.
"""
from __future__ import annotations

import asyncio
import logging

from scrapy import signals

from crawler import __version__, env, stopping
from crawler.archiving import ArchiveError, Archiver, merge_stats
from crawler.items import FileItem
from crawler import links, scope
from scrapy.exceptions import DropItem

from storage import leases
from storage.catalogue import Catalogue, CatalogueError
from storage.objects import StoreError, StoreUnavailable, open_store

log = logging.getLogger(__name__)

# Errors that do not stop the run from recording what it found: not failures of a crawl.
_NOT_INCOMPLETE = ("http_404", "http_410", "robots_disallowed", "off_scope")

# Seconds between heartbeats: the lease is renewed and what the run owes is written down.
HEARTBEAT = 5.0


class SiteBusy(CatalogueError):
    """Another live crawl holds the site's lease (storage/leases.py)."""


# Pipelines whose run is open in this process: closed by close_abandoned_runs when the reactor
# stopped before their spider closed (a second Ctrl-C).
_OPEN_RUNS: set = set()


class ArchivePipeline:
    def __init__(self, *, store_url: str, catalogue_url: str, crawler=None):
        self.store_url = store_url
        self.catalogue_url = catalogue_url
        self.crawler = crawler
        self.store = None
        self.catalogue = None
        self.run_id: int | None = None
        self.outage_wait = 300.0       # in all, per run: then the run stops, its files owed
        self.outage_spent = 0.0
        self._back_at = float("-inf")  # when the store last answered a probe after an outage
        self._stopping = None           # the close this pipeline asked for, once
        self.archive_processes = 1
        self.archiver: Archiver | None = None
        self._outage_lock = asyncio.Lock()
        self.lease_ttl = leases.DEFAULT_TTL
        self.owner = leases.this_owner()
        self.leased = False
        self._heartbeat: asyncio.Task | None = None
        self.spider = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        pipeline = cls(store_url=env.store_url(s.get("NIANBAO_STORE")),
                       catalogue_url=env.catalogue_url(s.get("NIANBAO_CATALOGUE")), crawler=crawler)
        pipeline.outage_wait = s.getfloat("NIANBAO_STORE_OUTAGE_WAIT", 300.0)
        pipeline.archive_processes = s.getint("NIANBAO_ARCHIVE_PROCESSES", 1)
        pipeline.lease_ttl = s.getfloat("NIANBAO_LEASE_TTL", leases.DEFAULT_TTL)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        try:
            # In a thread: the other sites of a harvest keep crawling while this one opens its run.
            await asyncio.to_thread(self._open, spider)
            self.archiver = Archiver.acquire(self.archive_processes)
            # The archiving process starts while the first pages download; the first file waits for it.
            self.archiver.warm(self.store_url, self.catalogue_url)
            self._heartbeat = asyncio.ensure_future(self._beat(spider))
        except SiteBusy as exc:
            log.error("%s: not crawled: %s", spider.site.id, exc)
            self.crawler.stats.set_value("nianbao/fatal", str(exc))
            self.crawler.stats.set_value("nianbao/outcome", "busy")
            self.catalogue = None
        except (StoreError, CatalogueError) as exc:
            # Nothing can be archived: say so once, and let the spider start nothing.
            log.error("%s: cannot archive: %s", spider.site.id, exc)
            self.crawler.stats.set_value("nianbao/fatal", str(exc))
            self.catalogue = None

    def _open(self, spider) -> None:
        self.store = open_store(self.store_url)
        if hasattr(self.store, "check"):
            self.store.check()
        self.catalogue = Catalogue.shared(self.catalogue_url)
        site = spider.site
        self.catalogue.upsert_site(
            site_id=site.id, agency=site.agency, kind=site.kind,
            region_name=site.region.name if site.region else None,
            region_code=site.region.code if site.region else None,
            first_year=site.first_year, config_hash=site.config_hash())
        # A distributed worker shares its site with others: their runs are alive, not stale.
        distributed = bool(self.crawler.settings.get("NIANBAO_WORKER_ID"))
        if not distributed:
            # One crawl of a site at a time: a run left `running` is ours to resume only once
            # its crawl's lease expired (or its process is gone).
            holder = self.catalogue.acquire_lease(site_id=site.id, owner=self.owner, ttl=self.lease_ttl)
            if holder is not None:
                raise SiteBusy(leases.describe(holder))
            self.leased = True
        resumable = None if distributed else self.catalogue.running_run(site_id=site.id)
        if resumable is not None:
            # The last run of this site died mid-crawl (SIGKILL, power): resume it. What it
            # captured is served from the archive, not fetched or recorded a second time.
            self.run_id = resumable.id
            spider.resumed = {c.url: {"sha256": c.sha256, "size": c.size, "storage_key": c.storage_key,
                                      "content_type": c.content_type}
                              for c in self.catalogue.captures(run_id=resumable.id)
                              if c.kind in ("page", "attachment")}
            self.catalogue.interrupt_stale_runs(site_id=site.id, keep=resumable.id)
            log.warning("%s: resuming run %d, which died mid-crawl (%d files already captured)",
                        site.id, resumable.id, len(spider.resumed))
            self.crawler.stats.set_value("nianbao/resumed_run", resumable.id)
        else:
            spider.resumed = {}
            self.run_id = self.catalogue.start_run(site_id=site.id, config_hash=site.config_hash(),
                                                   software_version=__version__)
        spider.run_id = self.run_id
        self.crawler.stats.set_value("nianbao/run_id", self.run_id)
        _OPEN_RUNS.add(self)
        if self.leased:
            self.catalogue.renew_lease(site_id=site.id, owner=self.owner, ttl=self.lease_ttl, run_id=self.run_id)
        # What earlier runs owe (storage/owed.py): the spider asks for these first.
        spider.owed_rows = [] if distributed else self.catalogue.owed(site_id=site.id)
        if spider.owed_rows:
            log.info("%s: %d files owed by earlier runs are fetched first", site.id, len(spider.owed_rows))
            self.crawler.stats.set_value("nianbao/owed_at_start", len(spider.owed_rows))
        self.spider = spider

    async def _beat(self, spider) -> None:
        """Every few seconds: renew the site's lease and write down what the run owes. A lease
        lost (this process stalled past its expiry and another crawl took the site over) stops
        this run: two runs must not write one site."""
        while True:
            await asyncio.sleep(min(HEARTBEAT, self.lease_ttl / 3))
            try:
                await asyncio.to_thread(self._write_debts, spider)
                if self.leased and not await asyncio.to_thread(
                        self.catalogue.renew_lease, site_id=spider.site.id, owner=self.owner,
                        ttl=self.lease_ttl, run_id=self.run_id):
                    log.error("%s: lease lost to another crawl: stopping this run", spider.site.id)
                    self.leased = False
                    self._stop("lease_lost")
                    return
            except CatalogueError as exc:
                log.warning("%s: heartbeat: %s", spider.site.id, exc)

    def _stop(self, reason: str) -> None:
        """Close the spider without waiting here: the close waits for items in hand, this one
        among them. Its outstanding requests are dropped, and owed at close (spiders/debts.py)."""
        task = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=reason))
        self._stopping = task       # held: the loop keeps only weak references to tasks

    def _write_debts(self, spider) -> int:
        debts = getattr(spider, "debts", None)
        if debts is None or self.catalogue is None:
            return 0
        entries = debts.take()
        if not entries:
            return 0
        try:
            return self.catalogue.owe(site_id=spider.site.id, entries=entries, run_id=self.run_id)
        except CatalogueError:
            debts.give_back(entries)
            raise

    async def process_item(self, item, spider=None):
        if not isinstance(item, FileItem):
            return item
        loop = asyncio.get_running_loop()
        try:
            while True:
                tried = loop.time()
                try:
                    outcome = await self.archiver.run(self.store_url, self.catalogue_url, self.run_id, item)
                    break
                except StoreUnavailable as exc:
                    # An outage longer than the store's own retries: hold the crawl, wait it out.
                    if not await self._wait_for_store(exc, since=tried):
                        raise
        except (ArchiveError, StoreError, CatalogueError, OSError) as exc:
            # Nothing half-written: the object is stored before any row names it. Record it as
            # owed, so the next run fetches it first, and go on. (OSError: a disk error that
            # reached here unnamed is still this file's failure, not the crawl's.)
            kind = getattr(exc, "kind", None) or f"archive_{type(exc).__name__}"
            self.crawler.stats.inc_value(f"nianbao/error/{kind}")
            log.error("%s: %s not archived: %s", item.site_id, item.url, _one_line(exc))
            debts = getattr(spider or self.crawler.spider, "debts", None)
            if debts is not None:
                debts.not_archived(item, f"{kind}: {_one_line(exc)}")
            raise DropItem(f"{item.url}: {kind}") from None
        merge_stats(self.crawler.stats, outcome)
        for warning in outcome.warnings:
            log.warning("%s", warning)
        return item

    async def _wait_for_store(self, exc: Exception, *, since: float) -> bool:
        """Pause the engine and probe the store with backoff until it answers or the wait
        (NIANBAO_STORE_OUTAGE_WAIT seconds in all, per run) runs out. True: try again.

        `since`: when the failed write began. A store that answers the probe but refuses every
        write (SeaweedFS with a full disk answers HEAD and 500s each PUT) must still use up the
        run's patience: the failed write's time counts, the first probe comes only after a
        pause, and "back" means back since this write failed, not merely answering now."""
        loop = asyncio.get_running_loop()
        async with self._outage_lock:
            if self._back_at > since:
                return True       # another item waited the outage out after this one failed
            self.outage_spent += max(0.0, loop.time() - since)
            left = self.outage_wait - self.outage_spent
            if left <= 0 or stopping.requested.is_set():
                if not stopping.requested.is_set() and self._stopping is None:
                    log.error("object store refused writes for %.0fs in all: stopping the run; its files are owed",
                              self.outage_wait)
                    self._stop("store_unavailable")
                return False      # the run's patience is spent: every file now fails at once
            engine = self.crawler.engine
            log.warning("object store unavailable (%s): pausing the crawl for up to %.0fs", _one_line(exc), left)
            self.crawler.stats.inc_value("nianbao/store_outages")
            engine.pause()
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                deadline = started + left
                delay = 1.0
                probe_at = started + delay
                while loop.time() < deadline:
                    # Short sleeps, so a Ctrl-C during the outage is heard within half a second.
                    await asyncio.sleep(max(0.0, min(0.5, probe_at - loop.time(), deadline - loop.time())))
                    if stopping.requested.is_set():
                        return False
                    if loop.time() < probe_at:
                        continue
                    if await self._store_ok():
                        log.warning("object store answers again: resuming the crawl")
                        self._back_at = loop.time()
                        return True
                    delay = min(delay * 2, 15.0)
                    probe_at = loop.time() + delay
                # A store that does not come back within the run's deadline: stop the run (what
                # it still meant to fetch is owed) rather than wait hours, one file at a time.
                log.error("object store still unavailable after %.0fs: stopping the run; its files are owed",
                          self.outage_wait)
                self._stop("store_unavailable")
                return False
            finally:
                self.outage_spent += loop.time() - started
                engine.unpause()

    async def _store_ok(self) -> bool:
        try:
            await asyncio.to_thread(self.store.check)
            return True
        except StoreError:
            return False

    async def spider_closed(self, spider, reason):
        # Connected to the spider_closed signal (not close_spider) to learn why it closed.
        # In a thread, like the open: closing a run writes to the catalogue.
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        try:
            await asyncio.to_thread(self._close_run, spider, reason)
        finally:
            if self.leased and self.catalogue is not None:
                try:
                    await asyncio.to_thread(self.catalogue.release_lease, site_id=spider.site.id, owner=self.owner)
                except CatalogueError as exc:
                    log.warning("%s: lease not released (it expires by itself): %s", spider.site.id, exc)
                self.leased = False
            if self.archiver is not None:
                archiver, self.archiver = self.archiver, None
                await asyncio.to_thread(archiver.release)

    def _close_run(self, spider, reason):
        _OPEN_RUNS.discard(self)
        if self.catalogue is None or self.run_id is None:
            return
        debts = getattr(spider, "debts", None)
        if debts is not None and not self.crawler.settings.get("NIANBAO_WORKER_ID"):
            # (A distributed worker's frontier is shared: what it asked for, another may fetch.)
            debts.end(reason)
        self._write_debts(spider)
        owed = self.catalogue.owed_count(site_id=spider.site.id)
        self.crawler.stats.set_value("nianbao/owed", owed)
        stats = self.crawler.stats.get_stats()
        errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("nianbao/error/")}
        pages = stats.get("nianbao/pages", 0)
        outcome = run_outcome(reason, pages=pages, errors=errors, owed=owed)
        not_due = getattr(spider, "not_due_reports", set())
        if not_due:
            # Listed on this run but not revalidated (crawler/revisit.py): seen all the same.
            self.catalogue.mark_seen(site_id=spider.site.id, urls=not_due)
            self.crawler.stats.set_value("nianbao/revisit/reports_not_due", len(not_due))
        tail = getattr(spider, "tail_urls", set())
        if tail:
            # Listed on list pages this run read from the archive (crawler/listtail.py): not
            # looked at, still live, their last_seen unchanged: "not looked at", not "seen".
            live = {r.url for r in self.catalogue.reports(site_id=spider.site.id) if r.removed_at is None}
            carried = ({links.canonical_url(u) for u in tail} & live) - spider.reports_seen - set(not_due)
            self.crawler.stats.set_value("nianbao/recrawl/reports_not_looked_at", len(carried))
        removed = self._mark_removed(spider, reason, outcome, errors)
        stats = self.crawler.stats.get_stats()
        plain = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in stats.items()}
        self.crawler.stats.set_value("nianbao/outcome", outcome)
        self.catalogue.finish_run(run_id=self.run_id, outcome=outcome, stats=plain, errors=errors,
                                  pages=pages, bytes=stats.get("downloader/response_bytes", 0),
                                  removed_reports=len(removed) if removed is not None else 0)

    def _mark_removed(self, spider, reason: str, outcome: str, errors: dict) -> list[int] | None:
        """Reports not seen in a complete run are marked removed, dated now. A run cut short
        (budget, errors, interruption) proves nothing about absence and marks nothing."""
        if self.crawler.settings.get("NIANBAO_WORKER_ID"):
            self.crawler.stats.set_value("nianbao/removal_check", "skipped: distributed worker sees part of the site")
            return None
        incomplete = [k for k in errors if k not in _NOT_INCOMPLETE]
        if reason != "finished" or outcome == "failed" or spider.budget_hit or incomplete:
            self.crawler.stats.set_value("nianbao/removal_check", "skipped: run incomplete")
            return None
        site = spider.site
        run = next((r for r in self.catalogue.runs(site_id=site.id, limit=5) if r.id == self.run_id), None)

        skipped = {links.canonical_url(u) for u in getattr(spider, "unread_pages", ())}
        sources = self.catalogue.report_sources(site_id=site.id) if skipped else {}

        def reachable(url: str) -> bool:
            # Only what this site's own walk could reach: a report kept under this site id from
            # other hosts (an older scope, an id shared with another crawl) proves nothing here.
            # Nor a report found on a page this run did not read (a list page taken from the
            # archive, crawler/listtail.py; a report page not due, whose files are reports too):
            # nobody looked at that page, so nothing on it is judged.
            if skipped and {links.canonical_url(s) for s in sources.get(url, ())} & skipped:
                return False
            return scope.in_scope(url, site.allowed_hosts) or scope.attachment_in_scope(url, site.allowed_hosts)

        # A list page read from the archive (crawler/listtail.py) still lists what it listed.
        listed = spider.reports_seen | {links.canonical_url(u) for u in getattr(spider, "tail_urls", ())}
        removed = self.catalogue.mark_missing(site_id=site.id, seen_urls=listed,
                                              known_before=run.started_at if run else None,
                                              reachable=reachable if site.allowed_hosts or skipped else None)
        self.crawler.stats.set_value("nianbao/removed", len(removed))
        if removed:
            log.info("%s: %d reports no longer served or listed", spider.site.id, len(removed))
        return removed


def run_outcome(reason: str, *, pages: int, errors: dict, owed: int) -> str:
    """What a run is called, from why it closed, what failed and what it leaves owed. "ok" is
    a promise: the run finished, nothing failed, and nothing of the site is owed."""
    if reason not in ("finished", "closespider_pagecount"):
        return "interrupted"
    if pages == 0 and errors:
        return "failed"
    if errors or owed:
        return "partial"
    return "ok"


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's words on one line, never a body: logs name the file and the reason."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"


def close_abandoned_runs() -> None:
    """Close the runs of this process whose spider never closed (the reactor was stopped by a
    second Ctrl-C): interrupted, their unanswered files owed, their leases released."""
    for pipeline in list(_OPEN_RUNS):
        spider = pipeline.spider
        try:
            pipeline._close_run(spider, "killed")
            if pipeline.leased:
                pipeline.catalogue.release_lease(site_id=spider.site.id, owner=pipeline.owner)
                pipeline.leased = False
        except CatalogueError as exc:
            log.error("%s: run %s left open (the next crawl resumes it): %s",
                      spider.site.id, pipeline.run_id, _one_line(exc))

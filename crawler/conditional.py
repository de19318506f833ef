"""Revalidate what the archive already holds: conditional requests for known URLs.

A URL the catalogue has archived before is requested with If-None-Match / If-Modified-Since.
A 304 becomes, for the spider, the archived answer (pages: the stored bytes, so their links can
be read again; files: no body at all, only the known hash), flagged `nianbao_unchanged` so the
pipeline records an unchanged capture and stores nothing. The 304 itself is what the WARC
records, since the WARC middleware sits nearer the downloader.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from crawler import analyses, env, revisit
from storage.objects import ObjectNotFound

log = logging.getLogger(__name__)


class NotDue(IgnoreRequest):
    """A report page or file revalidated recently enough: not asked for on this run."""

    def __init__(self, url: str, report_url: str | None, year: int | None = None):
        super().__init__(f"{url}: revalidated recently, not due")
        self.report_url = report_url     # the identity of the report it belongs to
        self.year = year                 # the year it covers (a run that skips it still has it)


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


class ConditionalMiddleware:
    def __init__(self, crawler, *, catalogue_url: str, store_url: str):
        self.crawler = crawler
        self.catalogue_url = catalogue_url
        self.store_url = store_url
        self.states: dict = {}
        self.report_urls: dict[int, str] = {}
        self.report_years: dict[int, int] = {}
        self.store = None
        self.revisit_all = False
        self.now = datetime.now(timezone.utc)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("NIANBAO_CONDITIONAL", True):
            raise NotConfigured
        mw = cls(crawler, catalogue_url=env.catalogue_url(s.get("NIANBAO_CATALOGUE")),
                 store_url=env.store_url(s.get("NIANBAO_STORE")))
        mw.revisit_all = s.getbool("NIANBAO_REVISIT_ALL", False)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    async def spider_opened(self, spider):
        # In a thread: the other sites of a harvest keep crawling while this one loads its URLs.
        await asyncio.to_thread(self._load, spider)

    def _load(self, spider):
        from storage.catalogue import Catalogue
        from storage.objects import open_store

        site = getattr(spider, "site", None)
        if site is None:
            return
        try:
            catalogue = Catalogue.shared(self.catalogue_url)
            self.states = catalogue.url_states(site_id=site.id)
            reports = catalogue.reports(site_id=site.id)
            self.report_urls = {r.id: r.url for r in reports}
            self.report_years = {r.id: r.year for r in reports}
            self.store = open_store(self.store_url)
        except Exception as exc:  # the pipeline reports an unusable catalogue; here: full fetches
            log.warning("conditional requests off for %s: %s", site.id, exc)
            self.states = {}
        self.crawler.stats.set_value("nianbao/known_urls", len(self.states))
        self.now = datetime.now(timezone.utc)
        self.revisit = site.revisit
        # What the archive knows of the site's lists, for the spider's paging (crawler/listtail.py).
        from crawler.listtail import ListTails

        spider.list_tails = ListTails(self.states, self.store, tail_days=site.revisit.list_tail_days,
                                      now=self.now, revisit_all=self.revisit_all)

    async def process_request(self, request, spider=None):
        if request.method != "GET" or request.meta.get("playwright") or request.meta.get("nianbao_no_revalidate"):
            return None
        spider = spider or self.crawler.spider
        done = getattr(spider, "resumed", {}).get(request.url)
        if done is not None:
            return await self._from_archive(request, done)
        known = self.states.get(request.url)
        if known is None:
            return None
        state, blob = known
        if not request.meta.get("nianbao_owed") and not self._due(state, blob):
            self.crawler.stats.inc_value("nianbao/revisit/not_due")
            raise NotDue(request.url, self.report_urls.get(state.report_id), self.report_years.get(state.report_id))
        if blob is None or not (state.etag or state.last_modified):
            return None
        for name, value in conditional_headers(state.etag, state.last_modified).items():
            request.headers.setdefault(name, value)
        request.meta["nianbao_revalidating"] = request.url
        return None

    def _due(self, state, blob) -> bool:
        """Lists are always due; a report's page or file by the site's revisit schedule."""
        if self.revisit_all or self.report_urls.get(state.report_id) is None or blob is None:
            return True
        if state.last_status != 200 or state.missing_since is not None:
            return True       # last seen failing or gone: look again now
        return revisit.is_due(state.last_fetched, state.unchanged_checks, self.now,
                              min_days=self.revisit.min_days, max_days=self.revisit.max_days)

    async def _from_archive(self, request, done: dict):
        """A resumed run already captured this URL: answer from the archive, no fetch."""
        self.crawler.stats.inc_value("nianbao/resumed_from_archive")
        body = b""
        if request.meta.get("nianbao_kind") != "file":
            try:
                body = await asyncio.to_thread(self.store.get, done["storage_key"])
            except Exception:      # not readable after all: fetch it like any other URL
                return None
        request.meta["nianbao_unchanged"] = {k: done[k] for k in ("sha256", "size", "storage_key")}
        request.meta["nianbao_resumed"] = True
        headers = Headers({"Content-Type": done.get("content_type") or "application/octet-stream"})
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=200, headers=headers, body=body, request=request, flags=["resumed"])

    def _archived_page(self, request, blob):
        """(body, analysis) of an unchanged page: its analysis alone when one is archived
        (the spider then has nothing to parse), else its archived bytes."""
        if request.meta.get("nianbao_kind") == "page":     # read by the spider's page analysis
            key = analyses.analysis_key(blob.sha256, request.url, blob.content_type)
            try:
                return b"", analyses.loads(self.store.get(key))
            except ObjectNotFound:
                pass
            except ValueError as exc:
                log.warning("analysis %s unreadable (%s): parsing the page again", key, exc)
        return self.store.get(blob.storage_key), None

    async def process_response(self, request, response, spider=None):
        url = request.meta.get("nianbao_revalidating")
        if response.status != 304 or url != request.url:
            return response
        state, blob = self.states[url]
        stats = self.crawler.stats
        stats.inc_value("nianbao/revalidated_unchanged")
        unchanged = {"sha256": blob.sha256, "size": blob.size, "storage_key": blob.storage_key}
        if request.meta.get("nianbao_kind") == "file":
            body = b""
        else:
            try:
                body, analysis = await asyncio.to_thread(self._archived_page, request, blob)
            except Exception as exc:  # archived bytes unreadable: fetch again in full
                log.warning("archived copy of %s unreadable (%s): fetching it again", url, exc)
                stats.inc_value("nianbao/revalidate_refetch")
                retry = request.replace(dont_filter=True)
                retry.meta["nianbao_no_revalidate"] = True
                for name in ("If-None-Match", "If-Modified-Since"):
                    retry.headers.pop(name, None)
                return retry
            if analysis is not None:
                request.meta["nianbao_analysis"] = analysis
                stats.inc_value("nianbao/analyses_loaded")
        request.meta["nianbao_unchanged"] = unchanged
        headers = Headers(response.headers)
        if blob.content_type:
            headers["Content-Type"] = blob.content_type
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=200, headers=headers, body=body, request=request,
                   flags=["revalidated"])

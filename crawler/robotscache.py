"""robots.txt asked for once a day per host, not once per run (RFC 9309 section 2.4: a crawler
may use a cached robots.txt for up to 24 hours). A harvest that recrawls a portal several
times a day otherwise spends a request per host per run on a file that rarely changes.

Scrapy's RobotsTxtMiddleware, with its answers kept in the object store under `robots/` (a cache
beside the archive, like page analyses: losing it costs one request). A cached answer older
than MAX_AGE is asked for again. Stats: nianbao/robots/cached.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from crawler import env

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600
PREFIX = "robots"


def cache_key(scheme: str, netloc: str) -> str:
    return f"{PREFIX}/{hashlib.sha256(f'{scheme}://{netloc}'.encode()).hexdigest()[:32]}.json"


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self._store = None
        self._store_url = env.store_url(crawler.settings.get("NIANBAO_STORE"))

    def _open(self):
        if self._store is None:
            from storage.objects import open_store

            self._store = open_store(self._store_url)
        return self._store

    def _cached(self, key: str) -> bytes | None:
        try:
            entry = json.loads(self._open().get(key))
            if time.time() - float(entry["fetched_at"]) < MAX_AGE:
                return base64.b64decode(entry["body"])
        except Exception:      # absent, unreadable or foreign: ask the host
            return None
        return None

    def _keep(self, key: str, body: bytes) -> None:
        try:
            data = json.dumps({"fetched_at": time.time(), "body": base64.b64encode(body).decode()}).encode()
            self._open().put(key, data, content_type="application/json")
        except Exception as exc:   # the archive's own checks report a failing store
            log.debug("robots.txt cache not written: %s", exc)

    async def robot_parser(self, request):
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            body = await asyncio.to_thread(self._cached, cache_key(url.scheme, netloc))
            if body is not None and netloc not in self._parsers:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
                self._stats.inc_value("nianbao/robots/cached")
        return await super().robot_parser(request)

    async def _parse_robots(self, response, netloc, request):
        url = urlparse_cached(request)
        await asyncio.to_thread(self._keep, cache_key(url.scheme, netloc), response.body)
        return await super()._parse_robots(response, netloc, request)

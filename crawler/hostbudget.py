"""Per-host politeness shared by every worker: one request to a host per `delay` seconds,
however many processes or machines crawl it.

Scrapy's own DOWNLOAD_DELAY holds per process only; ten workers would hit a portal ten
times as often. Here each request reserves the host's next free slot in Redis before it
goes out: a Lua script compares Redis's clock with the host's next-allowed time and either
lets the request go (moving next-allowed on by `delay`) or says how long to wait, atomically
(workers' clocks need not agree). The middleware sleeps without blocking the reactor and asks
again.

Why the middleware also caps concurrency per host: a request that waited for its slot and
then queued again in Scrapy's download slot (full with slow downloads) would leave late,
next to the one after it, and two requests would reach the host together. So in distributed
mode Scrapy's slots are left wide open and this middleware is the one gate: at most
`concurrency` requests per host in flight per worker, each leaving at its shared slot time.

Settings (all NIANBAO_HOSTBUDGET_*): ENABLED (off unless the distributed overlay turns it
on), REDIS (URL; default NIANBAO_REDIS), PREFIX (key prefix), DELAYS (host -> seconds;
default: each host's DOWNLOAD_SLOTS delay), DEFAULT_DELAY (hosts in no slot).
Stats: nianbao/hostbudget/waits (requests that had to wait), .../wait_seconds, .../errors.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import env

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "nianbao"
HELD = "nianbao_hostbudget_held"   # request meta: this request holds a concurrency place

# KEYS[1] host key; ARGV[1] delay in ms. Returns {ms still to wait, Redis time in ms}.
# A request may leave only when `delay` has passed since the last one that left: the claim
# is taken at the moment of departure, not booked ahead, so a worker that wakes late (a busy
# CPU, a slow loop) cannot send next to the request after it. Waiters sleep and ask again.
# The key expires a minute after its slot, so idle hosts leave nothing behind.
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= nxt then
  redis.call('SET', KEYS[1], now + delay, 'PX', delay + 60000)
  return {0, now}
end
return {nxt - now, now}
"""


def host_key(prefix: str, host: str) -> str:
    return f"{prefix}:host:{host}:next"


def _entry(host: str, slots: dict[str, dict]) -> dict | None:
    host = host.lower()
    while True:
        if host in slots:
            return slots[host]
        if "." not in host:
            return None
        host = host.split(".", 1)[1]


def delay_for(host: str, slots: dict[str, dict], default: float) -> float:
    """The delay of the most specific DOWNLOAD_SLOTS entry naming host or a parent domain."""
    entry = _entry(host, slots)
    return float(entry.get("delay", default)) if entry else float(default)


def concurrency_for(host: str, slots: dict[str, dict], default: int) -> int:
    entry = _entry(host, slots)
    return int(entry.get("concurrency", default)) if entry else int(default)


class HostBudgetMiddleware:
    """Downloader middleware: wait for the host's shared slot before every request."""

    def __init__(self, *, redis_url: str, prefix: str, delays: dict[str, float], default_delay: float,
                 concurrency: dict[str, int] | None = None, default_concurrency: int = 2, crawler=None):
        self.redis_url = redis_url
        self.prefix = prefix
        self.delays = {h.lower(): {"delay": d} for h, d in delays.items()}
        self.default_delay = default_delay
        self.concurrency = {h.lower(): {"concurrency": c} for h, c in (concurrency or {}).items()}
        self.default_concurrency = default_concurrency
        self._places: dict[str, asyncio.Semaphore] = {}
        self.crawler = crawler
        self.stats = crawler.stats if crawler else None
        self._client = None
        self._script = None
        self._logged_error = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("NIANBAO_HOSTBUDGET_ENABLED"):
            raise NotConfigured
        slots = s.getdict("DOWNLOAD_SLOTS")
        delays = s.getdict("NIANBAO_HOSTBUDGET_DELAYS") or {
            host: slot.get("delay", 0) for host, slot in slots.items()}
        concurrency = s.getdict("NIANBAO_HOSTBUDGET_CONCURRENCY") or {
            host: slot["concurrency"] for host, slot in slots.items() if "concurrency" in slot}
        mw = cls(redis_url=env.redis_url(s.get("NIANBAO_HOSTBUDGET_REDIS") or s.get("NIANBAO_REDIS")),
                 prefix=s.get("NIANBAO_HOSTBUDGET_PREFIX") or DEFAULT_PREFIX, delays=delays,
                 default_delay=s.getfloat("NIANBAO_HOSTBUDGET_DEFAULT_DELAY", s.getfloat("DOWNLOAD_DELAY")),
                 concurrency=concurrency,
                 default_concurrency=s.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2), crawler=crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def delay(self, host: str) -> float:
        return delay_for(host, self.delays, self.default_delay)

    async def claim(self, host: str) -> float:
        """0 when this request may leave now (the host's slot is taken), else seconds to wait."""
        if self._client is None:
            import redis.asyncio as aioredis

            self._client = aioredis.Redis.from_url(self.redis_url, socket_timeout=10,
                                                   socket_connect_timeout=5)
            self._script = self._client.register_script(RESERVE_LUA)
        wait_ms, _now = await self._script(keys=[host_key(self.prefix, host)],
                                           args=[int(round(self.delay(host) * 1000))])
        return int(wait_ms) / 1000

    def _inc(self, key: str, n: float = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"nianbao/hostbudget/{key}", n)

    def _place(self, host: str) -> asyncio.Semaphore:
        if host not in self._places:
            self._places[host] = asyncio.Semaphore(
                max(1, concurrency_for(host, self.concurrency, self.default_concurrency)))
        return self._places[host]

    def _release(self, request) -> None:
        host = request.meta.pop(HELD, None)
        if host is not None:
            self._places[host].release()

    async def process_request(self, request, spider=None):
        host = (urlsplit(request.url).hostname or "").lower()
        if not host or self.delay(host) <= 0:
            return None
        await self._place(host).acquire()
        request.meta[HELD] = host
        started, waited = time.monotonic(), False
        while True:
            try:
                wait = await self.claim(host)
            except Exception as exc:  # Redis gone: stay polite on our own rather than stop crawling
                self._inc("errors")
                if not self._logged_error:
                    self._logged_error = True
                    log.warning("host budget unavailable (%s); waiting the full delay locally", exc)
                await asyncio.sleep(self.delay(host))
                waited = True
                break
            if wait <= 0:
                break
            waited = True
            # A little spread so the waiters of one host do not all ask at the same instant.
            await asyncio.sleep(wait + random.uniform(0, 0.1 * self.delay(host)))
        if waited:
            self._inc("waits")
            self._inc("wait_seconds", round(time.monotonic() - started, 3))
        return None

    def process_response(self, request, response, spider=None):
        self._release(request)
        return response

    def process_exception(self, request, exception, spider=None):
        self._release(request)
        return None

    async def spider_closed(self, spider, reason):
        if self._client is not None:
            await self._client.aclose()
            self._client = None

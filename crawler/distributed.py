"""Distributed harvests on a Redis frontier (scrapy-redis), shared by any number of workers.

The model: a site is harvested by whichever workers are running. `nianbao enqueue` marks a
site active and stores its config; every worker runs one `reports` spider per active site
(up to its own limit). All spiders of one site share that site's request queue and
duplicate filter in Redis, so each URL is fetched once, by whichever worker pops it first.

Keys (prefix `nianbao` by default; one place, `SiteKeys`):
    {p}:sites                 set of active site ids
    {p}:{site}:config         the SiteConfig as JSON (workers need no sites/ directory)
    {p}:{site}:generation     bumped by each enqueue; a worker runs each generation once
    {p}:{site}:requests       scrapy-redis priority queue (sorted set)
    {p}:{site}:dupefilter     scrapy-redis request fingerprints
    {p}:{site}:busy           hash worker -> last time it took a request (seconds, Redis clock)

When is a site done? Not when one worker's queue looks empty: another worker may be
parsing a page that will add ten more requests. A worker marks itself busy *before* it pops
a request and clears the mark only when its spider is idle, i.e. after the outputs of every
request it took are back in the queue. So "queue empty and nobody busy", read in one
transaction, means no work is left anywhere. A busy mark older than `stale_after` belongs to
a worker that died; its requests in flight are lost (as in scrapy-redis itself) and the
site finishes without them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler import env

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "nianbao"
STALE_AFTER = 300.0          # seconds without a sign of life before a busy mark is ignored


@dataclass(frozen=True)
class SiteKeys:
    prefix: str
    site_id: str

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{self.site_id}:{name}"

    @property
    def config(self) -> str: return self._k("config")
    @property
    def generation(self) -> str: return self._k("generation")
    @property
    def requests(self) -> str: return self._k("requests")
    @property
    def dupefilter(self) -> str: return self._k("dupefilter")
    @property
    def busy(self) -> str: return self._k("busy")


def sites_key(prefix: str) -> str:
    return f"{prefix}:sites"


def _redis_now(client) -> float:
    sec, usec = client.time()
    return sec + usec / 1e6


class Frontier:
    """The shared state of distributed harvests; a plain Redis client goes in."""

    def __init__(self, client, *, prefix: str = DEFAULT_PREFIX, stale_after: float = STALE_AFTER):
        self.client = client
        self.prefix = prefix
        self.stale_after = stale_after

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "Frontier":
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()  # fail fast, with the URL in the message (see cli_scale)
        return cls(client, **kwargs)

    def keys(self, site_id: str) -> SiteKeys:
        return SiteKeys(self.prefix, site_id)

    # --- enqueueing ---------------------------------------------------------------------
    def enqueue(self, site, *, restart: bool = False) -> bool:
        """Start a fresh harvest of site (a SiteConfig). False when one is already under way
        (unless restart, which throws that one's frontier away)."""
        k = self.keys(site.id)
        if self.is_active(site.id) and not restart:
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(k.requests, k.dupefilter, k.busy)
        pipe.set(k.config, site.model_dump_json())
        pipe.incr(k.generation)
        pipe.sadd(sites_key(self.prefix), site.id)
        pipe.execute()
        return True

    def active_sites(self) -> list[str]:
        return sorted(m.decode() for m in self.client.smembers(sites_key(self.prefix)))

    def is_active(self, site_id: str) -> bool:
        return bool(self.client.sismember(sites_key(self.prefix), site_id))

    def config(self, site_id: str):
        from crawler.siteconfig import SiteConfig

        raw = self.client.get(self.keys(site_id).config)
        return SiteConfig.model_validate_json(raw) if raw else None

    def generation(self, site_id: str) -> int:
        return int(self.client.get(self.keys(site_id).generation) or 0)

    def pending(self, site_id: str) -> int:
        return int(self.client.zcard(self.keys(site_id).requests))

    # --- who is working -----------------------------------------------------------------
    def mark_busy(self, site_id: str, worker: str) -> None:
        self.client.hset(self.keys(site_id).busy, worker, _redis_now(self.client))

    def mark_idle(self, site_id: str, worker: str) -> None:
        self.client.hdel(self.keys(site_id).busy, worker)

    def finish_if_done(self, site_id: str) -> bool:
        """True when no work is left for site anywhere; the site is then no longer active."""
        k = self.keys(site_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.zcard(k.requests)
        pipe.hgetall(k.busy)
        pipe.time()
        queued, busy, (sec, usec) = pipe.execute()
        now = sec + usec / 1e6
        live = [w for w, t in busy.items() if now - float(t) < self.stale_after]
        if queued or live:
            return False
        self.client.srem(sites_key(self.prefix), site_id)
        log.info("%s: harvest complete on the shared frontier", site_id)
        return True


class SiteScheduler(RedisScheduler):
    """scrapy-redis scheduler on the site's own keys; marks this worker busy before each pop."""

    frontier: Frontier
    worker_id: str

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.get("NIANBAO_WORKER_ID"):
            raise NotConfigured("SiteScheduler needs NIANBAO_WORKER_ID (set by distributed_settings)")
        instance = super().from_crawler(crawler)
        instance.frontier = Frontier(instance.server, prefix=s.get("NIANBAO_FRONTIER_PREFIX", DEFAULT_PREFIX),
                                     stale_after=s.getfloat("NIANBAO_FRONTIER_STALE_AFTER", STALE_AFTER))
        instance.worker_id = s.get("NIANBAO_WORKER_ID")
        return instance

    def open(self, spider):
        keys = self.frontier.keys(spider.site.id)
        # scrapy-redis formats this with %(spider)s; site ids are slugs, so it stays as is.
        self.queue_key = keys.requests
        from scrapy_redis.dupefilter import RFPDupeFilter

        self.df = RFPDupeFilter(self.server, key=keys.dupefilter,
                                debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        return super().open(spider)

    def close(self, reason):
        # Never flush: the queue and fingerprints belong to every worker of the site.
        return None

    def next_request(self):
        self.frontier.mark_busy(self.spider.site.id, self.worker_id)
        return super().next_request()


class SiteLease:
    """Extension: keeps a site's spider open while any worker still has work for the site."""

    def __init__(self, crawler, *, frontier: Frontier, worker: str):
        self.crawler = crawler
        self.frontier = frontier
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.get("NIANBAO_WORKER_ID"):
            raise NotConfigured
        frontier = Frontier.from_url(s.get("REDIS_URL"), prefix=s.get("NIANBAO_FRONTIER_PREFIX", DEFAULT_PREFIX),
                                     stale_after=s.getfloat("NIANBAO_FRONTIER_STALE_AFTER", STALE_AFTER))
        ext = cls(crawler, frontier=frontier, worker=s.get("NIANBAO_WORKER_ID"))
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def spider_idle(self, spider):
        frontier = self.frontier
        site_id = spider.site.id
        frontier.mark_idle(site_id, self.worker)
        if not frontier.is_active(site_id):
            return  # finished (or restarted) elsewhere: close
        if frontier.finish_if_done(site_id):
            return
        self.crawler.stats.inc_value("nianbao/frontier/idle_waits")
        raise DontCloseSpider


def worker_id() -> str:
    import os
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def distributed_settings(settings, *, redis_url: str | None = None, prefix: str = DEFAULT_PREFIX,
                         worker: str | None = None, stale_after: float = STALE_AFTER) -> None:
    """Overlay on a crawl's Settings (from runner.build_settings) for the shared frontier.

    Politeness moves from Scrapy's per-process slot delay to the shared host budget: each
    host keeps its configured delay, now across all workers, and its per-process concurrency.
    """
    url = env.redis_url(redis_url)
    put = lambda key, value: settings.set(key, value, priority="cmdline")  # noqa: E731
    put("SCHEDULER", "crawler.distributed.SiteScheduler")
    put("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter")
    put("SCHEDULER_PERSIST", True)
    put("SCHEDULER_FLUSH_ON_START", False)
    put("REDIS_URL", url)
    put("NIANBAO_REDIS", url)
    put("NIANBAO_WORKER_ID", worker or worker_id())
    put("NIANBAO_FRONTIER_PREFIX", prefix)
    put("NIANBAO_FRONTIER_STALE_AFTER", stale_after)

    slots = settings.getdict("DOWNLOAD_SLOTS")
    put("NIANBAO_HOSTBUDGET_ENABLED", True)
    put("NIANBAO_HOSTBUDGET_PREFIX", prefix)
    put("NIANBAO_HOSTBUDGET_DELAYS", {host: slot.get("delay", 0) for host, slot in slots.items()})
    put("NIANBAO_HOSTBUDGET_DEFAULT_DELAY", settings.getfloat("DOWNLOAD_DELAY"))
    put("NIANBAO_HOSTBUDGET_CONCURRENCY", {host: slot.get("concurrency", settings.getint(
        "CONCURRENT_REQUESTS_PER_DOMAIN")) for host, slot in slots.items()})
    # The host budget is the one gate (see crawler.hostbudget): Scrapy's slots stay wide open.
    wide = settings.getint("CONCURRENT_REQUESTS")
    put("DOWNLOAD_SLOTS", {host: {**slot, "delay": 0, "jitter": 0, "concurrency": wide}
                           for host, slot in slots.items()})
    put("DOWNLOAD_DELAY", 0)
    put("CONCURRENT_REQUESTS_PER_DOMAIN", wide)

    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    # Just before the WARC recorder (950): retries and redirects pass here again, and the
    # recorded exchange starts after the wait.
    middlewares["crawler.hostbudget.HostBudgetMiddleware"] = 940
    put("DOWNLOADER_MIDDLEWARES", middlewares)
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions["crawler.distributed.SiteLease"] = 510
    put("EXTENSIONS", extensions)

"""The shared per-host budget: which delay applies, slot reservation on a real Redis from
many clients at once, and the middleware's non-blocking wait inside a real asyncio loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawler.hostbudget import RESERVE_LUA, HostBudgetMiddleware, delay_for, host_key

SLOTS = {"www.a.gov.cn": {"delay": 2.0}, "a.gov.cn": {"delay": 1.0}, "b.gov.cn": {"delay": 0.5},
         "c.gov.cn": {}}


@pytest.mark.parametrize("host,expected", [
    ("www.a.gov.cn", 2.0),        # exact entry wins over the parent domain
    ("xxgk.a.gov.cn", 1.0),       # parent domain entry
    ("deep.xxgk.a.gov.cn", 1.0),  # any depth under it
    ("WWW.B.GOV.CN", 0.5),        # hostnames are case-insensitive
    ("c.gov.cn", 3.0),            # an entry without a delay: the default
    ("other.cn", 3.0),            # no entry: the default
    ("gov.cn", 3.0),              # a parent of entries is not covered by them
])
def test_delay_for(host, expected):
    assert delay_for(host, SLOTS, 3.0) == expected


@pytest.mark.services
def test_claims_from_many_clients_are_spaced_by_the_delay(redis_url):
    """Twelve clients in threads claim the same host at once, each asking again after the wait
    it is told: the departures granted, on Redis's clock, are at least `delay` apart; another
    host is not held up by them."""
    delay_ms = 100
    granted: list[tuple[str, int]] = []
    lock = threading.Lock()

    def claim(host):
        client = redis.Redis.from_url(redis_url)
        script = client.register_script(RESERVE_LUA)
        while True:
            wait, now = script(keys=[host_key("t", host)], args=[delay_ms])
            if int(wait) == 0:
                break
            time.sleep(int(wait) / 1000)
        with lock:
            granted.append((host, int(now)))
        client.close()

    threads = [threading.Thread(target=claim, args=("h.gov.cn",)) for _ in range(12)]
    threads.append(threading.Thread(target=claim, args=("other.gov.cn",)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots = sorted(t for h, t in granted if h == "h.gov.cn")
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert len(slots) == 12
    assert min(gaps) >= delay_ms, gaps
    other = [t for h, t in granted if h == "other.gov.cn"][0]
    assert other - min(slots) < 5 * delay_ms, "an unrelated host waited for h.gov.cn"
    ttl = redis.Redis.from_url(redis_url).pttl(host_key("t", "h.gov.cn"))
    assert 0 < ttl <= delay_ms + 60_000  # idle hosts expire


def _middleware(redis_url: str, **settings) -> tuple[HostBudgetMiddleware, object]:
    crawler = get_crawler(settings_dict={
        "NIANBAO_HOSTBUDGET_ENABLED": True, "NIANBAO_REDIS": redis_url, "NIANBAO_HOSTBUDGET_PREFIX": "t",
        "DOWNLOAD_SLOTS": {"a.gov.cn": {"delay": 0.3}, "fast.gov.cn": {"delay": 0}},
        "DOWNLOAD_DELAY": 0.1, **settings})
    crawler.stats.open_spider()
    return HostBudgetMiddleware.from_crawler(crawler), crawler


@pytest.mark.services
def test_middleware_paces_requests_without_blocking_the_loop(redis_url):
    mw, crawler = _middleware(redis_url)

    async def scenario():
        ticks = 0

        async def ticker():  # proves the loop keeps running while requests wait
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        tick_task = asyncio.ensure_future(ticker())
        start = time.monotonic()
        done: list[tuple[str, float]] = []

        async def one(url):
            await mw.process_request(Request(url))
            done.append((url, time.monotonic() - start))

        await asyncio.gather(*(one(f"http://www.a.gov.cn/p{i}") for i in range(4)),
                             one("http://fast.gov.cn/"), one("http://elsewhere.cn/"))
        tick_task.cancel()
        await mw.spider_closed(None, "finished")
        return ticks, done

    ticks, done = asyncio.run(scenario())
    paced = sorted(t for u, t in done if "a.gov.cn" in u)
    assert paced[-1] >= 3 * 0.3 - 0.01          # four requests need three full gaps
    # Requests to other hosts were not held behind a.gov.cn's queue.
    assert dict(done)["http://fast.gov.cn/"] < paced[1]       # delay 0: never asks Redis
    assert dict(done)["http://elsewhere.cn/"] < paced[1]      # default delay, first request: no wait
    assert ticks >= 10
    stats = crawler.stats.get_stats()
    assert stats["nianbao/hostbudget/waits"] == 3              # only a.gov.cn's later three waited
    assert stats["nianbao/hostbudget/wait_seconds"] >= 0.3 + 0.6 + 0.9 - 0.05


def test_middleware_is_off_unless_enabled():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        HostBudgetMiddleware.from_crawler(get_crawler(settings_dict={}))


def test_redis_down_falls_back_to_a_local_wait():
    mw, crawler = _middleware("redis://127.0.0.1:1/0")

    async def scenario():
        start = time.monotonic()
        await mw.process_request(Request("http://www.a.gov.cn/"))
        await mw.process_request(Request("http://www.a.gov.cn/2"))
        return time.monotonic() - start

    elapsed = asyncio.run(scenario())
    assert elapsed >= 2 * 0.3 - 0.02
    assert crawler.stats.get_value("nianbao/hostbudget/errors") == 2

"""Scheduler queues holding a small frontier in memory and spilling the rest to disk pop in
exactly the order of Scrapy's disk queues alone."""
from __future__ import annotations

import random

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.queues import SpillingFifoQueue, SpillingLifoQueue


class _Spider(scrapy.Spider):
    name = "q"


def _queue(cls, tmp_path, in_memory=5):
    crawler = get_crawler(_Spider)
    crawler.spider = _Spider()
    return cls(crawler, str(tmp_path / "q"), in_memory)


def _ops(seed: int, n: int = 400):
    rng = random.Random(seed)
    return [("push", i) if rng.random() < 0.6 else ("pop", None) for i in range(n)]


@pytest.mark.parametrize("cls, lifo", [(SpillingLifoQueue, True), (SpillingFifoQueue, False)])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("in_memory", [0, 3, 50])
def test_pops_in_the_order_of_a_plain_queue(tmp_path, cls, lifo, seed, in_memory):
    q = _queue(cls, tmp_path, in_memory)
    model: list[str] = []
    for op, i in _ops(seed):
        if op == "push":
            url = f"http://x.gov.cn/{i}.html"
            q.push(scrapy.Request(url))
            model.append(url)
        else:
            got = q.pop()
            want = (model.pop() if lifo else model.pop(0)) if model else None
            assert (got.url if got else None) == want
        assert len(q) == len(model)
    while model:
        assert q.pop().url == (model.pop() if lifo else model.pop(0))
    assert q.pop() is None and len(q) == 0


@pytest.mark.parametrize("cls, lifo", [(SpillingLifoQueue, True), (SpillingFifoQueue, False)])
def test_close_leaves_everything_on_disk_in_order(tmp_path, cls, lifo):
    q = _queue(cls, tmp_path, in_memory=4)
    urls = [f"http://x.gov.cn/{i}.html" for i in range(10)]
    for url in urls:
        q.push(scrapy.Request(url))
    assert q.disk is not None and 0 < len(q.disk) < 10        # some in memory, some spilled
    q.close()
    again = _queue(cls, tmp_path, in_memory=4)
    assert len(again) == 10
    popped = [again.pop().url for _ in range(10)]
    assert popped == (urls[::-1] if lifo else urls)


def test_a_small_frontier_never_touches_disk(tmp_path):
    q = _queue(SpillingLifoQueue, tmp_path, in_memory=100)
    for i in range(100):
        q.push(scrapy.Request(f"http://x.gov.cn/{i}.html"))
    assert q.disk is None and len(q) == 100
    assert not (tmp_path / "q").exists()

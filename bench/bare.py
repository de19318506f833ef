"""A bare Scrapy spider that replays a list of exchanges (method, URL, body) through a proxy:
no recognition, no link scoring, no store, no catalogue. Same concurrency, delay and size limit
as the full crawl. Run as `python -m bench.bare FILE.json PROXY [--tuned-gc]`; prints a JSON line
of its stats. Stock Scrapy by default; `--tuned-gc` gives it nianbao's garbage-collector settings.

It knows every URL up front, so it never waits on a parse to learn the next one: an upper bound
on what any crawler of these pages could do with these settings.
"""
from __future__ import annotations

import json
import sys

import scrapy
from scrapy.crawler import CrawlerProcess

BARE_SETTINGS = {
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,     # the farm's politeness: concurrency 4, delay 0
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_MAXSIZE": 5_000_000,
    "ROBOTSTXT_OBEY": False,                 # robots.txt fetches are in the replayed list already
    "REDIRECT_ENABLED": False,               # so are the redirect targets
    "RETRY_ENABLED": False,
    "HTTPERROR_ALLOW_ALL": True,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "ERROR",
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}


class ReplaySpider(scrapy.Spider):
    name = "replay"

    def __init__(self, exchanges: list, proxy: str, **kwargs):
        super().__init__(**kwargs)
        self.exchanges = exchanges
        self.proxy = proxy

    async def start(self):
        for method, url, body in self.exchanges:
            yield scrapy.Request(url, method=method, body=body.encode("latin-1") if body else None,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"} if body else None,
                                 meta={"proxy": self.proxy}, dont_filter=True, callback=self.parse)

    def parse(self, response):
        self.crawler.stats.inc_value("replay/bytes", len(response.body))


def main(path: str, proxy: str, tuned: bool = False) -> None:
    with open(path, encoding="utf-8") as fh:
        exchanges = json.load(fh)
    if tuned:
        # The collector settings nianbao's own crawls run with (crawler/runner.py), for comparison.
        from crawler.runner import tune_gc
        tune_gc()
    process = CrawlerProcess(BARE_SETTINGS)
    crawler = process.create_crawler(ReplaySpider)
    process.crawl(crawler, exchanges=exchanges, proxy=proxy)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"seconds": stats.get("elapsed_time_seconds"),
                      "responses": stats.get("response_received_count", 0),
                      "bytes": stats.get("replay/bytes", 0)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], tuned="--tuned-gc" in sys.argv[3:])

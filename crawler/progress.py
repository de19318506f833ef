"""Progress of a long crawl: pages, reports found, errors. A live line on a terminal,
plain log lines elsewhere (cron, CI, containers)."""
from __future__ import annotations

import logging
import sys

from scrapy import signals
from twisted.internet import task

log = logging.getLogger("nianbao.progress")


def snapshot(stats: dict) -> dict:
    errors = sum(v for k, v in stats.items() if k.startswith("nianbao/error/"))
    return {"pages": stats.get("nianbao/pages", 0), "reports": stats.get("nianbao/reports", 0),
            "files": stats.get("nianbao/archived_files", 0), "errors": errors}


class Progress:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop = None
        self.tty = sys.stderr.isatty()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.getfloat("NIANBAO_PROGRESS_INTERVAL", 10.0))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider):
        if self.interval > 0:
            self.loop = task.LoopingCall(self.report, spider)
            self.loop.start(self.interval, now=False)

    def report(self, spider):
        s = snapshot(self.crawler.stats.get_stats())
        # Links taken for reports so far, not yet the summary's "reports" (crawler/counts.py:
        # distinct reports of the catalogue, counted when the run closes).
        line = (f"{spider.site.id}: {s['pages']} pages, {s['reports']} report links, "
                f"{s['files']} files archived, {s['errors']} errors")
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
        else:
            log.info(line)

    def closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.tty:
            sys.stderr.write("\r\x1b[2K")

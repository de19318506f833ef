"""Scrapy's retry middleware, with two things an archive crawl needs from it:

- A host that does not resolve is asked once more, not RETRY_TIMES more: a DNS answer does not
  improve within seconds, and offline every site of a harvest spent its retries on it. After a
  host failed twice in a run, its further requests are not retried at all (`DNS_RETRY_TIMES`).
- The hosts behind each network failure are kept in the stats (`nianbao/error_hosts/<kind>`, a
  few per kind), so the harvest summary says `dns×1 (www.example.gov.cn)`, not just `dns×1`.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware as ScrapyRetryMiddleware

from crawler.errors import error_kind

DNS_RETRY_TIMES = 1
HOSTS_KEPT = 5       # per kind: enough to name them in a summary line


class RetryMiddleware(ScrapyRetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.dns_retry_times = settings.getint("DNS_RETRY_TIMES", DNS_RETRY_TIMES)
        self.unresolvable: set[str] = set()

    def process_exception(self, request, exception, spider=None):
        kind = error_kind(exception)
        host = urlsplit(request.url).hostname or ""
        self._note_host(kind, host)
        if kind == "dns" and not request.meta.get("dont_retry", False):
            if host in self.unresolvable:
                return None
            meta = {**request.meta, "give_up_log_level": logging.INFO,   # the summary names the host
                    "max_retry_times": min(request.meta.get("max_retry_times", self.max_retry_times),
                                           self.dns_retry_times)}
            retry = self._retry(request.replace(meta=meta), exception)
            if retry is None:
                self.unresolvable.add(host)
            return retry
        return super().process_exception(request, exception)

    def _note_host(self, kind: str, host: str) -> None:
        if not host or kind in ("ignored", "off_scope", "robots_disallowed"):
            return
        stats = self.crawler.stats
        key = f"nianbao/error_hosts/{kind}"
        hosts = list(stats.get_value(key) or [])
        if host not in hosts and len(hosts) < HOSTS_KEPT:
            stats.set_value(key, [*hosts, host])

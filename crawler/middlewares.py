"""Downloader middlewares of nianbao."""
from __future__ import annotations

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler import scope


class OutOfScope(IgnoreRequest):
    """A request (most often a redirect's target) outside the hosts the site may fetch from."""


class ScopeMiddleware:
    """Every request the crawl sends stays in the site's scope, redirects included: a report
    attachment answering 302 to http://169.254.169.254/ (a cloud metadata address), to another
    port of the same host or to a protocol-relative foreign URL is not followed, nor is a start
    URL that redirects there. Files may come from a sibling host of the site's domain (crawler.scope
    says which); pages only from the allowed hosts. First in the chain, so not even robots.txt of
    the foreign host is asked for."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        site = getattr(spider, "site", None)
        if site is None or not site.allowed_hosts:
            return None
        if request.meta.get("nianbao_kind") in ("file", "script"):
            ok = scope.attachment_in_scope(request.url, site.allowed_hosts)
        else:
            ok = scope.in_scope(request.url, site.allowed_hosts)
        if ok:
            return None
        self.crawler.stats.inc_value("nianbao/off_scope")
        origin = (request.meta.get("redirect_urls") or [None])[0]
        raise OutOfScope(f"{request.url} is outside the site's hosts" + (f" (redirected from {origin})" if origin else ""))


class ProxyMiddleware:
    """Send every request through NIANBAO_PROXY when set (the standard *_proxy variables are
    honoured by Scrapy's own HttpProxyMiddleware, which runs after this one)."""

    def __init__(self, proxy: str):
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler):
        proxy = crawler.settings.get("NIANBAO_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request, spider=None):
        request.meta.setdefault("proxy", self.proxy)

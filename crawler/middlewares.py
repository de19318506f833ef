"""Downloader middlewares of nianbao."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import scope


class OutOfScope(IgnoreRequest):
    """A request (most often a redirect's target) outside the hosts the site may fetch from."""


class ScopeMiddleware:
    """Every request the crawl sends stays in the site's scope, redirects included: a report
    attachment answering 302 to http://169.254.169.254/ (a cloud metadata address), to another
    port of the same host or to a protocol-relative foreign URL is not followed, nor is a start
    URL that redirects there. Files may come from a sibling host of the site's domain (crawler.scope
    says which); pages only from the allowed hosts. First in the chain, so not even robots.txt of
    the foreign host is asked for. Only http(s); an internal address (10.x, 127.x, 169.254.x, ...)
    only when the site names it or allows it (`allow_private`).

    A name is resolved here, through Scrapy's own caching resolver, and refused when it answers
    an internal address: government domains publish internal names (oa.x.gov.cn -> 10.1.2.3,
    split DNS), and a sibling-host attachment link there would reach the harvest machine's own
    network. The resolver caches without expiry for the run, so the connection that follows uses
    the very address checked (no DNS rebinding in between). Behind a proxy the proxy resolves,
    and its answer is not ours to see: no lookup then."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.proxied = bool(crawler.settings.get("NIANBAO_PROXY")) or bool(
            {"http", "https"} & set(getproxies()))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        site = getattr(spider, "site", None)
        if site is None or not site.allowed_hosts:
            return None
        allow_private = getattr(site, "allow_private", False)
        why = scope.refusal(request.url, site.allowed_hosts, allow_private=allow_private,
                            attachment=request.meta.get("nianbao_kind") in ("file", "script", "browser_static"))
        if why is None and not self.proxied and not request.meta.get("proxy"):
            why = await self._resolved_refusal(request.url, site.allowed_hosts, allow_private)
        if why is None:
            return None
        self.crawler.stats.inc_value("nianbao/off_scope")
        self.crawler.stats.inc_value(f"nianbao/off_scope/{why}")
        origin = (request.meta.get("redirect_urls") or [None])[0]
        raise OutOfScope(f"{request.url} is outside the site's scope ({_WHY[why]})"
                         + (f", redirected from {origin}" if origin else ""))

    async def _resolved_refusal(self, url: str, allowed_hosts: list[str], allow_private: bool) -> str | None:
        host = urlsplit(url).hostname or ""
        if allow_private or scope.ip_literal(host) is not None or scope.named_explicitly(host, allowed_hosts):
            return None
        from twisted.internet import reactor

        try:
            answer = await maybe_deferred_to_future(reactor.resolver.getHostByName(host))
            ip = ipaddress.ip_address(answer)
        except Exception:  # no answer: the download itself fails and records it (dns)
            return None
        return "address" if scope.address_refused(ip, host, allowed_hosts) else None


_WHY = {"scheme": "only http and https", "address": "an internal address the site does not name",
        "host": "not one of the site's hosts"}


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

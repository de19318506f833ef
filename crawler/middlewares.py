"""Downloader middlewares of nianbao."""
from __future__ import annotations

from scrapy.exceptions import NotConfigured


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

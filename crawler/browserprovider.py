"""scrapy-playwright, as nianbao runs it: the browser provider (`PLAYWRIGHT_BROWSER_PROVIDER`)
and the download handler that keeps Chromium inside the site's scope.

Its own module so that crawler.rendering, which every crawl loads, does not load
scrapy-playwright and Playwright: only a crawl that renders does.
"""
from __future__ import annotations

import logging

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.provider import PlaywrightBrowserProvider

from crawler import scope

log = logging.getLogger(__name__)


class LazyBrowserProvider(PlaywrightBrowserProvider):
    """scrapy-playwright's provider, starting Playwright's driver (a node process) only when a
    page first needs the browser. The stock provider starts it as the crawl starts, once per
    download handler: two driver processes per site crawler, seconds of start-up and memory for
    every plain portal of a multi-site harvest that never renders anything."""

    async def start(self) -> None:
        pass

    async def _started(self) -> None:
        if self.playwright is None:
            await super().start()

    async def launch_browser(self):
        await self._started()
        return await super().launch_browser()

    async def launch_persistent_context(self, context_kwargs: dict):
        await self._started()
        return await super().launch_persistent_context(context_kwargs)


class ScopedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """Every request Chromium makes while drawing a page is judged by crawler.scope before it
    leaves: a page's script fetching another port, an <img> on 169.254.169.254, a `location=`
    jump to a foreign host, an ftp: or file: link are aborted (`nianbao/browser_off_scope`).

    One handler per crawler, one site per crawler: the site is the crawler's spider's.
    Navigations (top frame and frames) are pages: the allowed hosts only, as for plain requests.
    Subresources (scripts, styles, images, fonts, XHR) follow the attachment rule: portals serve
    their static files and JS from sibling hosts of their own domain (static., file., xxgk.),
    and a page drawn without them is the starved page we rendered it to avoid; an unrelated host
    (a CDN, an analytics beacon) is never the report and is not asked. WebSockets are judged as
    their http(s) equivalents; service workers are blocked, since page routes do not see what a
    worker fetches."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._scope_proxy = None
        from crawler.browsergate import BrowserGate

        # What passes the scope check is judged for politeness next (crawler/browsergate.py);
        # the spider reaches the gate through the crawler to keep copies of what the browser got.
        # One gate per crawler: Scrapy builds a handler for http and another for https.
        if getattr(crawler, "browser_gate", None) is None:
            crawler.browser_gate = BrowserGate(crawler)
        self.gate = crawler.browser_gate

    def _site(self):
        return getattr(getattr(self._crawler, "spider", None), "site", None)

    def refusal(self, url: str, *, navigation: bool) -> str | None:
        site = self._site()
        if site is None or not site.allowed_hosts:
            return None
        if url.startswith("blob:"):   # the page's own objects: no network, same origin
            return None
        return scope.refusal(url, site.allowed_hosts, attachment=not navigation,
                             allow_private=getattr(site, "allow_private", False))

    def _count(self, url: str, why: str) -> None:
        self.stats.inc_value("nianbao/browser_off_scope")
        self.stats.inc_value(f"nianbao/browser_off_scope/{why}")
        log.info("browser request to %s aborted: outside the site's scope (%s)", url, why)

    def _make_request_handler(self, **kwargs):
        # Before scrapy-playwright's own handler (headers, PLAYWRIGHT_ABORT_REQUEST): a refused
        # navigation ends as ERR_ABORTED, which leaves the page that asked for it in place (a
        # plain failure would replace it with Chromium's error page, and its links with none);
        # a refused subresource as ERR_BLOCKED_BY_CLIENT, what an ad blocker makes of it.
        inner = super()._make_request_handler(**kwargs)

        async def handler(route, request) -> None:
            navigation = request.is_navigation_request()
            why = self.refusal(request.url, navigation=navigation)
            if why is None:
                return await self.gate.handle(route, request, inner)
            self._count(request.url, why)
            await route.abort("aborted" if navigation else "blockedbyclient")

        return handler

    async def _websocket(self, ws) -> None:
        url = "http" + ws.url[2:] if ws.url.startswith("ws") else ws.url
        why = self.refusal(url, navigation=False)
        if why is None:
            ws.connect_to_server()
            return
        self._count(ws.url, why)
        await ws.close(code=1008, reason="outside the site's scope")

    def _allowed(self) -> tuple[list[str], bool]:
        site = self._site()
        return (site.allowed_hosts if site else []), bool(getattr(site, "allow_private", False))

    def _proxy_refused(self, url: str, why: str) -> None:
        self.stats.inc_value("nianbao/browser_off_scope/unrouted")   # a redirect hop, most often
        self._count(url, why)

    async def _maybe_launch_browser(self) -> None:
        # Chromium's every connection goes through the scope proxy (crawler/browserproxy.py says
        # why the routes are not enough); an operator's --proxy becomes its upstream.
        if self._scope_proxy is None:
            from crawler.browserproxy import ScopeProxy

            launch = self.config.launch_options
            upstream = (launch.get("proxy") or {}).get("server")
            self._scope_proxy = ScopeProxy(judge=lambda url: self.refusal(url, navigation=False),
                                           allowed=self._allowed, upstream=upstream,
                                           on_refused=self._proxy_refused)
            launch["proxy"] = {"server": await self._scope_proxy.start()}
        await super()._maybe_launch_browser()
        from crawler import fontprobe   # once per process: can this Chromium draw Chinese?

        await fontprobe.check_once(getattr(self, "browser", None), self.stats)

    async def _download_request_with_retry(self, request, spider):
        # A page fetched plainly first is handed to Chromium from that answer: one fetch per URL.
        self.gate.expect(request.url, request.meta.get("nianbao_plain"))
        try:
            return await super()._download_request_with_retry(request, spider)
        finally:
            self.gate.forget(request.url)

    async def _close(self) -> None:
        self.gate.close()
        await super()._close()
        if self._scope_proxy is not None:
            await self._scope_proxy.close()

    async def _create_browser_context(self, name, context_kwargs, spider=None):
        kwargs = {**(context_kwargs or {}), "service_workers": "block"}
        wrapper = await super()._create_browser_context(name, kwargs, spider)
        await wrapper.context.route_web_socket("**", self._websocket)
        return wrapper

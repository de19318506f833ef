"""The browser provider scrapy-playwright is given (`PLAYWRIGHT_BROWSER_PROVIDER`).

Its own module so that crawler.rendering, which every crawl loads, does not load
scrapy-playwright and Playwright: only a crawl that renders does.
"""
from __future__ import annotations

from scrapy_playwright.provider import PlaywrightBrowserProvider


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

"""Browser rendering through scrapy-playwright: settings, page methods, challenge middleware.

Chromium comes from the operating system (Debian's `chromium`), never downloaded. The browser
starts lazily: scrapy-playwright launches it on the first request that asks for it, so a crawl
of plain portals starts none (the `playwright/browser_count` stat stays absent).
"""
from __future__ import annotations

import asyncio
import logging

from scrapy.http import Request

from crawler import env
from crawler.render import challenge_kind, looks_like_challenge

log = logging.getLogger(__name__)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SETTLE_TIMEOUT_MS = 8000
# A second look (crawler.render: SECOND_LOOKS) waits longer for quiet, then for the DOM to stop
# changing: a page drawn in steps shows its last step.
PATIENT_TIMEOUT_MS = 30000
STABLE_POLL_S = 0.5
STABLE_MAX_S = 10.0
CHALLENGE_ROUNDS = 5


def _page_method(fn):
    # Imported here: a crawl that renders nothing never loads scrapy-playwright (nor Playwright).
    from scrapy_playwright.page import PageMethod

    return PageMethod(fn)


def playwright_settings(*, proxy: str | None, chromium: str | None = None, max_contexts: int = 2,
                        max_pages_per_context: int = 4) -> dict:
    launch = {"executable_path": chromium or env.chromium_path(), "headless": True, "args": LAUNCH_ARGS}
    proxy = proxy or env.proxy_from_env()
    if proxy:
        launch["proxy"] = {"server": proxy}
    return {
        "DOWNLOAD_HANDLERS": {
            # scrapy-playwright's handler, with every browser request judged by crawler.scope
            "http": "crawler.browserprovider.ScopedPlaywrightHandler",
            "https": "crawler.browserprovider.ScopedPlaywrightHandler",
        },
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_BROWSER_PROVIDER": "crawler.browserprovider.LazyBrowserProvider",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_MAX_CONTEXTS": max_contexts,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max_pages_per_context,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30000,
    }


async def settle(page) -> None:
    """Wait until the page has drawn itself: network idle, and past any challenge reloads.

    The load event fires before timers and XHR, so wait for the network to go quiet; a
    challenge page reloads itself once its cookie is set, so wait again while it still
    looks like one. Bounded: a page that never settles is taken as it is."""
    for _ in range(CHALLENGE_ROUNDS):
        try:
            await page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)
        except Exception:  # timeouts and navigation races: take what is there
            pass
        try:
            html = await page.content()
        except Exception:  # navigating right now: let it finish
            await asyncio.sleep(0.2)
            continue
        if not looks_like_challenge(html):
            return
        await asyncio.sleep(0.3)


async def settle_patiently(page) -> None:
    """settle, for a second look: a longer wait for quiet, then until two reads of the DOM
    STABLE_POLL_S apart are the same (within STABLE_MAX_S)."""
    try:
        await page.wait_for_load_state("networkidle", timeout=PATIENT_TIMEOUT_MS)
    except Exception:  # timeouts and navigation races: take what is there
        pass
    before, waited = None, 0.0
    while waited < STABLE_MAX_S:
        try:
            now = await page.content()
        except Exception:  # navigating right now: let it finish
            now = None
        if now is not None and now == before:
            break
        before = now
        await asyncio.sleep(STABLE_POLL_S)
        waited += STABLE_POLL_S
    await settle(page)


def render_meta(*, patient: bool = False, **extra) -> dict:
    meta = {"playwright": True, "playwright_include_page": True,
            "playwright_page_methods": [_page_method(settle_patiently if patient else settle)],
            # every exchange the browser makes goes to the WARC too (spider method name)
            "playwright_page_event_handlers": {"response": "on_browser_response",
                                               "requestfailed": "on_browser_request_failed"}}
    meta.update(extra)
    return meta


class ChallengeMiddleware:
    """A plain answer that is a JS challenge goes to the browser once; the cookies the browser
    earns ride on a plain retry, and stay in Scrapy's cookie jar for every later request."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        spider = spider or self.crawler.spider
        if request.meta.get("playwright"):
            return response
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        kind = challenge_kind(response.status, headers, response.body)
        if kind is None:
            return response
        stats = self.crawler.stats
        stats.inc_value(f"nianbao/challenge/{kind}")
        mode = getattr(spider, "render_mode", "auto")
        tries = request.meta.get("nianbao_challenge_tries", 0)
        if mode == "never" or tries >= 2 or not hasattr(spider, "solved_challenge"):
            stats.inc_value("nianbao/challenge/unsolved")
            return response
        log.info("%s challenge at %s: solving in the browser", kind, request.url)
        return Request(request.url, callback=spider.solved_challenge, errback=spider.on_render_error,
                       dont_filter=True, priority=request.priority + 1,
                       meta=render_meta(nianbao_solve_for=request, nianbao_challenge_tries=tries + 1,
                                        # the browser's first answer is the challenge itself
                                        handle_httpstatus_all=True))


def use_bundled_suffix_list() -> None:
    """Scrapy's cookie middleware asks tldextract for public suffixes, which by default fetches
    the list from the internet on first use (and logs a traceback when it cannot). Harvest
    machines may be offline or firewalled: use the snapshot tldextract ships."""
    from scrapy.downloadermiddlewares import cookies
    from tldextract import TLDExtract

    if not getattr(cookies._split_domain, "_nianbao_offline", False):
        extractor = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
        extractor._nianbao_offline = True
        cookies._split_domain = extractor


NEXT_LABELS = ("下一页", "下页", "后页", "下一頁", "下頁", "Next", "next", "›", "»", ">")


async def click_next(page, *, wait_s: float = 10.0) -> bool:
    """Click a script-driven "next page" control, if the page has one that is enabled.

    Real pagers drawn by script (avalon, Vue, jQuery plugins) have no URL to follow: the
    only way to the next page of the list is the button itself. Returns whether the page
    changed after the click (polled, since a loaded browser answers late)."""
    before = await page.content()
    for label in NEXT_LABELS:
        control = page.get_by_text(label, exact=True)
        try:
            count = await control.count()
        except Exception:
            return False
        for i in range(count):
            target = control.nth(i)
            try:
                if not await target.is_visible() or await target.get_attribute("disabled") is not None:
                    continue
                await target.click(timeout=5000)
            except Exception:  # detached, covered or gone: try the next candidate
                continue
            for _ in range(int(wait_s / 0.25)):
                await asyncio.sleep(0.25)
                try:
                    after = await page.content()
                except Exception:  # navigating: wait for it
                    continue
                if after != before:
                    await settle(page)
                    return True
            return False
    return False

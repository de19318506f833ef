"""The browser as a polite guest: what Chromium may ask a portal for while it draws a page.

A render used to be a burst: every page's 26 images, its stylesheets and scripts, fetched again
for every page, past the per-host delay that plain requests keep. Anti-bot layers punish exactly
that, and a portal that answers one request a second is slowed for everyone. Every request
Chromium makes is therefore judged here, after the scope check (crawler/browserprovider.py):

- the navigation to a page already fetched plainly is answered from that response (route
  fulfil): one fetch per URL per run; the page's own bytes are what the archive already holds;
- images, fonts, media and stylesheets (requisites) are refused unless the site asks for them
  (`requisites: true`); then, like scripts always, each URL is fetched once per run and later
  renders are served the copy kept from the first answer;
- whatever still goes to the network waits for its host's turn: Scrapy's own download slot for
  the host (so plain and browser requests together keep the site's delay), or the shared Redis
  budget when workers crawl in parallel (crawler/hostbudget.py); robots.txt is obeyed, through
  Scrapy's own robots middleware; past `budget.max_browser_requests` a run's browser asks for
  nothing more;
- each request is counted by kind: navigation, xhr, script, requisite, other
  (`nianbao/browser/requests/<kind>` went to the portal, `.../cached/<kind>` were served from
  the run's copy, `.../blocked/<kind>` were refused, `.../fulfilled/navigation`).

Concurrency: browser requests are spaced by the delay like plain ones; the render itself holds
one of the host's download places while it runs, so a host sees no more pages drawn at once
than its concurrency allows.
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
import weakref
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

REQUISITE_TYPES = frozenset({"image", "imageset", "font", "media", "stylesheet", "texttrack"})
XHR_TYPES = frozenset({"xhr", "fetch", "eventsource", "websocket"})
# Bodies kept in memory per run before the copies go to a temporary directory.
MEMORY_CAP = 32 << 20
MAX_CACHED_BODY = 16 << 20
# Headers a fulfilled answer must not repeat: the body handed over is whole and decoded.
_HOP_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection",
                          "keep-alive"})


def request_kind(resource_type: str, navigation: bool) -> str:
    """navigation | xhr | script | requisite | other, from Chromium's resource type."""
    if navigation:
        return "navigation"
    if resource_type in XHR_TYPES:
        return "xhr"
    if resource_type == "script":
        return "script"
    if resource_type in REQUISITE_TYPES:
        return "requisite"
    return "other"


def cacheable(kind: str) -> bool:
    """Fetched once per run and served again: static files, never data (XHR) or pages."""
    return kind in ("script", "requisite")


def fulfil_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}


class _Copies:
    """The run's copies of what the browser fetched once: in memory up to MEMORY_CAP, then on disk."""

    def __init__(self):
        self._mem: dict[str, tuple[int, dict, bytes]] = {}
        self._disk: dict[str, tuple[int, dict, str]] = {}
        self._held = 0
        self._dir: tempfile.TemporaryDirectory | None = None

    def __contains__(self, url: str) -> bool:
        return url in self._mem or url in self._disk

    def __len__(self) -> int:
        return len(self._mem) + len(self._disk)

    def put(self, url: str, status: int, headers: dict, body: bytes) -> None:
        if url in self or len(body) > MAX_CACHED_BODY:
            return
        if self._held + len(body) <= MEMORY_CAP:
            self._mem[url] = (status, headers, body)
            self._held += len(body)
            return
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="nianbao-browser-")
        path = os.path.join(self._dir.name, f"{len(self._disk)}.bin")
        with open(path, "wb") as fh:
            fh.write(body)
        self._disk[url] = (status, headers, path)

    def get(self, url: str) -> tuple[int, dict, bytes] | None:
        if url in self._mem:
            return self._mem[url]
        if url in self._disk:
            status, headers, path = self._disk[url]
            with open(path, "rb") as fh:
                return status, headers, fh.read()
        return None

    def close(self) -> None:
        self._mem.clear()
        self._disk.clear()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class BrowserGate:
    """One per crawler (one site): the rules above, applied to each Chromium request."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.copies = _Copies()
        self._plain: dict[str, dict] = {}          # URL -> the plain answer the browser is handed
        self._last: dict[str, float] = {}          # host -> when the browser last sent there (no Scrapy slot)
        self._served = weakref.WeakSet()           # requests answered here, not by the portal
        # cacheable URLs on their way (asked once): set when the answer is in (or never will be)
        self._pending: dict[str, asyncio.Event] = {}
        self.sent = 0

    # -- settings of the crawl's one site -----------------------------------------------------
    def _site(self):
        return getattr(getattr(self.crawler, "spider", None), "site", None)

    def _requisites(self) -> bool:
        return bool(getattr(self._site(), "requisites", False))

    def _cap(self) -> int:
        site = self._site()
        return site.budget.max_browser_requests if site is not None else 3000

    def _inc(self, key: str) -> None:
        self.stats.inc_value(f"nianbao/browser/{key}")

    # -- one fetch per URL --------------------------------------------------------------------
    def expect(self, url: str, plain: dict | None) -> None:
        """A render of `url` is about to start; `plain` is the answer in hand, if usable."""
        if plain and plain.get("status") == 200 and plain.get("body"):
            self._plain[url.rstrip("/")] = plain

    def forget(self, url: str) -> None:
        self._plain.pop(url.rstrip("/"), None)

    # -- the route handler --------------------------------------------------------------------
    async def handle(self, route, request, go) -> None:
        """Answer, refuse or let through (`go`: scrapy-playwright's own handler) one request."""
        navigation = request.is_navigation_request()
        kind = request_kind(request.resource_type, navigation)
        url = request.url
        if navigation:
            plain = self._plain.pop(url.rstrip("/"), None)
            if plain is not None and request.method == "GET":
                self._served.add(request)
                self._inc("fulfilled/navigation")
                await route.fulfill(status=plain["status"], headers=fulfil_headers(plain["headers"]),
                                    body=plain["body"])
                return
        if kind == "requisite" and not self._requisites():
            self._inc(f"blocked/{kind}")
            await route.abort("blockedbyclient")
            return
        if cacheable(kind):
            copy = self.copies.get(url)
            while copy is None and url in self._pending:
                # Another render asked first: its answer serves this one too (if that answer
                # never came, one waiter asks again and the others wait for it).
                copy = await self._wait_for_copy(url)
            if copy is not None:
                status, headers, body = copy
                self._served.add(request)
                self._inc(f"cached/{kind}")
                await route.fulfill(status=status, headers=fulfil_headers(headers), body=body)
                return
            self._pending[url] = asyncio.Event()
        if self.sent >= self._cap():
            self._release(url)
            self._inc("blocked/over_budget")
            if self.sent == self._cap():
                log.warning("browser request budget (%d) spent: Chromium asks for nothing more this run", self._cap())
                self.sent += 1
            await route.abort("blockedbyclient")
            return
        # A script or requisite goes through Scrapy's downloader (_fetch_static), whose robots.txt
        # middleware rules on it; what Chromium sends itself (XHR, fetch) is ruled on here.
        if not cacheable(kind) and not await self._robots_allow(url):
            self._inc("blocked/robots")
            await route.abort("blockedbyclient")
            return
        await self._wait_turn(url)
        log.debug("browser sends %s (%s)", url, kind)
        self.sent += 1
        self._inc(f"requests/{kind}")
        self._inc("requests")
        if cacheable(kind):
            await self._fetch_static(route, request, go)
            return
        await go(route, request)

    async def _fetch_static(self, route, request, go) -> None:
        """A script or requisite asked for the first time this run goes through Scrapy's own
        downloader (scope, robots.txt, the WARC record, the operator's proxy), and its copy is
        kept before the page is answered: the copy exists whether or not the page that asked
        lives to read the body. Its own download slot (no delay: the turn was taken above on the
        host's slot), so a render holding the host's places never waits for itself."""
        from scrapy.http import Request as ScrapyRequest

        url = request.url
        host = (urlsplit(url).hostname or "").lower()
        downloader = self.crawler.engine.downloader
        key = f"browser-static:{host}"
        downloader.per_slot_settings.setdefault(key, {"concurrency": 8, "delay": 0, "jitter": 0})
        try:
            sent = await request.all_headers()
        except Exception:
            sent = {}
        headers = {k: v for k, v in sent.items() if k.lower() in ("referer", "accept", "accept-language")}
        fetch = ScrapyRequest(url, headers=headers, dont_filter=True, priority=1900,
                              meta={"download_slot": key, "nianbao_kind": "browser_static",
                                    "handle_httpstatus_all": True})
        try:
            response = await self.crawler.engine.download_async(fetch)
        except Exception as exc:      # refused (scope, robots) or failed: the page goes without it
            log.debug("browser static file %s not fetched: %r", url, exc)
            self._release(url)
            self._inc("failed/static")
            await route.abort("failed")
            return
        answer = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        if response.status == 200:
            self.copies.put(url, response.status, answer, response.body)
        self._release(url)
        self._served.add(request)
        await route.fulfill(status=response.status, headers=fulfil_headers(answer), body=response.body)

    def failed(self, request) -> None:
        """A request Chromium gave up on (page closed, aborted): nobody waits for its copy."""
        self._release(request.url)

    def _release(self, url: str) -> None:
        """The answer for `url` is in, or will not come: whoever waits for it goes on."""
        event = self._pending.pop(url, None)
        if event is not None:
            event.set()

    async def _wait_for_copy(self, url: str, timeout: float = 15.0):
        # Two renders asking for one script at once: the second waits for the first's answer.
        event = self._pending.get(url)
        if event is not None:
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except asyncio.TimeoutError:
                if self._pending.get(url) is event:
                    self._release(url)      # waited long enough: the next asker fetches it
        return self.copies.get(url)

    async def remember(self, response) -> None:
        """A response Chromium received: a script or requisite is kept for the rest of the run."""
        url = None
        try:
            request = response.request
            url = request.url
            if request in self._served:
                return
            kind = request_kind(request.resource_type, request.is_navigation_request())
            if not cacheable(kind):
                return
            if response.status == 200 and url not in self.copies:
                self.copies.put(url, response.status, await response.all_headers(), await response.body())
        except Exception as exc:  # a body Chromium no longer holds: fetched again next time
            log.debug("browser copy of %s not kept: %r", url, exc)
        finally:
            if url is not None:
                self._release(url)

    def served_here(self, response) -> bool:
        """Answered from the plain response or a copy: not a new exchange with the portal."""
        return response.request in self._served

    # -- politeness -----------------------------------------------------------------------
    def _middleware(self, cls_name: str):
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        for mw in getattr(getattr(downloader, "middleware", None), "middlewares", ()):
            if any(c.__name__ == cls_name for c in type(mw).__mro__):
                return mw
        return None

    async def _robots_allow(self, url: str) -> bool:
        mw = self._middleware("RobotsTxtMiddleware")
        if mw is None:
            return True
        from scrapy.http import Request

        try:
            request = Request(url)
            parser = await mw.robot_parser(request)
        except Exception:      # robots.txt unreadable: Scrapy's rule is to allow
            return True
        if parser is None:
            return True
        agent = mw._robotstxt_useragent or self.crawler.settings.get("USER_AGENT")
        return bool(parser.allowed(url, agent))

    async def _wait_turn(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        budget = self._middleware("HostBudgetMiddleware")
        if budget is not None and budget.delay(host) > 0:
            while True:
                try:
                    wait = await budget.claim(host)
                except Exception:      # Redis gone: the full delay, locally
                    await asyncio.sleep(budget.delay(host))
                    return
                if wait <= 0:
                    return
                await asyncio.sleep(wait)
        # Scrapy's slot clock is time.monotonic(); its `delay` (not the jittered draw) is the floor.
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(host)
        delay = slot.delay if slot is not None else self._default_delay(host)
        while delay > 0:
            last = slot.lastseen if slot is not None else self._last.get(host, 0.0)
            wait = last + delay - time.monotonic()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
            slot = downloader.slots.get(host) or slot
        now = time.monotonic()
        if slot is not None:
            slot.lastseen = now        # the downloader's next plain request waits for this one
        self._last[host] = now

    def _default_delay(self, host: str) -> float:
        slots = self.crawler.settings.getdict("DOWNLOAD_SLOTS")
        entry = slots.get(host)
        if entry is None:
            entry = next((v for k, v in slots.items() if k.startswith(".") and host.endswith(k)), None)
        if entry is not None and "delay" in entry:
            return float(entry["delay"])
        return self.crawler.settings.getfloat("DOWNLOAD_DELAY")

    def close(self) -> None:
        self.copies.close()
        self._plain.clear()

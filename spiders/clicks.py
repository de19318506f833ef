"""Click handlers that call page functions, resolved once the page's scripts are in hand.

A row `onclick="showInfo('123')"` leads somewhere only through `showInfo`, defined in an inline
script or in a linked one (`/js/common.js`). The linked scripts of the site's hosts are fetched
once per run and kept (in memory, capped); a page whose handlers need them waits for them, then
crawler.cms.jscalls runs the handlers and the places they reach are followed like links, with
the row's text and date. A script that fails to load counts as empty: the handlers that needed
it then find nothing, which the run's stats record (discovery/calls_unresolved).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scrapy.http import Request

from crawler import scope
from crawler.cms import jscalls
from crawler.cms.model import Extracted, Follow, Link, dedupe_follows
from crawler.cms.page import absolute
from crawler.encoding import decode_html

MAX_SCRIPT_BYTES = 1_000_000      # one linked script
MAX_CACHED_SCRIPTS = 200          # per run
MAX_CALLS_PER_PAGE = 300
MAX_CONTEXTS = 300                # pages whose scripts are kept for their frames and fragments


@dataclass
class _Parked:
    url: str
    page: Extracted
    calls: list[Link]
    depth: int
    list_root: str | None
    report: object | None            # the ReportRef of a report page: its files are the report's
    parent: str | None = None        # the page whose scripts also apply (a frame's parent, an XHR's page)
    waiting: set[str] = field(default_factory=set)


class _Origin:
    """What ReportsSpider._follow reads of a response: its URL and meta."""

    def __init__(self, url: str, list_root: str | None, script_parent: str | None = None):
        self.url = url
        self.meta = {"nianbao_list_root": list_root, "nianbao_script_parent": script_parent}


class ClickResolver:
    def __init__(self):
        self.scripts: dict[str, str] = {}           # url -> code ("" when it could not be had)
        # Pages whose scripts their frames and fragments call (parent.searchPage(...)), by URL.
        self.contexts: dict[str, tuple[list[str], str, list[dict], str | None]] = {}
        self.parked: dict[str, list[_Parked]] = {}   # script url -> pages waiting for it
        self.unavailable = False

    def remember(self, url: str, page: Extracted, parent: str | None) -> None:
        """Keep a page's scripts for the frames and fragments that will call into them."""
        if page.scripts or page.inline_js:
            if len(self.contexts) >= MAX_CONTEXTS:
                self.contexts.pop(next(iter(self.contexts)))
            self.contexts[url] = (page.scripts, page.inline_js, page.forms, parent)

    def _chain(self, parent: str | None) -> list[tuple[list[str], str, list[dict]]]:
        out, seen = [], set()
        while parent and parent in self.contexts and parent not in seen and len(out) < 4:
            seen.add(parent)
            scripts, inline, forms, parent_of = self.contexts[parent]
            out.append((scripts, inline, forms))
            parent = parent_of
        return list(reversed(out))

    def handle(self, spider, url: str, page: Extracted, calls: list[Link], *, depth: int,
               list_root: str | None, report=None, parent: str | None = None):
        if self.unavailable or not jscalls.available():
            self.unavailable = True
            spider._stat("discovery/calls_unresolved", len(calls))
            return
        parked = _Parked(url, page, calls[:MAX_CALLS_PER_PAGE], depth, list_root, report, parent)
        needed = [s for scripts, _, _ in self._chain(parent) for s in scripts] + list(page.scripts)
        for script in needed:
            if script in self.scripts:
                continue
            if not scope.attachment_in_scope(script, spider.site.allowed_hosts):
                continue  # a CDN's library defines no site function worth a request
            parked.waiting.add(script)
            first = script not in self.parked
            self.parked.setdefault(script, []).append(parked)
            if first:
                if len(self.scripts) + len(self.parked) > MAX_CACHED_SCRIPTS:
                    self.scripts[script] = ""
                    continue
                spider._stat("discovery/scripts_fetched")
                yield Request(script, callback=spider.parse_script, errback=spider.script_failed,
                              priority=3000, meta={"nianbao_kind": "script"}, headers={"Referer": url})
        parked.waiting = {s for s in parked.waiting if s not in self.scripts}
        if not parked.waiting:
            for s in needed:
                if s in self.parked:
                    self.parked[s] = [p for p in self.parked[s] if p is not parked]
            yield from self._resolve(spider, parked)

    def script_arrived(self, spider, response):
        body = response.body[:MAX_SCRIPT_BYTES] if response.status == 200 else b""
        code, _ = decode_html(body)
        yield from self._done(spider, response.request.url, code)

    def script_failed(self, spider, failure):
        spider._stat("discovery/scripts_failed")
        return list(self._done(spider, failure.request.url, ""))

    def _done(self, spider, script: str, code: str):
        self.scripts[script] = code
        for parked in self.parked.pop(script, []):
            parked.waiting.discard(script)
            if not parked.waiting:
                yield from self._resolve(spider, parked)

    def _resolve(self, spider, parked: _Parked):
        page = parked.page
        codes, forms = [], []
        for scripts, inline, ctx_forms in self._chain(parked.parent) + [(page.scripts, page.inline_js, page.forms)]:
            codes += [self.scripts.get(s, "") for s in scripts] + [inline]
            forms = ctx_forms + forms if ctx_forms is not page.forms else forms + ctx_forms
        outcome = jscalls.resolve([c.code or "" for c in parked.calls], codes, forms)
        for kind, n in outcome.errors.items():
            spider._stat(f"error/script_{kind}", n)
        found: list[Link] = []
        forms_found: list[Follow] = []
        for call, targets in zip(parked.calls, outcome.targets):
            if not targets:
                spider._stat("discovery/calls_unresolved")
            for target in targets:
                if target.startswith(("__form__:", "__xhr__:")):
                    follow = _form_follow(target, call.text, page.encoding, page.base or parked.url)
                    if follow is not None:
                        forms_found.append(follow)
                    continue
                resolved = absolute(page.base or parked.url, target, page.encoding)
                if resolved:
                    found.append(Link(resolved, call.text, call.date, "a"))
        spider._stat("discovery/calls_resolved", len(found) + len(forms_found))
        if not found and not forms_found:
            return
        more = Extracted(family=page.family, links=found, pages=dedupe_follows(forms_found),
                         breadcrumb=page.breadcrumb, heading=page.heading, title=page.title)
        # What the handlers reach runs in the same scripts: its own handlers call them too.
        yield from spider._follow(_Origin(parked.url, parked.list_root, parked.parent or parked.url), more,
                                  depth=parked.depth, is_report=parked.report is not None, report=parked.report)


def _form_follow(target: str, text: str, encoding: str | None, base: str) -> Follow | None:
    """The request a handler makes by submitting a form or sending an XHR: a GET URL or a POST."""
    import json
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        if target.startswith("__xhr__:"):
            xhr = json.loads(target[len("__xhr__:"):])
            action = absolute(base, xhr["url"], encoding) or ""
            method = xhr["method"].lower()
            fields = dict(parse_qsl(xhr.get("body") or "", keep_blank_values=True))
            if method != "post":
                return Follow(action, kind="list", key=action, text=text) if action else None
        else:
            form = json.loads(target[len("__form__:"):])
            action, method, fields = form["action"], form["method"].lower(), dict(form["fields"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not action.startswith(("http://", "https://")):
        return None
    if method == "post":
        key = f"form POST {action} {sorted(fields.items())}"
        return Follow(action, method="POST", formdata=fields, kind="list", key=key, text=text)
    parts = urlsplit(action)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path,
                      urlencode(list(fields.items()), encoding=encoding or "utf-8", errors="replace"), ""))
    return Follow(url, kind="list", key=url, text=text)

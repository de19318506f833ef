"""The generic, config-driven spider: a focused crawl from a site's start URLs toward its
annual-report column, keeping every report page and attachment it recognises.

Decisions live elsewhere and are only applied here: scope (crawler.scope), link value
(crawler.links), page structure (crawler.cms), report or not (crawler.recognise), whose
report (crawler.attribution). This module wires them into Scrapy requests.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import FormRequest, Request

from crawler import analyses, attribution, cms, env, links, recognise, scope
from crawler import render as render_rules
from crawler.conditional import NotDue
from crawler.encoding import decode_html
from crawler.errors import error_kind
from crawler.filenames import filename_from_headers, safe_filename
from crawler.items import FileItem, ReportRef
from crawler.logs import quiet_expected_failures
from crawler.rendering import click_next, render_meta, use_bundled_suffix_list
from crawler.siteconfig import SiteConfig, load_site
from spiders.clicks import ClickResolver
from spiders.debts import Debts, entry_for, report_of
from spiders.widening import Widening

FRAME_PRIORITY = 60
OWED_PRIORITY = 3000     # what earlier runs owe goes before anything else
JUDGE_MAX_BYTES = 20_000_000
_REPORT_WORDS = re.compile(r"年度报告|年报|年度報告|年報|工作报告|工作報告|报告|報告")
# A link whose text is only a file name or a download word: 「附件1.pdf」, 「下载」, 「P020190123.pdf」.
_PLAIN_FILE = re.compile(r"^(?:(?:点击)?(?:下载)?(?:附件|全文|原文|文件)?\s*\d*|[A-Za-z0-9_\-.]+)\s*[:：]?\s*(?:[\w\-]*\.(?:pdf|docx?|wps|ofd|xlsx?))?$", re.I)
# A plain page with fewer links than this and less visible text is starved (see _starved).
STARVED_LINKS = 3
STARVED_TEXT = 200
STARVED_BARE = 20       # a page with less text than this is a shell whatever its markup
_PAGER_TEXT = re.compile(r"^(?:\d{1,4}|\.\.\.|…|下一?页|下頁|上一?页|尾页|末页|首页|next|prev|last|first|>>?|<<?|»|«|›|‹)$", re.I)


def _worth_choosing(follow) -> bool:
    """A form's choice or a post-back worth making: a pager control, a year, or a link the
    focused crawl would follow by its words (not 「登录」, 「搜索」, 「English」)."""
    text = follow.text.strip("[]【】 ")
    if _PAGER_TEXT.match(text) or recognise.parse_year(text):
        return True
    return links.score_link(text=text, url=follow.url) > 0


# A page linking to this many report-like titles is a list, not one report.
LIST_PAGE_REPORT_LINKS = 3
TEXT_FOR_RECOGNITION = 4000
# Pages are analysed up to this many characters (the bytes are archived whole regardless).
MAX_ANALYSED_CHARS = 4_000_000


def _is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        ct = content_type.lower()
        if "html" in ct or "xml" in ct or "json" in ct or ct.startswith("text/"):
            return True
        return False
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"["))


def _safe_name(content_disposition, url: str) -> str | None:
    """The file's own name, made harmless: no directories, control characters or NULs."""
    name = filename_from_headers(content_disposition, url)
    return safe_filename(name) if name else None


def _content_type(response) -> str | None:
    return response.headers.get("Content-Type", b"").decode("latin-1") or None


# Files a report page may link that are another document, not a part of the report: the blank
# template, an interpretation, a notice, a plan. (Its 统计表 and 附表 are parts of it.)
_FOREIGN_KINDS = frozenset({"格式", "解读", "通知", "工作要点", "网站年报", "法治政府", "预决算", "公开指南"})


def _foreign_attachment(text: str | None) -> bool:
    return recognise.lookalike(text or "") in _FOREIGN_KINDS


def _links_onward(page, url: str, text: str) -> bool:
    want = re.sub(r"\s+", "", text or "")
    here = links.canonical_url(url)
    return bool(want) and any(re.sub(r"\s+", "", ln.text or "") == want and ln.url and links.canonical_url(ln.url) != here
                              for ln in page.links)


def _list_shape(page, *, loose: bool = False) -> bool:
    """The page's main content is a list of links: dated items that read as reports (two or
    more, or any beside a pager) making up a good share of what the page shows. loose: any
    five dated items that make up most of the page (enough to refuse a body-only verdict)."""
    dated = [ln for ln in page.links if ln.date]
    if not dated:
        return False
    shown = max(1, len(page.text or ""))
    share = sum(len(ln.text) for ln in dated) / shown
    reportish = [ln for ln in dated if _REPORT_WORDS.search(ln.text or "")]
    if len(reportish) >= 3 or (reportish and page.pages and share >= 0.15):
        return True
    if len(reportish) >= 2 and share >= 0.25:
        return True
    return loose and len(dated) >= 5 and share >= 0.3


def _is_document(response, content_type: str | None) -> bool:
    """The bytes are a document a report can be (PDF, Word, WPS, spreadsheet, OFD, RTF, HTML, text)
    of the kind the name or type promises: crawler.textract.detect_kind says None for bytes that
    are none of them, and a page answering for a binary document's name is an error page."""
    from crawler.filenames import filename_from_headers
    from crawler.textract import detect_kind

    cd = response.headers.get("Content-Disposition")
    filename = filename_from_headers(cd, response.url) if cd else None
    kind = detect_kind(response.body, content_type=content_type, filename=filename, url=response.url)
    if kind is None:
        return False
    if kind == "pdf" and b"%%EOF" not in response.body[-4096:]:
        return False  # a PDF ends with its trailer: noise or a cut-off download behind the header
    return not (kind == "html" and links.is_attachment(response.url))


def _browser_version(page) -> str | None:
    try:
        return f"chromium {page.context.browser.version}" if page is not None else None
    except Exception:  # a page whose browser went away
        return None


def _plain_snapshot(response, content_type: str | None) -> dict:
    headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
    return {"url": response.request.meta.get("redirect_urls", [response.url])[0], "final_url": response.url,
            "status": response.status, "headers": headers, "body": response.body, "content_type": content_type,
            "warc": response.meta.get("nianbao_warc"), "unchanged": response.meta.get("nianbao_unchanged"),
            "resumed": bool(response.meta.get("nianbao_resumed"))}


class ReportsSpider(scrapy.Spider):
    name = "reports"

    def __init__(self, site: str | None = None, site_config: SiteConfig | None = None,
                 sites_dir: str | None = None, render: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if site_config is None:
            if not site:
                raise ValueError("the reports spider needs a site: scrapy crawl reports -a site=ID")
            site_config = load_site(Path(env.sites_dir(sites_dir)) / f"{site}.yaml")
        use_bundled_suffix_list()
        quiet_expected_failures()
        self.site = site_config
        self.render_override = render
        self.scheduled: set[str] = set()
        self.list_pages: dict[str, int] = {}
        self.reports_seen: set[str] = set()
        self.not_due_reports: set[str] = set()   # listed, but not revalidated on this run
        self.budget_hit = False
        self.sampler = render_rules.RenderSampler()   # which page shapes need the browser
        self.clicks = ClickResolver()
        self.widening = Widening()
        self.report_years: set[int] = set()   # years of the reports found so far (widening)
        self.judged: set[str] = set()   # vaguely linked files fetched to be judged by their text
        self.debts = Debts()            # files wanted, until archived, owed or gone
        self.owed_rows: list[dict] = []  # what earlier runs owe (set by the archive pipeline)
        self.list_tails = None           # what the archive knows of lists (set by the conditional middleware)
        self.tail_urls: set[str] = set()  # listed on list pages read from the archive, not fetched
        # Pages nobody looked at this run: list pages read from the archive, leaves not due.
        # Nothing found on them is judged removed (pipelines: the removal check).
        self.unread_pages: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    def on_idle(self):
        """The plain walk is over. A site is expected to have reports: when it ended with none,
        or with far fewer years than the site's dates suggest, widen once before giving up."""
        requests = self.widening.next_stage(self)
        if not requests:
            return
        for request in requests:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    # -- wiring --------------------------------------------------------------------------
    @property
    def render_mode(self) -> str:
        return self.render_override or self.settings.get("NIANBAO_RENDER") or self.site.render

    def _stat(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"nianbao/{key}", n)

    async def start(self):
        if self.crawler.stats.get_value("nianbao/fatal"):
            return      # the archive is unusable (store or catalogue): fetch nothing
        for request in self._owed_requests():
            yield request
        for url in self.site.start_urls:
            req = self._page_request(url, depth=0, text="", source=None, priority=1000)
            if req is not None:
                yield req

    def _page_request(self, url: str, *, depth: int, text: str, source: str | None,
                      priority: int = 0, list_root: str | None = None, date: str | None = None) -> Request | None:
        url = links.canonical_url(url)
        if url in self.scheduled:
            return None
        if len(self.scheduled) >= self.site.budget.max_pages:
            if not self.budget_hit:
                self.budget_hit = True
                self.logger.info("%s: page budget of %d reached", self.site.id, self.site.budget.max_pages)
            self._stat("budget_exhausted")
            return None
        self.scheduled.add(url)
        meta = {"nianbao_depth": depth, "nianbao_text": text, "nianbao_source": source,
                "nianbao_list_root": list_root, "nianbao_date": date}
        headers = {"Referer": source} if source else None
        # Always plain first: the browser, when the plain page falls short, is handed this answer
        # (one fetch per URL), and what it adds is measured against it (crawler.render).
        # "page": a 304 may answer with the page's kept analysis instead of its bytes.
        return Request(url, callback=self.parse_page, errback=self.on_error, priority=priority,
                       meta={**meta, "nianbao_kind": "page"}, headers=headers)

    def _file_request(self, url: str, *, report: ReportRef | None, source: str | None,
                      judge: dict | None = None, priority: int = 2000) -> Request:
        if report is not None:
            self.report_years.add(report.year)
        meta = {"nianbao_report": report, "nianbao_source": source, "nianbao_kind": "file"}
        if judge is not None:
            meta["nianbao_judge"] = judge
        request = Request(url, callback=self.parse_file, errback=self.on_error, priority=priority,
                          meta=meta, headers={"Referer": source} if source else None)
        # Keyed by the URL as sent (Request may percent-encode what canonical_url kept).
        self.debts.want(request.url, report=report, source=source, judge=judge)
        return request

    def _owed_requests(self):
        """What earlier runs meant to archive and did not, asked for before anything else and
        whatever the revisit schedule says (spiders/debts.py)."""
        for row in self.owed_rows:
            report = report_of(row)
            if row["kind"] == "page":
                req = self._page_request(row["url"], depth=1, text=report.title if report else "",
                                         source=row.get("source_page"), priority=OWED_PRIORITY)
            else:
                req = self._file_request(row["url"], report=report, source=row.get("source_page"),
                                         judge=(row.get("meta") or {}).get("judge"), priority=OWED_PRIORITY)
            if req is not None:
                req.meta["nianbao_owed"] = True
                self._stat("owed/requested")
                yield req

    # -- callbacks -----------------------------------------------------------------------
    def parse_page(self, response):
        self._stat("pages")
        content_type = _content_type(response)
        if "nianbao_analysis" not in response.meta and not _is_html(content_type, response.body):
            # A link we took for a page turned out to be a file: judge it by its link text.
            yield from self._direct_file(response, content_type)
            return
        out, _report, _page, follow = self._handle(response, content_type=content_type, rendered=False)
        yield from out
        yield from follow

    async def parse_rendered(self, response):
        """A page drawn in Chromium. The DOM gives the links; the capture of a report page is
        the bytes the server sent, with the DOM and a full-page screenshot linked to it."""
        page = response.meta.pop("playwright_page", None)
        try:
            if not response.meta.get("nianbao_second_look"):
                self._stat("pages")          # a second look is the same page drawn again
            self._stat("render/pages")
            browser = _browser_version(page)
            content_type = _content_type(response)
            out, report, extracted, follow = self._handle(response, content_type=content_type, rendered=True)
            seen = response.meta.get("nianbao_plain_seen")
            again = None
            if seen is not None:
                more = self._judge_render(response.url, seen, extracted,
                                          second=bool(response.meta.get("nianbao_second_look")))
                if not more:
                    again = self._second_look(response.meta, response.url, seen[2], response.request.priority,
                                              report=report)
            for thing in out:
                yield thing
            for thing in follow:
                yield thing
            if again is not None:
                # Drawn too early, perhaps: the second look clicks through a script pager and
                # captures the report page from what it draws (or, should it fail, from the
                # plain page alone).
                yield again
                return
            # a second look that no longer reads as the report its first look knew is still its page
            report = report or response.meta.get("nianbao_held_report")
            if report is None and page is not None and not extracted.pages:
                # A list whose pager is script only: click through it in the same page.
                async for thing in self._click_through(page, response, extracted):
                    yield thing
            if report is not None and page is not None:
                derived = {"dom": (response.body, "text/html; charset=utf-8")}
                try:
                    derived["screenshot"] = (await page.screenshot(full_page=True, type="png"), "image/png")
                except Exception as exc:  # a page that cannot be drawn still has its DOM
                    self.logger.warning("%s: screenshot of %s failed: %s", self.site.id, response.url, exc)
                    self._stat("error/screenshot")
                plain = response.meta.get("nianbao_plain")
                if plain is not None:
                    yield self._plain_item(plain, report=report, derived=derived, browser=browser,
                                           source=response.meta.get("nianbao_source"))
                else:
                    # Reached the browser first: fetch the server's own bytes for the capture.
                    yield Request(response.url, callback=self.parse_capture, errback=self.on_error,
                                  dont_filter=True, priority=1500,
                                  meta={"nianbao_report": report, "nianbao_derived": derived,
                                        "nianbao_browser": browser,
                                        "nianbao_source": response.meta.get("nianbao_source")})
        finally:
            if page is not None:
                await page.close()

    async def _click_through(self, page, response, extracted):
        depth = response.meta.get("nianbao_depth", 0)
        seen = {link.url for link in extracted.links}
        for _ in range(self.site.budget.max_list_pages):
            if not await click_next(page):
                self.logger.debug("%s: no further page by clicking at %s", self.site.id, response.url)
                break
            self._stat("render/clicked_pages")
            html = await page.content()
            more = cms.extract(page.url, html)
            fresh = [link for link in more.links if link.url not in seen]
            self.logger.debug("%s: clicked to a further page of %s: %d new links", self.site.id,
                              response.url, len(fresh))
            if not fresh:
                break
            seen.update(link.url for link in fresh)
            more.links = fresh
            more.pages = []
            for thing in self._follow(response, more, depth=depth, is_report=False):
                yield thing

    async def solved_challenge(self, response):
        """The browser passed an anti-bot challenge: retry the plain request with its cookies."""
        page = response.meta.pop("playwright_page", None)
        cookies = []
        try:
            if page is not None:
                cookies = await page.context.cookies()
        finally:
            if page is not None:
                await page.close()
        self._stat("render/challenges_solved")
        original = response.meta["nianbao_solve_for"]
        jar_cookies = [{"name": c["name"], "value": c["value"], "domain": c.get("domain", ""),
                        "path": c.get("path", "/")} for c in cookies]
        meta = {k: v for k, v in original.meta.items() if k.startswith("nianbao_")}
        meta["nianbao_challenge_tries"] = response.meta.get("nianbao_challenge_tries", 1)
        yield original.replace(cookies=jar_cookies, dont_filter=True, meta=meta)

    async def on_browser_response(self, response):
        """Chromium's own exchanges while drawing a page (XHR, scripts, viewer files): archived.
        The navigation itself reaches the WARC through the downloader middleware."""
        gate = getattr(self.crawler, "browser_gate", None)
        if gate is not None:
            if gate.served_here(response):
                return      # answered from the plain fetch or the run's copy: archived already
            await gate.remember(response)
        recorder = getattr(self, "warc_recorder", None)
        if recorder is None or response.request.is_navigation_request():
            return
        await recorder.record_browser_response(response)

    async def on_browser_request_failed(self, request):
        gate = getattr(self.crawler, "browser_gate", None)
        if gate is not None:
            gate.failed(request)

    async def on_render_error(self, failure):
        page = failure.request.meta.pop("playwright_page", None)
        if page is not None:
            await page.close()
        meta = failure.request.meta
        seen = meta.get("nianbao_plain_seen")
        if seen is not None:
            again = self._second_look(meta, failure.request.url, seen[2], failure.request.priority)
            if again is not None:
                self._stat("render/failed_looked_again")
                self.logger.info("%s: render of %s failed (%s): drawing it once more", self.site.id,
                                 failure.request.url, error_kind(failure))
                return [again]
        self.on_error(failure)
        held, plain = meta.get("nianbao_held_report"), meta.get("nianbao_plain")
        if held is not None and plain is not None:
            # The first look knew the report; the second failed: the capture is the plain page.
            return [self._plain_item(plain, report=held, derived={}, browser=None,
                                     source=meta.get("nianbao_source"))]
        return None

    def parse_capture(self, response):
        self._stat("files")
        item = self._file_item(response, kind="page", report=response.meta["nianbao_report"],
                               source=response.meta.get("nianbao_source"),
                               content_type=_content_type(response))
        item.derived = response.meta.get("nianbao_derived") or {}
        item.browser_version = response.meta.get("nianbao_browser")
        yield item

    def _handle(self, response, *, content_type: str | None, rendered: bool):
        """What a page yields: its items and file requests (a list), the report it is (or None),
        the extracted page, and an iterator over the links and pages it leads to."""
        out: list = []
        page = response.meta.get("nianbao_analysis")
        analysis = None
        if page is not None:
            # The server called the page unchanged and its analysis is archived: no parse.
            self._stat("analyses_reused")
        else:
            page = self._analyse(response, content_type)
            if not rendered:
                analysis = analyses.dumps(page)
        if page.family:
            self._stat(f"family/{page.family}")
        if page.links_capped:
            self._stat("links_capped")
            self.logger.warning("%s: %s has more links than are read from one page", self.site.id, response.url)
        depth = response.meta.get("nianbao_depth", 0)
        source = response.meta.get("nianbao_source")
        link_text = response.meta.get("nianbao_text", "")

        body_text = (page.text or "")[:TEXT_FOR_RECOGNITION]
        if recognise.is_soft_404(page.title, body_text):
            self._stat("soft_404")
            return out, None, page, iter(())

        report = self._report_for_page(response.url, page, link_text, body_text,
                                       response.meta.get("nianbao_date"), section=response.meta.get("nianbao_section"))
        if not rendered:
            self._maybe_render(response, page, content_type, out, report=report)

        if report is None and not rendered and response.request.method == "GET":
            # Every page on the way is kept too (is_report false): it is the provenance of the
            # reports it lists, and what lets a recrawl revalidate it instead of downloading it.
            out.append(self._file_item(response, kind="page", report=None, source=source,
                                       content_type=content_type, analysis=analysis))
        if report is None and not rendered:
            self.widening.walked_page(response.url)
        if report is not None:
            self.report_years.add(report.year)
            item = None
            if not rendered:
                item = self._file_item(response, kind="page", report=report, source=source,
                                       content_type=content_type, analysis=analysis)
                out.append(item)
            for link in page.links:
                if links.is_attachment(link.url) and scope.attachment_in_scope(link.url, self.site.allowed_hosts) \
                        and not _foreign_attachment(link.text):
                    request = self._file_request(links.canonical_url(link.url), report=report, source=response.url)
                    out.append(request)
                    if item is not None:
                        # Owed in the page's own archive transaction: never the page without them.
                        item.owes.append(entry_for(request.url, kind="file", report=report, source=response.url))

        # Followed lazily: a list of 10,000 links must not become 10,000 requests at once.
        return out, report, page, self._follow(response, page, depth=depth, is_report=report is not None,
                                               report=report)

    def _render_reason(self, page) -> str | None:
        if self.render_mode == "always":
            return "always"
        if page.script_built:
            return page.script_hint or "list_shell"
        return "starved" if self._starved(page) else None

    def _maybe_render(self, response, page, content_type, out: list, *, report: ReportRef | None) -> None:
        """Ask the browser for this page when its plain analysis falls short (crawler.render)."""
        reason = self._render_reason(page)
        if reason is None:
            return
        if reason == "starved" and report is not None and self._has_report(page):
            # A report page holding its body or its files is not short of anything, however
            # little text its template leaves around a 「详见附件」 and however many scripts it loads.
            self._stat("render/plain_has_report")
            return
        if reason == "starved":
            self._stat("render/starved")
        if self.render_mode == "never":
            self._stat("render/needed_but_never")
            return
        if not self.sampler.wants(response.url, reason):
            self._stat("render/skipped_plain_enough")
            self.crawler.stats.set_value("nianbao/render/shapes", self.sampler.summary())
            return
        self._stat("render/needed")
        self._stat(f"render/reason/{reason}")
        meta = {k: v for k, v in response.meta.items()
                if k.startswith("nianbao_")
                and k not in ("nianbao_warc", "nianbao_unchanged", "nianbao_revalidating", "nianbao_resumed",
                              "nianbao_analysis")}
        meta["nianbao_plain"] = _plain_snapshot(response, content_type)
        meta["nianbao_plain_seen"] = ({ln.url for ln in page.links} | {f.url for f in page.pages},
                                      len(page.text or ""), reason)
        out.append(Request(response.url, callback=self.parse_rendered, errback=self.on_render_error,
                           dont_filter=True, priority=response.request.priority + 1, meta=render_meta(**meta)))

    def _judge_render(self, url: str, seen: tuple, rendered, *, second: bool = False) -> bool:
        """What the browser found beyond the plain page decides whether the shape stays rendered."""
        plain_urls, plain_text, reason = seen
        drawn = [(ln.url, ln.text) for ln in rendered.links] + [(f.url, f.text or "") for f in rendered.pages]
        evidence = render_rules.found_more(plain_urls=plain_urls, plain_text=plain_text, rendered=drawn,
                                           rendered_text=len(rendered.text or ""), followable=self._followable)
        if second:
            decision = self.sampler.second_judged(url, found_more=bool(evidence), reason=reason)
            self._stat("render/second_look_found_more" if evidence else "render/second_look_found_nothing")
        else:
            decision = self.sampler.judged(url, found_more=bool(evidence), reason=reason)
        self._stat("render/found_more" if evidence else "render/found_nothing_more")
        if evidence:
            self.logger.debug("%s: the browser found more at %s: %s", self.site.id, url, evidence[:5])
        self.crawler.stats.set_value("nianbao/render/shapes", self.sampler.summary())
        self.logger.debug("%s: shape of %s: %s", self.site.id, url, decision)
        return bool(evidence)

    def _second_look(self, meta: dict, url: str, reason: str, priority: int, *,
                     report: ReportRef | None = None) -> Request | None:
        """A render that found nothing more than the plain page, or failed, is drawn once more,
        waiting longer (crawler.render: SECOND_LOOKS); None when it had its second look or the
        budget says no."""
        if meta.get("nianbao_second_look") or "nianbao_plain_seen" not in meta:
            return None
        if not self.sampler.second_look(url, reason):
            return None
        self._stat("render/second_looks")
        self.logger.debug("%s: a second, longer look at %s", self.site.id, url)
        again = {k: v for k, v in meta.items() if k.startswith("nianbao_")}
        again["nianbao_second_look"] = True
        if report is not None:
            again["nianbao_held_report"] = report
        return Request(url, callback=self.parse_rendered, errback=self.on_render_error, dont_filter=True,
                       priority=priority, meta=render_meta(patient=True, **again))

    def _has_report(self, page) -> bool:
        return len(page.text or "") >= STARVED_TEXT or any(
            links.is_attachment(ln.url) and scope.attachment_in_scope(ln.url, self.site.allowed_hosts)
            for ln in page.links)

    def _followable(self, url: str, text: str) -> bool:
        if links.is_attachment(url):
            return scope.attachment_in_scope(url, self.site.allowed_hosts)
        return scope.in_scope(url, self.site.allowed_hosts) and links.score_link(text=text, url=url) > 0

    def _starved(self, page) -> bool:
        """The yield says a browser is needed, whatever the markup is named: the plain page leaves
        almost nothing to follow and almost nothing to read, while it loads scripts (an app shell,
        a list drawn by script into a container named for nothing)."""
        # Cheap tests first, and links counted only until enough: this runs on every plain page.
        if page.script_count == 0 or page.pages or len(page.text or "") >= STARVED_TEXT:
            return False
        if not page.empty_box and len(page.text or "") >= STARVED_BARE:
            # Something to read and no box for a script to draw into: a short page, not a shell.
            return False
        found = 0
        for ln in page.links:
            if ln.via == "call" or (scope.in_scope(ln.url, self.site.allowed_hosts)
                                    and links.score_link(text=ln.text, url=ln.url) > -10):
                found += 1
                if found >= STARVED_LINKS:
                    return False
        return True

    def _analyse(self, response, content_type: str | None):
        charset = None
        if content_type and "charset=" in content_type.lower():
            charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip()
        text, encoding = decode_html(response.body, header_charset=charset)
        if len(text) > MAX_ANALYSED_CHARS:
            # No real list page is this large: read its beginning, record that the rest was not.
            self._stat("error/page_too_large")
            self.logger.warning("%s: %s has %d characters; only the first %d were read",
                                self.site.id, response.url, len(text), MAX_ANALYSED_CHARS)
            text = text[:MAX_ANALYSED_CHARS]
        return cms.extract(response.url, text, content_type=content_type or "text/html", encoding=encoding)

    def parse_api(self, response):
        """A list endpoint a page referred to (Hanweb dataproxy XML, a JSON list API)."""
        self._stat("api_pages")
        content_type = _content_type(response)
        text, _ = decode_html(response.body)
        formdata = response.meta.get("nianbao_formdata")
        if formdata is not None and "<datastore" in text[:4000].lower():
            # The dataproxy answer plans the rest of the list only with the form it answered.
            page = cms.parse_dataproxy(response.url, text, formdata=formdata,
                                       referer=response.meta.get("nianbao_source"))
        else:
            page = cms.extract(response.url, text, content_type=content_type or "")
        if response.request.method == "GET":
            yield self._file_item(response, kind="page", report=None, source=response.meta.get("nianbao_source"),
                                  content_type=content_type)
        yield from self._follow(response, page, depth=response.meta.get("nianbao_depth", 0), is_report=False)

    def parse_script(self, response):
        """A linked script some click handlers need (spiders/clicks.py)."""
        yield from self.clicks.script_arrived(self, response)

    def script_failed(self, failure):
        return self.clicks.script_failed(self, failure)

    def _vague_report_link(self, text: str, verdict, page) -> bool:
        """A file link that may be a report though its text names no year (or nothing at all):
        report words without a year, or a report context (the page is a report column or a
        report-like list) and a text that is not a look-alike's."""
        if verdict.reason.startswith("lookalike") or recognise.lookalike(text or ""):
            return False
        if verdict.reason == "no-year":
            return True
        context = " ".join((page.heading or "", page.title or "", page.breadcrumb or ""))
        in_report_context = bool(_REPORT_WORDS.search(context)) and not recognise.lookalike(page.heading or page.title or "")
        return in_report_context and (not text or bool(_REPORT_WORDS.search(text) or _PLAIN_FILE.match(text)))

    def _judged(self, response, content_type, judge: dict) -> ReportRef | None:
        """The report a vaguely linked file is, from its own text; None for a look-alike."""
        from crawler.textract import extract_text

        text = extract_text(response.body[:JUDGE_MAX_BYTES], content_type=content_type, url=response.url) or ""
        verdict = recognise.classify(text=text[:TEXT_FOR_RECOGNITION], breadcrumb=judge.get("breadcrumb") or "",
                                     url=response.url, default_agency=self.site.agency)
        if not (verdict.is_report and verdict.year):
            self._stat("judge/not_reports")
            return None
        self._stat("judge/reports")
        canonical = links.canonical_url(response.url)
        if canonical not in self.reports_seen:
            self.reports_seen.add(canonical)
            self._stat("reports")
        first_line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        title = first_line if len(first_line) <= 80 and recognise.lookalike(first_line) is None else judge.get("text", "")
        agency, publisher = self._attribute(titles=[title, judge.get("text") or ""], named=verdict.agency,
                                            breadcrumb=judge.get("breadcrumb") or "", body=text[:TEXT_FOR_RECOGNITION])
        return ReportRef(agency=agency, year=verdict.year, title=(title or judge.get("text") or "").strip(), url=canonical,
                         publisher=publisher)

    def parse_file(self, response):
        self._stat("files")
        self.debts.answered(response.request.meta.get("redirect_urls", [response.url])[0])
        content_type = _content_type(response)
        report = response.meta["nianbao_report"]
        judge = response.meta.get("nianbao_judge")
        if judge is not None and _is_document(response, content_type):
            report = self._judged(response, content_type, judge)
            if report is not None:
                self.report_years.add(report.year)
        if report is not None and not _is_document(response, content_type):
            # Named a document, but the bytes are none (noise behind a .pdf name, an error page
            # answering for a .doc): kept as fetched, never counted as the report.
            self._stat("files_not_documents")
            self.logger.warning("%s: %s is not the document it is named as; archived, not a report",
                                self.site.id, response.url)
            report = None
        yield self._file_item(response, kind="attachment", report=report,
                              source=response.meta.get("nianbao_source"), content_type=content_type)

    def on_error(self, failure):
        request = failure.request
        if request.meta.get("nianbao_kind") == "file":
            original = (request.meta.get("redirect_urls") or [request.url])[0]
            if failure.check(NotDue):
                self.debts.answered(original)
            else:
                self.debts.failed(original, error_kind(failure))
        if failure.check(NotDue):
            # Revalidated recently (crawler/revisit.py): still listed, so still a live report.
            self.unread_pages.add(request.url)
            url = failure.value.report_url
            if failure.value.year:
                self.report_years.add(failure.value.year)
            if url not in self.reports_seen:
                self.reports_seen.add(url)
                self._stat("reports")
            self.not_due_reports.add(url)
            return
        kind = error_kind(failure)
        if kind == "robots_disallowed":
            self._stat("robots_disallowed")
            return
        self._stat(f"error/{kind}")
        self.logger.warning("%s: %s fetching %s", self.site.id, kind, request.url)

    # -- decisions applied ---------------------------------------------------------------
    def _report_for_page(self, url: str, page, link_text: str, body_text: str,
                         link_date: str | None = None, section: str | None = None) -> ReportRef | None:
        default = self.site.agency
        candidates = [
            recognise.classify(title=page.heading or page.title, breadcrumb=page.breadcrumb, url=url,
                               default_agency=default),
            recognise.classify(title=link_text, breadcrumb=page.breadcrumb, url=url, default_agency=default),
            recognise.classify(title=page.title, breadcrumb=page.breadcrumb, url=url, default_agency=default),
        ]
        verdict = next((v for v in candidates if v.is_report), None)
        titled_by = [page.heading or page.title, link_text, page.title]
        title = titled_by[candidates.index(verdict)] if verdict else ""
        if verdict is not None and candidates.index(verdict) == 1 and _links_onward(page, url, link_text):
            # The link's words name a report this page links to in turn (a column page reached
            # by the newest report's title): the report is further on.
            return None
        listing = _list_shape(page)
        if listing:
            # A list is never a report, however its title reads (a year's sub-column titled
            # 「2021年政府信息公开工作年度报告」, a tab page, page 4 of the 年报 column).
            self._stat("list_pages")
            return None
        if verdict is None:
            # Only an article, never a list, may be recognised from its body alone.
            report_links = sum(1 for ln in page.links if links.classify_title(ln.text).is_report)
            if report_links >= LIST_PAGE_REPORT_LINKS or _list_shape(page, loose=True):
                return None
            vetoed = any(v.reason.startswith("lookalike") for v in candidates)
            if vetoed:
                return None
            verdict = recognise.classify(heading=page.heading, breadcrumb=page.breadcrumb, text=body_text,
                                         url=url, default_agency=default)
            if not verdict.is_report and any(v.reason == "no-year" for v in candidates) and link_date:
                # 「政府信息公开工作年度报告」 and nothing else dates it: reports cover the year
                # before the one they are published in (due by 31 January, by 31 March before 2019).
                verdict = recognise.Verdict(True, int(link_date[:4]) - 1, None, "published-year")
                self._stat("judge/year_from_date")
            if not verdict.is_report:
                return None
            title = page.heading or link_text or page.title
        if verdict.year is None:
            return None
        agency, publisher = self._attribute(titles=[title, link_text], named=verdict.agency, fields=[page.publisher],
                                            breadcrumb=page.breadcrumb, section=section, body=body_text)
        canonical = links.canonical_url(url)
        if canonical not in self.reports_seen:
            self.reports_seen.add(canonical)
            self._stat("reports")
        return ReportRef(agency=agency, year=verdict.year, title=title.strip(), url=canonical, publisher=publisher)

    def _attribute(self, *, titles: list[str], named: str | None = None, fields: list[str | None] = (),
                   breadcrumb: str | None = "", section: str | None = None,
                   body: str | None = None) -> tuple[str, dict]:
        """Who published it (crawler/attribution.py): the canonical name and ReportRef.publisher.
        section: the publisher the listing that linked here names (its department column)."""
        names = [recognise.extract_agency(t) for t in titles if t]
        names = [n for n in names if n] or ([named] if named else [])
        evidence = attribution.gather(fields=list(fields), breadcrumb=breadcrumb, titles=names, body=body,
                                      section=section)
        publisher = attribution.attribute(evidence, self.site.agency)
        self._stat(f"attribution/{publisher['source']}")
        if publisher["conflict"]:
            self._stat("attribution/conflicts")
        return publisher["name"], publisher

    def _follow(self, response, page, *, depth: int, is_report: bool, report: ReportRef | None = None):
        list_root = response.meta.get("nianbao_list_root") or response.url
        # The publisher this page's own section names (a department's column), handed to the pages
        # it links; a list's continuation (pager, API, frame) keeps the one its first page named.
        section = attribution.section_name(breadcrumb=page.breadcrumb, heading=page.heading, title=page.title)
        if section is None and (response.meta.get("nianbao_list_root") or response.meta.get("nianbao_script_parent")
                                or response.meta.get("nianbao_formdata") is not None):
            section = response.meta.get("nianbao_section")
        skip_tail = self._tail_known(response, page)
        # A pager is also a link ("下一页"): once its pages are read from the archive, not fetched either.
        tail_urls = {f.url for f in page.pages if f.method == "GET" and f.kind == "list"} if skip_tail else set()
        for follow in page.pages:
            if skip_tail and follow.method == "GET" and follow.kind == "list":
                yield from self._archived_tail(follow, response=response, depth=depth, list_root=list_root,
                                               section=section)
                continue
            count = self.list_pages.get(list_root, 0)
            if count >= self.site.budget.max_list_pages:
                self._stat("list_pages_capped")
                break
            if not scope.in_scope(follow.url, self.site.allowed_hosts):
                continue
            if follow.text and not _worth_choosing(follow):
                continue
            self.list_pages[list_root] = count + 1
            if follow.kind == "list" and follow.method == "POST":
                # A post-back pager: the answer is a page of the list like any other.
                req = self._form_request(follow, depth=depth, source=response.url, list_root=list_root)
                if req is not None:
                    req.meta["nianbao_script_parent"] = response.meta.get("nianbao_script_parent")
                    yield req
                continue
            if follow.kind == "api" or follow.method != "GET":
                key = f"{follow.method} {follow.url} {sorted((follow.formdata or {}).items())}"
                if key in self.scheduled:
                    continue
                self.scheduled.add(key)
                meta = {"nianbao_depth": depth, "nianbao_list_root": list_root,
                        "nianbao_source": response.url, "nianbao_section": section}
                if follow.method == "POST":
                    meta["nianbao_formdata"] = dict(follow.formdata or {})
                    yield FormRequest(follow.url, formdata=follow.formdata or {}, callback=self.parse_api,
                                      errback=self.on_error, meta=meta, priority=500,
                                      headers=follow.headers, dont_filter=True)
                else:
                    yield Request(follow.url, callback=self.parse_api, errback=self.on_error, meta=meta,
                                  priority=500, headers=follow.headers)
            else:
                req = self._page_request(follow.url, depth=depth, text="", source=response.url,
                                         priority=400, list_root=list_root)
                if req is not None:
                    req.meta["nianbao_section"] = section
                    if response.meta.get("nianbao_script_parent"):
                        req.meta["nianbao_script_parent"] = response.meta["nianbao_script_parent"]
                    yield req

        calls = []
        for link in page.links:
            url = link.url
            if link.via == "call":
                calls.append(link)
                continue
            if not url.startswith(("http://", "https://")) or url in tail_urls:
                continue
            if links.is_attachment(url):
                verdict = recognise.classify(title=link.text, url=url, default_agency=self.site.agency)
                if verdict.is_report and verdict.year and scope.attachment_in_scope(url, self.site.allowed_hosts):
                    # A list linking the report file itself: the file is the report.
                    canonical = links.canonical_url(url)
                    agency, publisher = self._attribute(titles=[link.text], named=verdict.agency,
                                                        breadcrumb=page.breadcrumb, section=section)
                    report = ReportRef(agency=agency, year=verdict.year, title=link.text.strip(), url=canonical,
                                       publisher=publisher)
                    if canonical not in self.reports_seen:
                        self.reports_seen.add(canonical)
                        self._stat("reports")
                    yield self._file_request(canonical, report=report, source=response.url)
                elif report is not None and scope.attachment_in_scope(url, self.site.allowed_hosts) \
                        and not _foreign_attachment(link.text):
                    # A file of a report page reached through a click handler: the page's file.
                    yield self._file_request(links.canonical_url(url), report=report, source=response.url)
                elif self._vague_report_link(link.text, verdict, page) and \
                        scope.attachment_in_scope(url, self.site.allowed_hosts):
                    # 「年度报告.pdf」 in a report column: only the file's own text can tell.
                    canonical = links.canonical_url(url)
                    if canonical not in self.judged:
                        self.judged.add(canonical)
                        self._stat("judge/files_fetched")
                        yield self._file_request(canonical, report=None, source=response.url,
                                                 judge={"text": link.text, "date": link.date,
                                                        "breadcrumb": page.breadcrumb})
                continue
            if not scope.in_scope(url, self.site.allowed_hosts):
                continue
            if link.via == "frame":
                # A frame, iframe or redirect is the page itself as the visitor sees it: same
                # depth, whatever its (usually empty) name says.
                if links.score_link(text="", url=url) <= -10:
                    continue
                req = self._page_request(url, depth=depth, text=link.text, source=response.url,
                                         priority=FRAME_PRIORITY - depth)
                if req is not None:
                    req.meta["nianbao_script_parent"] = response.url
                    req.meta["nianbao_section"] = section
                    self._stat("discovery/frames")
                    yield req
                continue
            if depth + 1 > self.site.budget.max_depth:
                continue
            # Report titles score highest (links.score_link classifies the text itself).
            score = links.score_link(text=link.text, url=url)
            if link.via == "option" and score <= 0 and recognise.parse_year(link.text):
                score = 6.0  # 「2016年度」 in a navigating year picker: a year of the list
            if score <= 0:
                self.widening.consider(link, depth=depth + 1, source=response.url)
                continue
            self.widening.saw(link)
            req = self._page_request(url, depth=depth + 1, text=link.text, source=response.url,
                                     priority=int(score * 10) - depth, date=link.date)
            if req is not None:
                req.meta["nianbao_section"] = section
                if link.via != "a":
                    self._stat(f"discovery/{link.via}")
                yield req
        script_parent = response.meta.get("nianbao_script_parent")
        if page.scripts or page.inline_js:
            self.clicks.remember(response.url, page, script_parent)
        if calls:
            yield from self.clicks.handle(self, response.url, page, calls, depth=depth, list_root=list_root,
                                          report=report, parent=script_parent)

    # -- recrawls: a list's known tail (crawler/listtail.py) -------------------------------
    def _tail_known(self, response, page) -> bool:
        """This list page holds only items the archive knows: its further pages may be read
        from the archive (when they were read recently enough)."""
        tails = self.list_tails
        request = getattr(response, "request", None)     # a click handler's origin has none
        if tails is None or not tails.enabled or not page.pages or request is None or request.method != "GET":
            return False
        items = self._list_items(page)
        known = tails.only_known(items)
        if not known:
            self.logger.debug("%s: %s lists %d items not in the archive: its further pages are read",
                              self.site.id, response.url, sum(1 for u in items if not tails.known(u)))
        return known

    def _list_items(self, page) -> list[str]:
        """The items a list page lists: the links it would follow, its pager aside."""
        pager = {f.url for f in page.pages}
        return [links.canonical_url(ln.url) for ln in page.links
                if ln.url.startswith(("http://", "https://")) and ln.url not in pager
                and self._followable(ln.url, ln.text)]

    def _archived_tail(self, follow, *, response, depth: int, list_root: str, section: str | None):
        """The further pages of a list whose earlier page held nothing new: what they listed
        when last read stands for them; a page due again (or not kept) is fetched."""
        key = f"tail {follow.url}"
        if key in self.scheduled:
            return
        self.scheduled.add(key)
        listed, read, fetch = self.list_tails.archived_tail(follow.url, limit=self.site.budget.max_list_pages,
                                                            items=self._list_items)
        if read:
            self.unread_pages.update(read)
            self._stat("recrawl/list_tails_skipped")
            self._stat("recrawl/list_pages_not_fetched", len(read))
            fresh = {u for u in listed if u not in self.tail_urls}
            self.tail_urls.update(fresh)
            self._stat("recrawl/tail_items_carried", len(fresh))
        for url in fetch:
            req = self._page_request(url, depth=depth, text="", source=response.url, priority=400, list_root=list_root)
            if req is not None:
                self._stat("recrawl/tail_pages_due")
                req.meta["nianbao_section"] = section
                yield req

    def _form_request(self, follow, *, depth: int, source: str, list_root: str | None):
        key = follow.key or f"{follow.method} {follow.url} {sorted((follow.formdata or {}).items())}"
        if key in self.scheduled:
            return None
        if len(self.scheduled) >= self.site.budget.max_pages:
            self._stat("budget_exhausted")
            return None
        self.scheduled.add(key)
        self._stat("discovery/postbacks")
        return FormRequest(follow.url, formdata=follow.formdata or {}, callback=self.parse_page,
                           errback=self.on_error, priority=400, dont_filter=True,
                           headers={"Referer": source},
                           meta={"nianbao_depth": depth, "nianbao_text": follow.text, "nianbao_source": source,
                                 "nianbao_list_root": list_root, "nianbao_kind": "form",
                                 # a refused post-back (a view state the server rejects) is refused again
                                 "max_retry_times": 1})

    def _direct_file(self, response, content_type):
        verdict = recognise.classify(title=response.meta.get("nianbao_text", ""), url=response.url,
                                     default_agency=self.site.agency)
        if not (verdict.is_report and verdict.year):
            self._stat("skipped_files")
            return
        agency, publisher = self._attribute(titles=[response.meta.get("nianbao_text", "")], named=verdict.agency)
        report = ReportRef(agency=agency, year=verdict.year, title=response.meta.get("nianbao_text", "").strip(),
                           url=links.canonical_url(response.url), publisher=publisher)
        yield self._file_item(response, kind="attachment", report=report,
                              source=response.meta.get("nianbao_source"), content_type=content_type)

    def _plain_item(self, plain: dict, *, report: ReportRef, derived: dict, browser: str | None,
                    source: str | None) -> FileItem:
        cd = plain["headers"].get("Content-Disposition")
        return FileItem(
            site_id=self.site.id, url=plain["url"], final_url=plain["final_url"], source_page=source,
            status=plain["status"], headers=plain["headers"], body=plain["body"],
            content_type=plain["content_type"], filename=_safe_name(cd, plain["final_url"]),
            fetched_at=datetime.now(timezone.utc), kind="page", report=report, rendered=False,
            browser_version=browser, derived=derived, warc=plain.get("warc"), unchanged=plain.get("unchanged"),
            resumed=plain.get("resumed", False))

    def _file_item(self, response, *, kind: str, report: ReportRef | None, source: str | None,
                   content_type: str | None, analysis: bytes | None = None) -> FileItem:
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        cd = response.headers.get("Content-Disposition")
        request_url = response.request.meta.get("redirect_urls", [response.url])[0]
        return FileItem(
            site_id=self.site.id, url=request_url, final_url=response.url, source_page=source,
            status=response.status, headers=headers, body=response.body, content_type=content_type,
            filename=_safe_name(cd, response.url), fetched_at=datetime.now(timezone.utc),
            warc=response.meta.get("nianbao_warc"), unchanged=response.meta.get("nianbao_unchanged"),
            resumed=bool(response.meta.get("nianbao_resumed")), analysis=analysis,
            kind=kind, report=report, rendered="playwright" in response.flags or
            bool(response.meta.get("playwright")), browser_version=response.meta.get("nianbao_browser"))

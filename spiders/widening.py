"""More effort where the yield says so: what a run tries once its plain walk is over and the
site has given fewer reports than it should.

Every government body publishes a report a year, so a site whose walk ended with none, or
with far fewer years than its own dates span, has hidden them from the focused crawl: on a
site with no report column they sit among 通知公告 / 政务公开 / 最新信息 items; behind a
menu drawn by script they show only in a browser. The stages, each tried once and only while
the shortfall lasts:

1. `columns`: general columns the focused walk skipped (their names promise news or notices,
   not reports) are read, with their pagers; in them, as everywhere, only report-titled items
   are fetched.
2. `browser`: the pages that led nowhere plainly (the start pages, disclosure and column pages)
   are drawn once in Chromium.

Bounded by the site's budget (`budget.widen_pages`, default 300 requests per stage). The run's
stats record what each stage asked for and the reports found after it (nianbao/widen/...).
"""
from __future__ import annotations

import re
from datetime import date

from crawler import links, scope
from crawler import render as render_rules
from crawler.rendering import render_meta

# Columns that hold everything a body publishes, reports included where nothing else does.
_GENERAL_COLUMN = re.compile(
    r"通知公告|公示公告|公告公示|通知|公告|公示|政务公开|信息公开|政府信息|公开目录|最新信息|最新公开|最新动态|"
    r"工作动态|政务动态|部门动态|其他信息|其它信息|综合信息|文件|资料|专栏|法定主动公开|主动公开|更多")
FIRST_YEAR = 2008
MAX_CANDIDATES = 2000
RENDER_PAGES = 10


class Widening:
    def __init__(self):
        self.candidates: dict[str, tuple[str, int, str]] = {}   # url -> (text, depth, source)
        self.walked: list[str] = []          # pages the plain walk fetched, in order (for the browser stage)
        self.earliest: int | None = None     # earliest year printed beside a link
        self.stage = 0
        self.reports_before = 0
        self.done: list[str] = []

    # -- what the walk saw ---------------------------------------------------------------
    def saw(self, link) -> None:
        if link.date:
            year = int(link.date[:4])
            if year >= FIRST_YEAR and (self.earliest is None or year < self.earliest):
                self.earliest = year

    def consider(self, link, *, depth: int, source: str) -> None:
        self.saw(link)
        if len(self.candidates) >= MAX_CANDIDATES or link.url in self.candidates:
            return
        text = (link.text or "").strip()
        if 2 <= len(text) <= 20 and _GENERAL_COLUMN.search(text) and not links.is_article_url(link.url) \
                and links.score_link(text="", url=link.url) > -3:
            self.candidates[link.url] = (text, depth, source)

    def walked_page(self, url: str) -> None:
        if len(self.walked) < 200:
            self.walked.append(url)

    # -- deciding ------------------------------------------------------------------------
    def shortfall(self, years: set[int], today: date | None = None) -> bool:
        """No report at all, or fewer than half the years the site's own dates span."""
        if not years:
            return True
        last = (today or date.today()).year - 1
        first = max(FIRST_YEAR, min([y for y in (self.earliest, min(years)) if y is not None]))
        expected = last - first + 1
        return len(years) * 2 < expected

    def next_stage(self, spider) -> list:
        stats = spider.crawler.stats
        if self.done:
            stats.set_value(f"nianbao/widen/{self.done[-1]}/reports_after",
                            len(spider.reports_seen) - self.reports_before)
        if not self.shortfall(spider.report_years):
            return []
        budget = spider.site.budget.widen_pages
        while self.stage < 2:
            stage = ("columns", "browser")[self.stage]
            self.stage += 1
            requests = self._columns(spider, budget) if stage == "columns" else self._browser(spider)
            if requests:
                self.done.append(stage)
                self.reports_before = len(spider.reports_seen)
                stats.set_value(f"nianbao/widen/{stage}/requests", len(requests))
                spider.logger.info("%s: %d report(s) so far; widening (%s, %d requests)", spider.site.id,
                                   len(spider.reports_seen), stage, len(requests))
                return requests
        return []

    def _columns(self, spider, budget: int) -> list:
        out = []
        for url, (text, depth, source) in self.candidates.items():
            if len(out) >= budget:
                break
            if not scope.in_scope(url, spider.site.allowed_hosts):
                continue
            req = spider._page_request(url, depth=min(depth, spider.site.budget.max_depth), text=text,
                                       source=source, priority=50)
            if req is not None:
                out.append(req)
        return out

    def _browser(self, spider) -> list:
        if spider.render_mode == "never":
            return []
        out = []
        from scrapy.http import Request

        for url in self.walked[:RENDER_PAGES]:
            if spider.sampler.shapes.get(render_rules.page_shape(url), {}).get("renders"):
                continue  # drawn in the browser already
            out.append(Request(url, callback=spider.parse_rendered, errback=spider.on_render_error,
                               dont_filter=True, priority=50,
                               meta=render_meta(nianbao_depth=0, nianbao_text="", nianbao_source=None,
                                                nianbao_list_root=None)))
        return out

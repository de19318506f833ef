"""What every family shares: the Site (one portal's routes), HTML helpers, serving of documents and
attachments, removed documents, and the traps and quirks linked from home pages."""
from __future__ import annotations

import datetime as dt
import html
from typing import Callable, Iterator
from urllib.parse import urlsplit

from .. import files, texts
from ..content import DocFactory, lookalike_columns, news_column, pick_report_column, report_column
from ..model import Attachment, Column, Doc, Handler, Portal, Request, Response
from ..names import to_traditional
from ..rand import rng, stable_int

SOFT_404_HTML = "<html><head><title>页面不存在</title></head><body><div class=\"err\">对不起，您访问的页面不存在或已被删除！</div><a href=\"/\">返回首页</a></body></html>"
DEAD_HOST_PREFIX = "www.old"


class Site:
    """One portal, generated: its columns and documents and a table of routes by (host, path)."""

    def __init__(self, world, portal: Portal):
        self.world, self.portal = world, portal
        self.seed, self.epoch = world.seed, world.epoch
        self.columns: list[Column] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.prefixes: list[tuple[str, str, Handler]] = []
        self.lookalike_urls: set[str] = set()
        self.disallowed_urls: set[str] = set()
        self.traps: dict[str, str] = {}
        self.encoding = "utf-8"
        self.factory = DocFactory(self.seed, portal, last_year=world.last_year)

    @property
    def host(self) -> str:
        return self.portal.hosts[0]

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}{path}"

    def route(self, url: str, handler: Handler) -> None:
        parts = urlsplit(url)
        self.routes[(parts.hostname, parts.path)] = handler

    def route_prefix(self, url: str, handler: Handler) -> None:
        parts = urlsplit(url)
        self.prefixes.append((parts.hostname, parts.path, handler))

    def handle(self, req: Request) -> Response:
        handler = self.routes.get((req.host, req.path))
        if handler is None:
            for host, prefix, h in self.prefixes:
                if host == req.host and req.path.startswith(prefix):
                    handler = h
                    break
        if handler is None:
            return self.not_found()
        return handler(req)

    def not_found(self) -> Response:
        if "soft404" in self.portal.quirks:
            return Response(200, SOFT_404_HTML.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")], cacheable=False)
        return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", [("Content-Type", "text/html")], cacheable=False)

    # -- content -------------------------------------------------------------------------------------------------
    def visible(self, docs: list[Doc]) -> list[Doc]:
        return [d for d in docs if d.visible(self.epoch)]

    def standard_columns(self, *, allow_html: bool = True, traditional: bool = False) -> tuple[Column, list[Column], Column]:
        p = self.portal
        slug, name = pick_report_column(self.seed, p.site_id)
        short = p.agency[len(p.region_name):] if p.agency.startswith(p.region_name) else p.agency
        reports = report_column(self.factory, agency=p.agency, short=short, first_year=p.first_year, slug=slug,
                                name=to_traditional(name) if traditional else name, allow_html=allow_html,
                                traditional=traditional, lookalikes=2 + (p.index % 2))
        looks = lookalike_columns(self.factory, p.agency)
        news = news_column(self.factory, p.agency, self.world.news_count(p))
        self.columns = [reports, *looks, news]
        return reports, looks, news

    def doc_text(self, doc: Doc) -> str:
        if doc.kind == "report":
            return texts.report_body(seed_index=doc.seed_index, agency=doc.agency, year=doc.year,
                                     traditional=doc.traditional, revision=doc.revision(self.epoch))
        if doc.kind == "lookalike":
            return texts.lookalike_body(title=doc.title, agency=doc.agency, year=doc.year or 2020)
        body = f"{doc.date:%Y年%m月%d日}，{doc.title}。会议强调，要坚持以人民为中心，扎实推进各项工作落地见效。"
        return body + ("（更新）" if doc.revision(self.epoch) else "")

    def body_html(self, doc: Doc) -> str:
        paras = [p.strip() for p in self.doc_text(doc).splitlines() if p.strip()]
        return "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)

    def file_bytes(self, doc: Doc, att: Attachment) -> bytes:
        return files.build(att.kind, doc.title, self.doc_text(doc), image_only=att.image_only)

    def note_doc(self, doc: Doc) -> None:
        """Record where a look-alike lives (its page and its files)."""
        if doc.kind == "lookalike":
            self.lookalike_urls.add(doc.url)
            self.lookalike_urls.update(a.url for a in doc.attachments)

    # -- responses -----------------------------------------------------------------------------------------------
    def html(self, text: str, *, status: int = 200, modified: dt.date | None = None) -> Response:
        return Response(status, text.encode(self.encoding, errors="xmlcharrefreplace"),
                        [("Content-Type", f"text/html; charset={self.encoding}")], last_modified=modified)

    def gone(self, doc: Doc) -> Response:
        """A removed document: 404, 410 or a soft 404, fixed per document."""
        if doc.status == "added":
            return self.not_found()
        choice = stable_int(self.seed, doc.doc_id, "gone") % 3
        if choice == 0 or "soft404" in self.portal.quirks:
            return Response(200, SOFT_404_HTML.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")], cacheable=False)
        status = 404 if choice == 1 else 410
        return Response(status, f"<html><body><h1>{status}</h1></body></html>".encode(), [("Content-Type", "text/html")], cacheable=False)

    def doc_handler(self, doc: Doc, render: Callable[[Doc], Response]) -> Handler:
        def handler(req: Request) -> Response:
            if not doc.visible(self.epoch):
                return self.gone(doc)
            return render(doc)
        return handler

    def modified(self, doc: Doc) -> dt.date:
        """Last-Modified of a document: its date, or a later one once it has been revised."""
        return dt.date(2025, 6, 1) if doc.revision(self.epoch) else doc.date

    def file_response(self, doc: Doc, att: Attachment, *, disposition: str | None = None) -> Response:
        if not doc.visible(self.epoch):
            return self.gone(doc)
        headers = [("Content-Type", files.CONTENT_TYPES[att.kind])]
        if disposition:
            headers.append(("Content-Disposition", disposition))
        return Response(200, self.file_bytes(doc, att), headers, last_modified=self.modified(doc))

    def file_handler(self, doc: Doc, att: Attachment) -> Handler:
        return lambda req: self.file_response(doc, att)

    # -- shared pages --------------------------------------------------------------------------------------------
    def page(self, title: str, body: str, *, head: str = "", charset_meta: str | None = "utf-8") -> str:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else ""
        p = self.portal
        return (f"<!DOCTYPE html>\n<html><head>{meta}<title>{html.escape(title)}_{html.escape(p.agency)}</title>{head}</head>\n"
                f"<body><div class=\"header\"><a href=\"/\">{html.escape(p.agency)}</a></div>\n{body}\n"
                f"<div class=\"footer\">主办：{html.escape(p.agency)} 网站标识码：{p.region_code}0001</div></body></html>")

    def article_page(self, doc: Doc, *, zoom: str = "zoom", extra_meta: str = "", charset_meta: str | None = "utf-8",
                     link=lambda a: a.url) -> str:
        """An article: heading, meta line, body (when the report is in the page), attachment links."""
        att_links = "".join(f'<li><a href="{html.escape(link(a))}">{html.escape(a.label)}</a></li>' for a in doc.attachments)
        body = self.body_html(doc) if doc.body_in_page else f"<p>{html.escape(doc.title)}，详见附件。</p>"
        return self.page(doc.title, (
            f'<div class="article"><h1 class="title">{html.escape(doc.title)}</h1>'
            f'<div class="info">发布日期：{doc.date:%Y-%m-%d} 来源：{html.escape(doc.agency)}{extra_meta}</div>'
            f'<div id="{zoom}">{body}</div>'
            + (f'<div class="attachments">附件：<ul>{att_links}</ul></div>' if doc.attachments else "")
            + "</div>"), charset_meta=charset_meta)

    def list_items(self, docs: list[Doc]) -> str:
        return "\n".join(f'<li><a href="{html.escape(d.listed_url or d.url)}" title="{html.escape(d.title)}" target="_blank">'
                         f"{html.escape(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>" for d in docs)

    def add_quirks(self, reports: Column) -> str:
        """Register the quirk routes this portal has; return the home-page links that lead into them."""
        q, links = self.portal.quirks, []
        visible_reports = [d for d in reports.docs if d.kind == "report" and d.status == "stable"]
        if "tracking" in q and visible_reports:
            d = visible_reports[0]
            d.listed_url = d.url + "?from=timeline&isappinstalled=0"
        if "jsessionid" in q and len(visible_reports) > 1:
            d = visible_reports[1]
            path = urlsplit(d.url).path
            d.listed_url = d.url.replace(path, path + f";jsessionid={stable_int(self.seed, d.doc_id) % 16**16:016X}")
        if "redirect" in q and len(visible_reports) > 2:
            d = visible_reports[2]
            # On the article's own host: lists print the link relative to it.
            host = urlsplit(d.url).netloc
            hop1, hop2 = self.url(f"/old/art_{d.doc_id}.htm", host), self.url(f"/jump?id={d.doc_id}", host)
            self.route(hop1, lambda req, u=hop2: redirect(u, 301))
            self.route(self.url("/jump", host), lambda req, u=d.url: redirect(u, 302))
            d.listed_url = hop1
        if "robots" in q:
            self.route(self.url("/robots.txt"), lambda req: Response(
                200, b"User-agent: *\nDisallow: /private/\nDisallow: /search/\n", [("Content-Type", "text/plain")]))
            priv = self.url("/private/nb/index.html")
            self.disallowed_urls.add(priv)
            items = []
            for y in (2019, 2020):
                u = self.url(f"/private/nb/{y}.html")
                self.disallowed_urls.add(u)
                title = f"{self.portal.agency}{y}年政府信息公开工作年度报告（内部稿）"
                self.route(u, lambda req, t=title: self.html(self.page(t, f"<h1>{t}</h1><p>内部资料</p>")))
                items.append(f'<li><a href="{u}">{title}</a></li>')
            self.route(priv, lambda req: self.html(self.page("内部", "<ul>" + "".join(items) + "</ul>")))
            links.append(f'<a href="{priv}">年报（内部）</a>')
        if "calendar" in q:
            base = self.url("/calendar/")
            self.traps["calendar"] = base
            self.route_prefix(base, self._calendar)
            links.append(f'<a href="{base}index.html?date=2024-01">活动日历</a>')
        if "oversized" in q:
            u = self.url("/download/big/zwgk_setup.zip")
            self.traps["oversized"] = self.url("/download/big/")
            self.route(u, lambda req: oversized(self.world.big_file_size))
            links.append(f'<a href="{u}">政务公开客户端下载</a>')
        if "dead_link" in q:
            host = DEAD_HOST_PREFIX + self.host.split(".", 1)[1]
            u = f"http://{host}/xxgk/index.html"
            self.traps["dead_link"] = f"http://{host}/"
            links.append(f'<a href="{u}">旧版网站</a>')
        if "flaky" in q and visible_reports:
            self.traps["flaky"] = visible_reports[0].url
        return " ".join(links)

    def _calendar(self, req: Request) -> Response:
        date = req.params.get("date", "2024-01")
        try:
            y, m = (int(x) for x in date.split("-"))
        except ValueError:
            y, m = 2024, 1
        nxt = f"{y + (m == 12)}-{m % 12 + 1:02d}"
        prev = f"{y - (m == 1)}-{(m - 2) % 12 + 1:02d}"
        return self.html(self.page(f"{y}年{m}月活动日历", f"<h1>{y}年{m}月</h1><a href=\"index.html?date={prev}\">上一月</a> "
                                   f"<a href=\"index.html?date={nxt}\">下一月</a>"))


def redirect(url: str, status: int = 302) -> Response:
    return Response(status, b"", [("Location", url)], cacheable=False)


def oversized(size: int) -> Response:
    def chunks() -> Iterator[bytes]:
        block = b"\0" * 65536
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
    return Response(200, chunks(), [("Content-Type", "application/zip")], length=size, cacheable=False)


def json_response(obj) -> Response:
    import json
    return Response(200, json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                    [("Content-Type", "application/json;charset=UTF-8")])

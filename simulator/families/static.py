"""A plain static CMS: list pages with ordinary 下一页 links, server-rendered articles.
Also the base of the traditional-character mirror and of the two anti-bot portals."""
from __future__ import annotations

import html

from ..names import to_traditional
from .common import Site

PER_PAGE = 8


def build(site: Site, *, traditional: bool = False, prefix: str = "/xxgk") -> None:
    reports, looks, news = site.standard_columns(traditional=traditional)
    columns = [reports, *looks, news]
    if traditional:
        for col in columns:
            col.name = to_traditional(col.name)
            for d in col.docs:
                d.title = to_traditional(d.title)
                for a in d.attachments:
                    a.label = to_traditional(a.label)
    for col in columns:
        col.url = site.url(f"{prefix}/{col.slug}/list.html")
        for d in col.docs:
            d.url = site.url(f"{prefix}/{col.slug}/{d.date:%Y%m}/{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/uploads/{d.date:%Y/%m}/{d.doc_id}_{k}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(site.article_page(doc), modified=site.modified(doc))))
            site.note_doc(d)
    quirk_links = site.add_quirks(reports)
    for col in columns:
        _route_list(site, col, prefix)
    nav = "".join(f'<li><a href="{c.url}">{html.escape(c.name)}</a></li>' for c in columns)
    open_page = site.url(f"{prefix}/index.html")
    site.route(open_page, lambda req: site.html(site.page("政府信息公开", f'<ul class="nav">{nav}</ul>')))
    home = lambda req: site.html(site.page("首页", f'<a href="{open_page}">政府信息公开</a> {quirk_links}'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _route_list(site: Site, col, prefix: str) -> None:
    def handler(req, n: int):
        docs = site.visible(col.docs)
        pages = max(1, -(-len(docs) // PER_PAGE))
        if n > pages:
            return site.not_found()
        chunk = docs[(n - 1) * PER_PAGE: n * PER_PAGE]
        nxt = f'<a href="list_{n + 1}.html">下一页</a>' if n < pages else ""
        prev = f'<a href="{"list.html" if n == 2 else f"list_{n - 1}.html"}">上一页</a>' if n > 1 else ""
        crumb = f'<div class="crumb">首页 &gt; 政府信息公开 &gt; {html.escape(col.name)}</div>'
        return site.html(site.page(col.name, f'{crumb}<ul class="list">{site.list_items(chunk)}</ul>'
                                   f'<div class="page">{prev} 第{n}页/共{pages}页 {nxt}</div>'))
    site.route(col.url, lambda req: handler(req, 1))
    for n in range(2, 2 + max(1, len(col.docs) // PER_PAGE + 1)):
        site.route(site.url(f"{prefix}/{col.slug}/list_{n}.html"), lambda req, n=n: handler(req, n))


def build_traditional(site: Site) -> None:
    build(site, traditional=True, prefix="/zwgk")

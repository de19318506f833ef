"""nocolumn: a small department site with no report column at all, as on many county bureaus and
township sites: each year's report is posted as an ordinary item in general columns (通知公告,
政务公开, 最新信息) among dozens of notices, several pages deep in plain 下一页 pagination. Only the
title (or the attachment) tells a report from the news around it."""
from __future__ import annotations

from ..model import Column, Request, Response
from ..rand import rng, stable_int
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

PER_PAGE = 10
COLUMNS = [("tzgg", "通知公告"), ("zwgk", "政务公开"), ("zxxx", "最新信息")]


def build(site: Site) -> None:
    reports_docs = make_reports(site, "mixed", report_years(site), kinds=("pdf", "", "docx", "pdf"))
    looks = make_lookalikes(site, "mixed", 3, salt="n")
    r = rng(site.seed, site.portal.site_id, "nocolumn")
    buckets = {slug: [] for slug, _ in COLUMNS}
    for d in reports_docs + looks:
        buckets[r.choice([s for s, _ in COLUMNS])].append(d)
    cols = []
    for slug, name in COLUMNS:
        docs = newest_first(buckets[slug] + make_fillers(site, slug, 26, salt=slug))
        for d in docs:
            d.column = slug
        cols.append(Column(slug=slug, name=name, kind="news", docs=docs, agency=site.portal.agency))
    site.columns = cols
    for col in cols:
        for d in col.docs:
            d.url = site.url(f"/{col.slug}/{d.date:%Y%m}/t{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/attach/{d.doc_id}_{k}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(site.article_page(doc), modified=doc.date)))
            site.note_doc(d)
        col.url = site.url(f"/{col.slug}/index.html")
        pages = -(-len(col.docs) // PER_PAGE)
        for n in range(1, pages + 1):
            path = f"/{col.slug}/index.html" if n == 1 else f"/{col.slug}/index_{n}.html"
            site.route(site.url(path), lambda req, c=col, n=n, pages=pages: _list(site, c, n, pages))
    nav = "".join(f'<li><a href="/{slug}/index.html">{name}</a></li>' for slug, name in COLUMNS)
    latest = newest_first([d for c in cols for d in c.docs])[:6]
    home = lambda req: site.html(site.page("首页", f'<ul class="nav">{nav}</ul><ul class="latest">{site.list_items(latest)}</ul>'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _list(site: Site, col: Column, n: int, pages: int) -> Response:
    chunk = col.docs[(n - 1) * PER_PAGE: n * PER_PAGE]
    nxt = f'<a href="index_{n + 1}.html">下一页</a>' if n < pages else ""
    prev = f'<a href="{"index.html" if n == 2 else f"index_{n - 1}.html"}">上一页</a>' if n > 1 else ""
    return site.html(site.page(col.name, f'<div class="crumb">首页 &gt; {col.name}</div><ul class="list">'
                                         f'{site.list_items(chunk)}</ul><div class="page">{prev} {n}/{pages} {nxt}</div>'))

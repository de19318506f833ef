"""A disclosure-directory platform (xxgk. host) hosting many departments, each with its own 年报
column. A report's agency is the department, shown in the breadcrumb and in a 发布机构 field."""
from __future__ import annotations

import html

from ..content import lookalike_columns, pick_report_column, report_column
from ..names import DEPARTMENTS
from ..rand import rng
from .common import Site

PER_PAGE = 6


def build(site: Site) -> None:
    p = site.portal
    r = rng(site.seed, p.site_id, "departments")
    count = 4 if site.world.size == "tiny" else r.randint(4, 9)
    depts = [("zf", "人民政府")] + [(label, name) for name, label in r.sample(DEPARTMENTS[1:], count - 1)]
    columns = []
    for label, name in depts:
        agency = p.region_name + name if name != "人民政府" else p.agency
        slug, col_name = pick_report_column(site.seed, p.site_id, label)
        # Departments came to the platform in different years, and some skipped years (gaps).
        first = max(p.first_year, r.randint(2008, 2018))
        col = report_column(site.factory, agency=agency, short=name, first_year=first, slug=slug, name=col_name,
                            allow_html=True, traditional=False, dept=label, lookalikes=1)
        columns.append(col)
    columns += lookalike_columns(site.factory, p.agency)
    site.columns = columns
    for col in columns:
        dept = col.dept or "zf"
        base = f"/{dept}/{col.slug}/"
        col.url = site.url(base + "index.html")
        for d in col.docs:
            d.url = site.url(f"{base}content_{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/{dept}/attach/{d.doc_id}_{k}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc, c=col: site.html(_article(site, doc, c), modified=site.modified(doc))))
            site.note_doc(d)
    quirk_links = site.add_quirks(columns[0])
    for col in columns:
        base = f"/{col.dept or 'zf'}/{col.slug}/"
        for n in range(1, 2 + len(col.docs) // PER_PAGE):
            path = base + ("index.html" if n == 1 else f"index_{n}.html")
            site.route(site.url(path), lambda req, c=col, n=n: _list(site, c, n, base))
    by_dept = {}
    for col in columns:
        by_dept.setdefault(col.dept or "zf", []).append(col)
    blocks = []
    for label, name in depts:
        cols = by_dept.get(label, []) + ([c for c in columns if c.kind == "lookalike"] if label == "zf" else [])
        agency = cols[0].agency if cols else name
        links = "".join(f'<li><a href="{c.url}">{html.escape(c.name)}</a></li>' for c in cols)
        blocks.append(f'<div class="dept"><h3>{html.escape(agency)}</h3><ul>{links}</ul></div>')
    home = lambda req: site.html(site.page("政府信息公开目录", "".join(blocks) + " " + quirk_links))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _list(site: Site, col, n: int, base: str):
    docs = site.visible(col.docs)
    pages = max(1, -(-len(docs) // PER_PAGE))
    if n > pages:
        return site.not_found()
    nxt = f'<a href="index_{n + 1}.html">下一页</a>' if n < pages else ""
    crumb = f'<div class="crumb">首页 &gt; {html.escape(col.agency)} &gt; {html.escape(col.name)}</div>'
    return site.html(site.page(col.name, f'{crumb}<ul>{site.list_items(docs[(n - 1) * PER_PAGE:n * PER_PAGE])}</ul>{nxt}'))


def _article(site: Site, doc, col) -> str:
    table = (f'<table class="meta"><tr><td>索引号：</td><td>{site.portal.region_code}/{doc.doc_id}</td>'
             f'<td>发布机构：</td><td>{html.escape(doc.agency)}</td></tr>'
             f'<tr><td>发文日期：</td><td>{doc.date:%Y-%m-%d}</td><td>主题分类：</td><td>政务公开</td></tr></table>')
    crumb = f'<div class="crumb">首页 &gt; {html.escape(doc.agency)} &gt; {html.escape(col.name)}</div>'
    page = site.article_page(doc, zoom="zoom")
    return page.replace('<div class="article">', f'{crumb}{table}<div class="article">', 1)

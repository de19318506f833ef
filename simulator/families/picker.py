"""picker: a report column that links only its newest report; older years are reached through a
year picker, as on many city portals built by 开普云 / 南威 and on provincial 政务公开 专栏 pages
("历年年报" drop-downs): variant `select` has <select onchange="location.href=this.value"> whose option
values are URLs; variant `form` has a GET <form> with a <select name="year"> (list.jsp?year=2016).
Every page carries <base href="/portal/">, and all links are relative to it, so joining a link
against the page's own URL (ignoring <base>) gives paths that answer 404."""
from __future__ import annotations

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site
from .kit import esc, make_lookalikes, make_reports, newest_first, report_years

BASE = "/portal/"


def build_select(site: Site) -> None:
    build(site, "select")


def build_form(site: Site) -> None:
    build(site, "form")


def build(site: Site, variant: str) -> None:
    reports_docs = make_reports(site, "lnnb", report_years(site, variant), kinds=("pdf", "", "pdf", "docx"), salt=variant)
    looks = make_lookalikes(site, "lnnb", 2, salt=variant)
    col = Column(slug="lnnb", name="历年年报", kind="reports", docs=newest_first(reports_docs + looks), agency=site.portal.agency)
    site.columns = [col]
    head = f'<base href="{BASE}">'

    def page(title: str, body: str) -> Response:
        return site.html(site.page(title, body, head=head))

    for d in col.docs:
        rel = f"gk/nb/{d.date:%Y}/{d.doc_id}.html"
        d.url = site.url(BASE + rel)
        rels = {}
        for k, a in enumerate(d.attachments):
            arel = f"upload/{d.date:%Y%m}/{stable_int(site.seed, d.doc_id, k) % 10**10:010d}.{a.kind}"
            a.url = site.url(BASE + arel)
            rels[a.url] = arel
            site.route(a.url, site.file_handler(d, a))
        site.route(d.url, lambda req, d=d, rels=rels: site.html(
            site.article_page(d, link=lambda a: rels[a.url]).replace("</title>", "</title>" + head, 1), modified=d.date))
        site.note_doc(d)
    newest = reports_docs[0]
    others = [d for d in reports_docs[1:]]
    for_year = {}
    for d in others + looks:
        for_year.setdefault(d.year, []).append(d)
    rel_of = lambda d: d.url.split(BASE, 1)[1]
    years = sorted(for_year, reverse=True)
    if variant == "select":
        opts = "".join(f'<option value="{esc(rel_of(d))}">{d.year}年</option>' for d in others)
        picker = (f'<div class="lnnb">历年年报：<select name="nb" onchange="location.href=this.value">'
                  f'<option value="">--请选择年份--</option>{opts}</select></div>')
    else:
        opts = "".join(f'<option value="{y}">{y}年</option>' for y in years)
        picker = (f'<form class="lnnb" action="gk/nb/list.jsp" method="get">年份：<select name="year">{opts}</select>'
                  f'<input type="submit" value="查询"></form>')

        def by_year(req: Request) -> Response:
            try:
                y = int(req.params.get("year", ""))
            except ValueError:
                return page("查询结果", "<p>请选择年份</p>")
            items = "".join(f'<li><a href="{esc(rel_of(d))}">{esc(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>'
                            for d in for_year.get(y, []))
            return page(f"{y}年", f'<div class="crumb">首页 &gt; 历年年报 &gt; {y}年</div><ul class="list">'
                                  f'{items or "<li>暂无信息</li>"}</ul>')
        site.route(site.url(BASE + "gk/nb/list.jsp"), by_year)
    top = newest_first([newest] + looks)
    items = "".join(f'<li><a href="{esc(rel_of(d))}">{esc(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>' for d in top)
    col.url = site.url(BASE + "gk/nb/index.html")
    site.route(col.url, lambda req: page(col.name, f'<div class="crumb">首页 &gt; 政务公开 &gt; {col.name}</div>'
                                                   f'<ul class="list">{items}</ul>{picker}'))
    open_page = site.url(BASE + "gk/index.html")
    site.route(open_page, lambda req: page("政务公开", '<ul class="nav"><li><a href="gk/nb/index.html">政府信息公开年报</a></li>'
                                                      '<li><a href="gk/index.html">政务公开</a></li></ul>'))
    home = lambda req: page("首页", '<a href="gk/index.html">政务公开</a> <a href="gk/nb/index.html">年报</a>')
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)

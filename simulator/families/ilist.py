"""ilist: a JSP 信息公开 directory whose lists are one query endpoint, as on Sichuan county portals
(www.mz.gov.cn/info/iList.jsp?node_id=GKmzs&cat_id=15971&cur_page=1, the 绵竹 route of RSSHub):
every column is /info/iList.jsp with a node_id and a numeric cat_id (no 年报 slug anywhere in the
URL), the pager is onclick="goPage(N)" submitting a hidden GET form (cur_page), and a cur_page past
the end answers the last page again (no 404), so a crawler must notice repeated content. Articles
are /info/iDetail.jsp?info_id=... with attachments under /upload/."""
from __future__ import annotations

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

PER_PAGE = 5


def build(site: Site) -> None:
    node = "GK" + site.portal.site_id.rsplit("-", 1)[1][:3]
    base_cat = 15000 + stable_int(site.seed, site.portal.site_id, "cat") % 9000
    reports_docs = make_reports(site, "nb", report_years(site), kinds=("pdf", "", "pdf", "docx", "pdf"))
    looks = make_lookalikes(site, "nb", 2, salt="i")
    spec = [("法定主动内容", "news", make_fillers(site, "fd", 6)),
            ("政府信息公开年报", "reports", reports_docs + looks + make_fillers(site, "nb", 2, salt="nb")),
            ("公示公告", "news", make_fillers(site, "gs", 7)),
            ("政府工作报告", "lookalike", make_lookalikes(site, "gzbg", 1, reasons=("政府工作报告",), salt="gz"))]
    cols = {}
    for i, (name, kind, docs) in enumerate(spec):
        cat = base_cat + i * 213
        cols[cat] = Column(str(cat), name, kind, newest_first(docs), site.portal.agency)
    site.columns = list(cols.values())
    by_id = {}
    for cat, col in cols.items():
        col.url = site.url(f"/info/iList.jsp?node_id={node}&cat_id={cat}&cur_page=1")
        for d in col.docs:
            d.url = site.url(f"/info/iDetail.jsp?info_id={d.doc_id}&node_id={node}&cat_id={cat}")
            by_id[d.doc_id] = d
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/upload/{node}/{d.date:%Y%m%d}/{stable_int(site.seed, d.doc_id, k) % 10**9:09d}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.note_doc(d)
    menu = "".join(f'<li><a href="/info/iList.jsp?node_id={node}&amp;cat_id={cat}&amp;cur_page=1">{esc(c.name)}</a></li>'
                   for cat, c in cols.items())

    def detail(req: Request) -> Response:
        try:
            d = by_id[int(req.params.get("info_id", ""))]
        except (KeyError, ValueError):
            return site.not_found()
        return site.html(site.article_page(d), modified=d.date)
    site.route(site.url("/info/iDetail.jsp"), detail)

    def listing(req: Request) -> Response:
        f = req.params
        try:
            col = cols[int(f.get("cat_id", ""))]
            page = max(1, int(f.get("cur_page") or "1"))
        except (KeyError, ValueError):
            return site.html(site.page("信息公开", "<p>栏目不存在</p>"))
        if f.get("node_id") != node:
            return site.html(site.page("信息公开", "<p>站点不存在</p>"))
        pages = max(1, -(-len(col.docs) // PER_PAGE))
        page = min(page, pages)
        items = "".join(f'<li><a href="iDetail.jsp?info_id={d.doc_id}&amp;node_id={node}&amp;cat_id={col.slug}" '
                        f'title="{esc(d.title)}">{esc(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>'
                        for d in col.docs[(page - 1) * PER_PAGE: page * PER_PAGE])
        pager = (f'<a href="javascript:void(0)" onclick="goPage(1)">首页</a> '
                 f'<a href="javascript:void(0)" onclick="goPage({max(1, page - 1)})">上一页</a> '
                 f'<a href="javascript:void(0)" onclick="goPage({min(pages, page + 1)})">下一页</a> '
                 f'<a href="javascript:void(0)" onclick="goPage({pages})">尾页</a> 第{page}页/共{pages}页')
        form = (f'<form name="pageForm" action="iList.jsp" method="get"><input type="hidden" name="node_id" value="{node}">'
                f'<input type="hidden" name="cat_id" value="{col.slug}"><input type="hidden" name="cur_page" value="{page}"></form>'
                '<script>function goPage(p){ var f = document.forms["pageForm"]; f.cur_page.value = p; f.submit(); }</script>')
        return site.html(site.page(col.name, f'<div class="container"><ul class="menu">{menu}</ul><div class="list_div">'
                                             f'<ul>{items}</ul></div><div class="pager">{pager}</div>{form}</div>'))
    site.route(site.url("/info/iList.jsp"), listing)
    home = lambda req: site.html(site.page("首页", f'<a href="/info/iList.jsp?node_id={node}&amp;cat_id={base_cat}&amp;cur_page=1">政府信息公开</a>'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)

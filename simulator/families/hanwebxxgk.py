"""hanwebxxgk: the 信息公开 module of 大汉 (Hanweb) JCMS as deployed on Zhejiang and Heilongjiang
portals (www.hangzhou.gov.cn/col/col1346101, sthjt.zj.gov.cn, xxgk.harbin.gov.cn): the column
page is a shell whose left tree (/module/xxgk/tree.jsp) names categories by infotypeId codes in
onclick handlers, and the list is the HTML fragment answered by a POST to /module/xxgk/search.jsp
with infotypeId, jdid, divid, area and currpage. Public crawler code for these sites
(GitHub searches for "module/xxgk/search.jsp") shows the form fields, the "共N页" pager text, and
that search.jsp without an infotypeId answers the whole catalogue, news and all."""
from __future__ import annotations

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

PER_PAGE = 5
CATS = [("A0101", "机构职能"), ("A0907", "政府信息公开年报"), ("A0301", "通知公告"), ("A0908", "政府工作报告")]


def build(site: Site) -> None:
    col_id = 1_229_000_000 + stable_int(site.seed, site.portal.site_id, "col") % 900_000
    jdid = str(1000 + stable_int(site.seed, site.portal.site_id, "jdid") % 9000)
    area = f"{site.portal.region_code}{stable_int(site.seed, site.portal.site_id, 'area') % 1000:03d}"
    divid = f"div{col_id}"
    reports_docs = make_reports(site, "A0907", report_years(site), kinds=("", "pdf", "pdf", "docx"))
    looks = make_lookalikes(site, "A0907", 2, salt="h")
    cols = {
        "A0101": Column("A0101", "机构职能", "news", newest_first(make_fillers(site, "A0101", 3)), site.portal.agency),
        "A0907": Column("A0907", "政府信息公开年报", "reports", newest_first(reports_docs + looks), site.portal.agency),
        "A0301": Column("A0301", "通知公告", "news", newest_first(make_fillers(site, "A0301", 9)), site.portal.agency),
        "A0908": Column("A0908", "政府工作报告", "lookalike",
                        make_lookalikes(site, "A0908", 1, reasons=("政府工作报告",), salt="gzbg"), site.portal.agency),
    }
    site.columns = list(cols.values())
    for col in site.columns:
        col.url = site.url(f"/col/col{col_id}/index.html#{col.slug}")
        for d in col.docs:
            d.url = site.url(f"/art/{d.date.year}/{d.date.month}/{d.date.day}/art_{col_id}_{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/module/download/downfile.jsp?classid=0&filename={stable_int(site.seed, d.doc_id, k) % 16**16:016x}.{a.kind}")
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(site.article_page(doc), modified=doc.date)))
            site.note_doc(d)
    files = {a.url.split("filename=", 1)[1]: (d, a) for c in site.columns for d in c.docs for a in d.attachments}

    def download(req: Request) -> Response:
        hit = files.get(req.params.get("filename", ""))
        return site.file_response(*hit) if hit else site.not_found()
    site.route(site.url("/module/download/downfile.jsp"), download)

    def search(req: Request) -> Response:
        f = req.params
        if f.get("jdid") != jdid or f.get("divid") != divid:
            return site.html("<div class=\"zfxxgk_zdgkc\">暂无信息</div>")
        t = f.get("infotypeId", "")
        docs = cols[t].docs if t in cols else (newest_first([d for c in site.columns for d in c.docs]) if t == "" else [])
        try:
            page = max(1, int(f.get("currpage") or "1"))
        except ValueError:
            page = 1
        pages = max(1, -(-len(docs) // PER_PAGE))
        rows = "".join(f'<tr><td class="bt"><a href="{esc(d.url)}" target="_blank" title="{esc(d.title)}">{esc(d.title)}</a></td>'
                       f'<td>{d.date:%Y-%m-%d}</td></tr>' for d in docs[(page - 1) * PER_PAGE: page * PER_PAGE])
        nxt = (f'<a href="javascript:void(0)" onclick="searchPage(\'{t}\',{page + 1})">下一页</a>' if page < pages else "")
        return site.html(f'<div class="zfxxgk_zdgkc"><table>{rows}</table></div>'
                         f'<div class="zfxxgk_page">&nbsp;&nbsp;共{pages}页&nbsp;&nbsp;当前第{page}页 {nxt}</div>')
    site.route(site.url("/module/xxgk/search.jsp"), search)
    tree = "".join(f'<li><a href="javascript:void(0)" onclick="parent.searchPage(\'{c}\',1)">{n}</a></li>' for c, n in CATS)
    site.route(site.url("/module/xxgk/tree.jsp"), lambda req: site.html(
        f'<html><head><meta charset="utf-8"></head><body><ul class="tree">{tree}</ul></body></html>'))
    shell = f"""<table><tr><td class="left"><iframe src="/module/xxgk/tree.jsp?area={area}&divid={divid}" width="220" height="600"></iframe></td>
<td class="right"><div id="{divid}"></div></td></tr></table>
<script>
function searchPage(t, p) {{
  var x = new XMLHttpRequest();
  x.open('POST', '/module/xxgk/search.jsp?standardXxgk=1&isAllList=1&texttype=0&fbtime=-1&vc_all=&vc_filenumber=&vc_title=&vc_number=&currpage=' + p + '&sortfield=,compaltedate:0');
  x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
  x.onload = function () {{ document.getElementById('{divid}').innerHTML = x.responseText; }};
  x.send('infotypeId=' + t + '&jdid={jdid}&area={area}&divid={divid}&vc_title=&vc_number=&sortfield=,compaltedate:0&currpage=' + p + '&vc_filenumber=&vc_all=&texttype=0&fbtime=-1');
}}
searchPage('A0101', 1);
</script>"""
    site.route(site.url(f"/col/col{col_id}/index.html"), lambda req: site.html(site.page("政府信息公开目录", shell)))
    home = lambda req: site.html(site.page("首页", f'<a href="/col/col{col_id}/index.html">政府信息公开</a>'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)

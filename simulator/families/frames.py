"""frames: a <frameset> portal of the early 2000s, still common on county departments' sites built
by small local vendors (ASP/.NET sites whose home is top.htm + left.htm + main.htm): the home
page is a frameset (banner, menu, content); the content page switches an <iframe> between panes
by onclick handlers; report rows are href="javascript:void(0)" with onclick="window.open('...')"
or onclick="<func>('<id>')", the function living in a linked external .js that builds the URL by
string concatenation; one report's only attachment is reachable only by an onclick download
function. A crawler that follows only href attributes finds nothing beyond the frames."""
from __future__ import annotations

from ..model import Column, Request
from ..rand import stable_int
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

JS = """/* gov_util.js  v2.3 */
var _sv = '/Web' + 'Site';
function qx_op(k) {
  var u = _sv + '/ShowArt' + '.asp?' + 'ArtID=' + k + '&cls=' + 'xx';
  window.open(u, '_blank');
}
function ld_fj(n, e) {
  var p = '/Up' + 'Files' + '/' + n.substring(0, 6) + '/' + n + '.' + e;
  location.href = p;
}
function sw(id) { document.getElementById('pane').src = '/pane/' + id + '.htm'; }
"""


def build(site: Site) -> None:
    reports_docs = make_reports(site, "nb", report_years(site), kinds=("pdf", "pdf", "", "docx", "pdf"))
    looks = make_lookalikes(site, "nb", 2, salt="f")
    news = make_fillers(site, "dt", 8)
    rep = Column(slug="nb", name="信息公开年报", kind="reports", docs=newest_first(reports_docs + looks), agency=site.portal.agency)
    dt_col = Column(slug="dt", name="工作动态", kind="news", docs=newest_first(news), agency=site.portal.agency)
    site.columns = [rep, dt_col]
    onclick_only = next(d for d in reports_docs if d.attachments and d.attachments[0].kind == "pdf")
    fids = {}
    for col in site.columns:
        for n, d in enumerate(col.docs):
            # half the rows open the page by window.open('literal'), half through qx_op('<id>') in the .js
            d.url = site.url(f"/WebSite/ShowArt.asp?ArtID={d.doc_id}&cls=xx")
            d.listed_url = "open" if n % 2 == 0 else "func"
            for k, a in enumerate(d.attachments):
                fid = f"{d.date:%Y%m}{stable_int(site.seed, d.doc_id, k) % 10**8:08d}"
                a.url = site.url(f"/UpFiles/{fid[:6]}/{fid}.{a.kind}")
                fids[a.url] = fid
                site.route(a.url, site.file_handler(d, a))
            site.note_doc(d)
    docs = {d.doc_id: d for col in site.columns for d in col.docs}

    def article(req: Request):
        try:
            d = docs[int(req.params.get("ArtID", ""))]
        except ValueError:
            return site.not_found()
        except KeyError:
            return site.not_found()
        links = []
        for a in d.attachments:
            if d is onclick_only:
                links.append(f'<a href="javascript:void(0)" onclick="ld_fj(\'{fids[a.url]}\',\'{a.kind}\')">'
                             f'点击下载附件</a>')
            else:
                links.append(f'<a href="{esc(a.url)}" target="_blank">{esc(a.label)}</a>')
        body = site.body_html(d) if d.body_in_page else f"<p>{esc(d.title)}（见附件）</p>"
        return site.html(site.page(d.title, f'<script src="/js/gov_util.js"></script><table class="art"><tr><td class="tit">'
                                   f'{esc(d.title)}</td></tr><tr><td>发布时间：{d.date:%Y-%m-%d} 发布单位：{esc(d.agency)}</td></tr>'
                                   f'<tr><td id="artContent">{body}</td></tr><tr><td>附件：{" ".join(links)}</td></tr></table>'),
                         modified=d.date)
    site.route(site.url("/WebSite/ShowArt.asp"), article)

    def pane(col: Column):
        rows = []
        for d in col.docs:
            if d.listed_url == "open":
                click = f"window.open('/WebSite/ShowArt.asp?ArtID={d.doc_id}&amp;cls=xx')"
            else:
                click = f"qx_op('{d.doc_id}')"
            rows.append(f'<tr><td><a href="javascript:void(0)" onclick="{click}">{esc(d.title)}</a></td>'
                        f'<td>{d.date:%Y-%m-%d}</td></tr>')
        return lambda req: site.html(site.page(col.name, f'<script src="/js/gov_util.js"></script>'
                                               f'<table class="lst">{"".join(rows)}</table>'))
    for col in site.columns:
        site.route(site.url(f"/pane/{col.slug}.htm"), pane(col))
        col.url = site.url(f"/pane/{col.slug}.htm")
    site.route(site.url("/js/gov_util.js"), lambda req: _js(site))
    site.route(site.url("/pane/welcome.htm"), lambda req: site.html(site.page("欢迎", "<p>欢迎访问本网站</p>")))
    tabs = "".join(f'<td class="tab" onclick="sw(\'{c.slug}\')">{esc(c.name)}</td>' for c in site.columns)
    main = (f'<script src="/js/gov_util.js"></script><table><tr>{tabs}</tr></table>'
            f'<iframe id="pane" name="pane" src="/pane/welcome.htm" width="100%" height="600" frameborder="0"></iframe>')
    site.route(site.url("/main.htm"), lambda req: site.html(site.page("首页", main)))
    site.route(site.url("/top.htm"), lambda req: site.html(f'<html><body><div class="banner">{esc(site.portal.agency)}</div></body></html>'))
    menu = ('<html><body><ul><li onclick="parent.main.location=\'/main.htm\'">首页</li>'
            '<li onclick="parent.main.location=\'/main.htm\'">政务公开</li></ul></body></html>')
    site.route(site.url("/left.htm"), lambda req: site.html(menu))
    home = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{esc(site.portal.agency)}</title></head>'
            '<frameset rows="110,*" frameborder="0"><frame src="top.htm" name="top" scrolling="no">'
            '<frameset cols="180,*"><frame src="left.htm" name="left"><frame src="main.htm" name="main"></frameset>'
            '<noframes><body>您的浏览器不支持框架</body></noframes></frameset></html>')
    site.route(site.url("/"), lambda req: site.html(home))
    site.route(site.url("/index.htm"), lambda req: site.html(home))


def _js(site: Site):
    from ..model import Response
    return Response(200, JS.encode("utf-8"), [("Content-Type", "application/javascript")])

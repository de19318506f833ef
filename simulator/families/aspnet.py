"""aspnet: an ASP.NET WebForms list, as on the many county and department portals built on .NET
CMSs (e.g. the WebForms list controls of 新点 Epoint WebBuilder, "MoreInfoList1$Pager", or
"CaseGgfwAll1$Pager" on 12345.xz.gov.cn, both seen in public crawler code): the pager's links are
javascript:__doPostBack('ctl00$ContentPlaceHolder1$ListPager','N'), and page N exists only as the
answer to a POST of the page's form carrying __VIEWSTATE, __VIEWSTATEGENERATOR, __EVENTVALIDATION,
__EVENTTARGET and __EVENTARGUMENT. A missing or tampered view state answers HTTP 500 (the yellow
"Validation of viewstate MAC failed" page), as IIS does. The reports are spread over several pages."""
from __future__ import annotations

import base64
import hashlib
import hmac

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

PER_PAGE = 4
TARGET = "ctl00$ContentPlaceHolder1$ListPager"
GENERATOR = "C2EE9ABB"


def build(site: Site) -> None:
    reports_docs = make_reports(site, "ndbg", report_years(site), kinds=("pdf", "docx", "pdf", ""))
    looks = make_lookalikes(site, "ndbg", 2, salt="a")
    fill = make_fillers(site, "ndbg", 3, salt="a")
    col = Column(slug="ndbg", name="政府信息公开年度报告", kind="reports", agency=site.portal.agency,
                 docs=newest_first(reports_docs + looks + fill))
    site.columns = [col]
    key = hashlib.sha256(f"{site.seed}/{site.portal.site_id}/machineKey".encode()).digest()
    for d in col.docs:
        d.url = site.url(f"/zwgk/Content.aspx?id={d.doc_id}")
        for k, a in enumerate(d.attachments):
            a.url = site.url(f"/UploadFiles/{d.date:%Y%m}/{stable_int(site.seed, d.doc_id, k) % 10**12:012d}.{a.kind}")
            site.route(a.url, site.file_handler(d, a))
        site.note_doc(d)
    by_id = {d.doc_id: d for d in col.docs}
    pages = -(-len(col.docs) // PER_PAGE)
    col.url = site.url("/zwgk/ndbg.aspx")

    def state(n: int) -> tuple[str, str]:
        payload = f"/wEPDwUKMTk{n:03d}|{site.portal.site_id}".encode()
        mac = hmac.new(key, payload, hashlib.sha1).digest()
        vs = base64.b64encode(payload + mac).decode()
        ev = base64.b64encode(hmac.new(key, b"ev" + payload, hashlib.sha1).digest() + bytes([n])).decode()
        return vs, ev

    def page_of(vs: str) -> int | None:
        try:
            raw = base64.b64decode(vs, validate=True)
        except (ValueError, TypeError):
            return None
        payload, mac = raw[:-20], raw[-20:]
        if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha1).digest()):
            return None
        try:
            return int(payload.split(b"|")[0][-3:])
        except ValueError:
            return None

    def render(n: int) -> Response:
        vs, ev = state(n)
        rows = "".join(f'<tr><td><a id="ctl00_ContentPlaceHolder1_rpt_ctl{i:02d}_hl" href="Content.aspx?id={d.doc_id}" '
                       f'target="_blank">{esc(d.title)}</a></td><td>{d.date:%Y-%m-%d}</td></tr>'
                       for i, d in enumerate(col.docs[(n - 1) * PER_PAGE: n * PER_PAGE]))
        pager = " ".join(f"<span>{k}</span>" if k == n else
                         f"<a href=\"javascript:__doPostBack('{TARGET}','{k}')\">{k}</a>" for k in range(1, pages + 1))
        if n < pages:
            pager += f" <a href=\"javascript:__doPostBack('{TARGET}','{n + 1}')\">下一页</a>"
        body = f"""<form name="aspnetForm" method="post" action="./ndbg.aspx" id="aspnetForm">
<div><input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{vs}" /></div>
<script type="text/javascript">
//<![CDATA[
var theForm = document.forms['aspnetForm'];
if (!theForm) {{ theForm = document.aspnetForm; }}
function __doPostBack(eventTarget, eventArgument) {{
    if (!theForm.onsubmit || (theForm.onsubmit() != false)) {{
        theForm.__EVENTTARGET.value = eventTarget;
        theForm.__EVENTARGUMENT.value = eventArgument;
        theForm.submit();
    }}
}}
//]]>
</script>
<div><input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="{GENERATOR}" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="{ev}" /></div>
<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年度报告</div>
<table id="ctl00_ContentPlaceHolder1_GridView1" class="list">{rows}</table>
<div id="ctl00_ContentPlaceHolder1_ListPager" class="pager">共{len(col.docs)}条 第{n}/{pages}页 {pager}</div>
</form>"""
        return Response(200, site.page("政府信息公开年度报告", body).encode("utf-8"),
                        [("Content-Type", "text/html; charset=utf-8"), ("X-AspNet-Version", "4.0.30319"),
                         ("X-Powered-By", "ASP.NET")], cacheable=False)

    def yellow(msg: str) -> Response:
        return Response(500, (f"<html><head><title>{msg}</title></head><body><h1>“/”应用程序中的服务器错误。</h1>"
                              f"<h2><i>{msg}</i></h2></body></html>").encode("utf-8"),
                        [("Content-Type", "text/html; charset=utf-8")], cacheable=False)

    def listing(req: Request) -> Response:
        if req.method != "POST":
            return render(1)
        f = req.params
        if any(k not in f for k in ("__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION", "__EVENTTARGET",
                                    "__EVENTARGUMENT")):
            return yellow("The state information is invalid for this page and might be corrupted.")
        n_from = page_of(f["__VIEWSTATE"])
        if n_from is None or f["__VIEWSTATEGENERATOR"] != GENERATOR:
            return yellow("Validation of viewstate MAC failed.")
        if f["__EVENTVALIDATION"] != state(n_from)[1]:
            return yellow("Invalid postback or callback argument.")
        if f["__EVENTTARGET"] != TARGET:
            return render(n_from)
        try:
            n = int(f["__EVENTARGUMENT"])
        except ValueError:
            return yellow("Input string was not in a correct format.")
        if not 1 <= n <= pages:
            return yellow("Invalid postback or callback argument.")
        return render(n)
    site.route(col.url, listing)

    def article(req: Request) -> Response:
        try:
            d = by_id[int(req.params.get("id", ""))]
        except (KeyError, ValueError):
            return site.not_found()
        return site.html(site.article_page(d), modified=d.date)
    site.route(site.url("/zwgk/Content.aspx"), article)
    home = site.page("首页", '<ul class="nav"><li><a href="/zwgk/ndbg.aspx">政府信息公开年度报告</a></li>'
                           '<li><a href="/zwgk/Default.aspx">政务公开</a></li></ul>')
    site.route(site.url("/zwgk/Default.aspx"), lambda req: site.html(site.page(
        "政务公开", '<ul><li><a href="ndbg.aspx">政府信息公开年度报告</a></li></ul>')))
    site.route(site.url("/"), lambda req: site.html(home))
    site.route(site.url("/Default.aspx"), lambda req: site.html(home))

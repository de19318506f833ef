"""epoint: a 新点 (Epoint) WebBuilder portal, the CMS of many public-resource and county portals
(www.qhggzyjy.gov.cn, www.cqggzy.com, www.hebpr.cn in public crawler code): a category page
(/xxgk/006/006001/secondPage.html) whose list is empty in the HTML; the script POSTs a JSON body
{"token":"","pn":0,"rn":N,...,"condition":[{"fieldName":"categorynum","equal":"006001",...}]} to
/inteligentsearch/rest/inteligentSearch/getFullTextData and draws result.records; paging is pn
(the record offset) in the next POST. A GET or a form-encoded POST answers an error; attachments
are served by a download action keyed by attachGuid."""
from __future__ import annotations

import json
import uuid

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site, json_response
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

API = "/inteligentsearch/rest/inteligentSearch/getFullTextData"
RN = 6


def _guid(site: Site, *parts) -> str:
    return str(uuid.UUID(int=stable_int(site.seed, site.portal.site_id, *parts) << 64 | stable_int(*parts, "lo")))


def build(site: Site) -> None:
    reports_docs = make_reports(site, "006001", report_years(site), kinds=("pdf", "pdf", "docx", ""))
    looks = make_lookalikes(site, "006001", 2, salt="e")
    cols = {
        "006001": Column("006001", "政府信息公开年度报告", "reports", newest_first(reports_docs + looks), site.portal.agency),
        "006002": Column("006002", "通知公告", "news", newest_first(make_fillers(site, "006002", 8)), site.portal.agency),
        "006003": Column("006003", "政府工作报告", "lookalike",
                         make_lookalikes(site, "006003", 1, reasons=("政府工作报告",), salt="gz"), site.portal.agency),
    }
    site.columns = list(cols.values())
    guids = {}
    for num, col in cols.items():
        col.url = site.url(f"/xxgk/006/{num}/secondPage.html")
        for d in col.docs:
            d.url = site.url(f"/xxgk/006/{num}/{d.date:%Y%m%d}/{_guid(site, d.doc_id)}.html")
            for k, a in enumerate(d.attachments):
                g = _guid(site, d.doc_id, k)
                a.url = site.url(f"/EpointWebBuilder/pages/webbuildermis/attach/downloadztbattach?attachGuid={g}&appUrlFlag=ztb")
                guids[g] = (d, a)
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(site.article_page(doc), modified=doc.date)))
            site.note_doc(d)

    def download(req: Request) -> Response:
        hit = guids.get(req.params.get("attachGuid", ""))
        if not hit:
            return site.not_found()
        resp = site.file_response(*hit)
        resp.headers.append(("Content-Disposition", f"attachment; filename={hit[1].kind}.{hit[1].kind}"))
        return resp
    site.route(site.url("/EpointWebBuilder/pages/webbuildermis/attach/downloadztbattach"), download)

    def api(req: Request) -> Response:
        err = lambda m: Response(400, json.dumps({"result": None, "error": m}).encode(), [("Content-Type", "application/json")],
                                 cacheable=False)
        if req.method != "POST":
            return err("method not allowed")
        try:
            q = json.loads(req.body.decode("utf-8"))
            pn, rn = int(q.get("pn", 0)), min(int(q.get("rn", 10)), 20)
            num = next(c["equal"] for c in q.get("condition") or [] if c.get("fieldName") == "categorynum")
        except (ValueError, TypeError, AttributeError, StopIteration):
            return err("invalid json body")
        docs = cols[num].docs if num in cols else []
        return json_response({"result": {"totalcount": len(docs), "executetime": "0.012", "records": [
            {"title": d.title, "linkurl": d.url.split(site.host, 1)[1], "webdate": f"{d.date:%Y-%m-%d %H:%M:%S}",
             "categorynum": num, "infoid": _guid(site, d.doc_id)} for d in docs[pn: pn + rn]]}})
    site.route(site.url(API), api)
    for num, col in cols.items():
        site.route(col.url, lambda req, num=num, col=col: site.html(site.page(col.name, _shell(num, col.name))))
    nav = "".join(f'<li><a href="/xxgk/006/{num}/secondPage.html">{esc(c.name)}</a></li>' for num, c in cols.items())
    home = lambda req: site.html(site.page("首页", f'<ul class="ewb-nav">{nav}</ul>'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _shell(num: str, name: str) -> str:
    return f"""<div class="ewb-location">当前位置：首页 &gt; 信息公开 &gt; {esc(name)}</div>
<ul class="wb-data-item" id="showList"></ul><div id="pager"></div>
<script>
var pn = 0, rn = {RN};
function load() {{
  var p = {{"token": "", "pn": pn, "rn": rn, "sdt": "", "edt": "", "wd": "", "inc_wd": "", "exc_wd": "",
           "fields": "title", "cnum": "001", "sort": "{{\\"webdate\\":\\"0\\"}}", "ssort": "title", "cl": 200,
           "terminal": "", "condition": [{{"fieldName": "categorynum", "isLike": true, "likeType": 2, "equal": "{num}"}}],
           "time": null, "highlights": "title", "statistics": null, "unionCondition": null, "accuracy": "", "noParticiple": "1",
           "searchRange": null, "isBusiness": "1"}};
  fetch('{API}', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(p)}})
    .then(function (r) {{ return r.json(); }}).then(function (d) {{
      var ul = document.getElementById('showList');
      d.result.records.forEach(function (x) {{
        var li = document.createElement('li'); li.className = 'wb-data-list';
        li.innerHTML = '<a href="' + x.linkurl + '" target="_blank">' + x.title + '</a><span>' + x.webdate.slice(0, 10) + '</span>';
        ul.appendChild(li);
      }});
      if (pn + rn < d.result.totalcount) {{ pn += rn; load(); }}
    }});
}}
load();
</script>"""

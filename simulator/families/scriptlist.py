"""scriptlist: a list page drawn entirely by an inline script, as on portals of the 2018-2022
集约化 rebuilds (Vue/jQuery templates over a content API, e.g. 拓尔思 海云 and 开普云 front ends):
the HTML holds an empty container whose id names no list (<div id="c3">) and a script that fetches
a JSON API by XMLHttpRequest and writes the rows; the JSON gives ids and titles, not URLs (the
script concatenates the article URL). Plain HTML has almost no links."""
from __future__ import annotations

import json

from ..model import Column, Request, Response
from ..rand import stable_int
from .common import Site, json_response
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years

PAGE = 8


def build(site: Site) -> None:
    reports_docs = make_reports(site, "ndbg", report_years(site), kinds=("pdf", "", "pdf", "docx", "pdf"))
    looks = make_lookalikes(site, "ndbg", 3, salt="s")
    news = make_fillers(site, "ndbg", 2, salt="s")
    col = Column(slug="ndbg", name="年度报告", kind="reports", agency=site.portal.agency,
                 docs=newest_first(reports_docs + looks + news))
    site.columns = [col]
    node = 3000 + stable_int(site.seed, site.portal.site_id, "node") % 900
    for d in col.docs:
        d.url = site.url(f"/c/{node}/d{d.doc_id}.shtml")
        for k, a in enumerate(d.attachments):
            a.url = site.url(f"/res/{d.date:%Y%m%d}/{stable_int(site.seed, d.doc_id, k) % 16**12:012x}.{a.kind}")
            site.route(a.url, site.file_handler(d, a))
        site.route(d.url, site.doc_handler(d, lambda doc: site.html(site.article_page(doc), modified=doc.date)))
        site.note_doc(d)

    def api(req: Request) -> Response:
        try:
            if int(req.params.get("nid", "0")) != node:
                return json_response({"code": 404, "msg": "栏目不存在", "data": None})
            p = max(1, int(req.params.get("pg", "1")))
        except ValueError:
            return json_response({"code": 400, "msg": "参数错误", "data": None})
        rows = col.docs[(p - 1) * PAGE: p * PAGE]
        return json_response({"code": 200, "msg": "ok", "data": {"total": len(col.docs), "pg": p, "rows": [
            {"k": d.doc_id, "t": d.title, "d": f"{d.date:%Y-%m-%d}"} for d in rows]}})
    site.route(site.url("/cms/q/list"), api)
    script = f"""<script>
(function () {{
  var box = document.getElementById('c3'), nid = {node}, pg = 1;
  function draw() {{
    var x = new XMLHttpRequest();
    x.open('GET', '/cms/q/' + 'list?nid=' + nid + '&pg=' + pg);
    x.onload = function () {{
      var r = JSON.parse(x.responseText).data, h = '';
      for (var i = 0; i < r.rows.length; i++) {{
        h += '<p class="r"><a href="/c/' + nid + '/d' + r.rows[i].k + '.shtml" target="_blank">' + r.rows[i].t +
             '</a><i>' + r.rows[i].d + '</i></p>';
      }}
      box.innerHTML += h;
      if (pg * {PAGE} < r.total) {{ pg += 1; draw(); }}
    }};
    x.send();
  }}
  draw();
}})();
</script>"""
    col.url = site.url(f"/c/{node}/index.shtml")
    site.route(col.url, lambda req: site.html(site.page(col.name, f'<div class="w"><div id="c3"></div></div>{script}')))
    menu = json.dumps([{"n": "首页", "u": "/"}, {"n": "年度报告", "u": f"/c/{node}/index.shtml"}], ensure_ascii=False)
    home_script = f"""<script>var M = {menu}; var nav = document.getElementById('m1');
M.forEach(function (m) {{ var a = document.createElement('a'); a.href = m.u; a.textContent = m.n; nav.appendChild(a); }});</script>"""
    home = lambda req: site.html(site.page("首页", f'<div id="m1"></div>{home_script}'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.shtml"), home)

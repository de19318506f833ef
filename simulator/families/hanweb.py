"""Hanweb (大汉) JCMS: /col/col{N}/index.html with the first page of the list embedded as XML in a
<script type="text/xml"> datastore, further pages only through a POST to the jpage dataproxy;
articles /art/Y/M/D/art_{col}_{id}.html with the body in <div id="zoom">; attachments through
downfile.jsp, which redirects to /attach/0/<name> served with a GBK Content-Disposition filename."""
from __future__ import annotations

import html
from urllib.parse import quote

from ..model import Response
from ..rand import stable_int
from .common import Site, redirect

PROXY_PATHS = ["/module/jpage/dataproxy.jsp", "/module/web/jpage/dataproxy.jsp"]


def build(site: Site) -> None:
    p = site.portal
    reports, looks, news = site.standard_columns()
    columns = [reports, *looks, news]
    col_host = p.hosts[-1]            # on a two-host portal the columns live on xxgk.
    webid = 1 + stable_int(site.seed, p.site_id, "webid") % 90
    proxy = PROXY_PATHS[p.index % len(PROXY_PATHS)]
    per_page = 10 + p.index % 6
    files: dict[str, tuple] = {}
    col_ids = {}
    for i, col in enumerate(columns):
        col_id = 1_229_000 + stable_int(site.seed, p.site_id, col.slug) % 90_000
        while col_id in col_ids:      # distinct columns never share an id
            col_id += 1
        unit_id = 4_170_000 + stable_int(site.seed, p.site_id, col.slug, "unit") % 90_000
        col_ids[col_id] = (col, unit_id)
        col.url = site.url(f"/col/col{col_id}/index.html", col_host)
        for d in col.docs:
            d.url = site.url(f"/art/{d.date.year}/{d.date.month}/{d.date.day}/art_{col_id}_{d.doc_id}.html", col_host)
            for k, a in enumerate(d.attachments):
                name = f"{stable_int(site.seed, d.doc_id, k):016x}.{a.kind}"
                files[name] = (d, a)
                a.url = site.url(f"/module/download/downfile.jsp?classid=0&filename={name}", col_host)
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(_article(site, doc), modified=site.modified(doc))))
            site.note_doc(d)
    quirk_links = site.add_quirks(reports)
    for col_id, (col, unit_id) in col_ids.items():
        site.route(col.url, lambda req, c=col, ci=col_id, u=unit_id: site.html(
            _column_page(site, c, ci, u, webid=webid, proxy=proxy, per_page=per_page)))

    def dataproxy(req) -> Response:
        params = req.params
        try:
            col, unit_id = col_ids[int(params.get("columnid", "0"))]
            start, end = int(params.get("startrecord", "1")), int(params.get("endrecord", "0"))
        except (KeyError, ValueError):
            return _datastore([], 0)
        if req.method != "POST" or params.get("unitid") != str(unit_id):
            return _datastore([], 0)    # the real proxy answers an empty datastore to a malformed call
        docs = site.visible(col.docs)
        return _datastore([_record(site, d) for d in docs[max(start, 1) - 1: end]], len(docs))

    site.route(site.url(proxy, col_host), dataproxy)

    def downfile(req) -> Response:
        name = req.params.get("filename", "")
        if name not in files:
            return site.not_found()
        return redirect(site.url(f"/attach/0/{name}", col_host), 302)

    def attach(req) -> Response:
        name = req.path.rsplit("/", 1)[-1]
        if name not in files:
            return site.not_found()
        d, a = files[name]
        # Hanweb sends the Chinese filename as raw GBK bytes; http.server writes headers as latin-1.
        raw = a.label.encode("gbk", errors="replace").decode("latin-1")
        return site.file_response(d, a, disposition=f'attachment; filename="{raw}"')

    site.route(site.url("/module/download/downfile.jsp", col_host), downfile)
    site.route_prefix(site.url("/attach/0/", col_host), attach)
    nav = "".join(f'<li><a href="{c.url}" target="_blank">{html.escape(c.name)}</a></li>' for c in columns)
    home = lambda req: site.html(site.page("首页", f'<div class="nav"><h2>政府信息公开</h2><ul>{nav}</ul></div> {quirk_links}'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)
    if col_host != site.host:
        site.route(site.url("/", col_host), home)


def _record(site: Site, d) -> str:
    href = (d.listed_url or d.url).split("://", 1)[1].split("/", 1)[1]
    return (f'<record><![CDATA[\n<li><a href="/{href}" title="{html.escape(d.title)}" target="_blank">'
            f"{html.escape(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>\n]]></record>")


def _datastore(records: list[str], total: int) -> Response:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>'
           f"<recordset>{''.join(records)}</recordset></datastore>")
    return Response(200, xml.encode("utf-8"), [("Content-Type", "text/xml;charset=UTF-8")], cacheable=False)


def _column_page(site: Site, col, col_id: int, unit_id: int, *, webid: int, proxy: str, per_page: int) -> str:
    docs = site.visible(col.docs)
    records = "\n".join(_record(site, d) for d in docs[:per_page])
    webname = site.portal.agency
    params = {"col": 1, "appid": 1, "webid": webid, "path": "/", "columnid": col_id, "sourceContentType": 1,
              "unitid": unit_id, "webname": webname, "permissiontype": 0}
    nextgroup = (f'<a href="{proxy}?page=1&appid=1&webid={webid}&path=/&columnid={col_id}&unitid={unit_id}'
                 f'&webname={quote(webname)}&permissiontype=0"></a>')
    ajax = ",".join(f"{k}:'{v}'" if isinstance(v, str) else f"{k}:{v}" for k, v in params.items())
    body = f"""<div class="crumb">首页 &gt; 政府信息公开 &gt; {html.escape(col.name)}</div>
<div class="list"><div id="{unit_id}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[{nextgroup}]]></nextgroup>
<recordset>
{records}
</recordset>
</datastore></script></div></div>
<script language="javascript" src="/module/jslib/jquery/jpage/jquery.jpage.js"></script>
<script>
$(document).ready(function(){{
  $('#{unit_id}').jpage({{
    dataStore: $('#{unit_id} script[type="text/xml"]').html(),
    proxyUrl: '{proxy}', perPage: {per_page}, totalRecord: {len(docs)}, groupSize: 3, barPosition: 'bottom',
    ajaxParam: {{{ajax}}},
    showMode: 'full', allowCache: true
  }});
}});
</script>"""
    return site.page(col.name, body)


def _article(site: Site, doc) -> str:
    return site.article_page(doc, zoom="zoom")

"""Fujian-style avalon pages backed by a trsapi JSON service: the column page holds an avalon
template (ms-for) and a script that fetches /trsapi/api/list; articles fetch /trsapi/api/doc."""
from __future__ import annotations

import html
from pathlib import Path

from ..rand import stable_int
from ..model import Response
from .common import Site, json_response

# A stand-in for avalon.js and jQuery.getJSON so a real browser draws these pages.
AVALON_JS = (Path(__file__).resolve().parent.parent / "static" / "avalon.js").read_bytes()

PAGE_SIZE = 8


def build(site: Site) -> None:
    p = site.portal
    reports, looks, news = site.standard_columns(allow_html=False)
    columns = [reports, *looks, news]
    channels, docs_by_id = {}, {}
    for col in columns:
        channel = 30_000 + stable_int(site.seed, p.site_id, col.slug) % 60_000
        while channel in channels:    # distinct columns never share a channel
            channel += 1
        channels[channel] = col
        base = f"/zwgk/zfxxgkzl/{col.slug}/"
        col.url = site.url(base + "index.htm")
        site.route(col.url, lambda req, ch=channel, c=col: site.html(_list_shell(site, c, ch)))
        for d in col.docs:
            docs_by_id[d.doc_id] = d
            d.url = site.url(f"{base}{d.date:%Y%m}/t{d.date:%Y%m%d}_{d.doc_id}.htm")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/cms/uploads/{d.date:%Y}/{d.doc_id}{k}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(_doc_shell(site, doc), modified=site.modified(doc))))
            site.note_doc(d)
    quirk_links = site.add_quirks(reports)

    def api_list(req):
        try:
            col = channels[int(req.params.get("channelId", "0"))]
            page, size = max(1, int(req.params.get("page", "1"))), min(50, max(1, int(req.params.get("pageSize", PAGE_SIZE))))
        except (KeyError, ValueError):
            return json_response({"code": 400, "msg": "bad channelId", "data": None})
        docs = site.visible(col.docs)
        return json_response({"code": 0, "msg": "ok", "data": {"total": len(docs), "pages": -(-len(docs) // size), "list": [
            {"docId": d.doc_id, "title": d.title, "url": d.listed_url or d.url, "pubDate": f"{d.date:%Y-%m-%d}"}
            for d in docs[(page - 1) * size: page * size]]}})

    def api_doc(req):
        try:
            d = docs_by_id[int(req.params.get("docId", "0"))]
        except (KeyError, ValueError):
            return json_response({"code": 404, "data": None})
        if not d.visible(site.epoch):
            return json_response({"code": 404, "data": None})
        links = "".join(f'<p><a href="{a.url}">{html.escape(a.label)}</a></p>' for a in d.attachments)
        return json_response({"code": 0, "data": {"title": d.title, "pubDate": f"{d.date:%Y-%m-%d}", "source": d.agency,
                                                  "content": f"<p>{html.escape(d.title)}</p>{links}"}})

    site.route(site.url("/static/avalon.js"), lambda req: Response(
        200, AVALON_JS, [("Content-Type", "application/javascript; charset=utf-8")]))
    site.route(site.url("/trsapi/api/list"), api_list)
    site.route(site.url("/trsapi/api/doc"), api_doc)
    nav = "".join(f'<li><a href="{c.url}">{html.escape(c.name)}</a></li>' for c in columns)
    home = lambda req: site.html(site.page("首页", f'<ul>{nav}</ul> {quirk_links}'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _list_shell(site: Site, col, channel: int) -> str:
    return site.page(col.name, f"""<div ms-controller="list"><h2>{html.escape(col.name)}</h2>
<ul><li ms-for="el in @list"><a ms-attr="{{href: el.url}}">{{{{el.title}}}}</a><span>{{{{el.pubDate}}}}</span></li></ul>
<div class="pager"><a ms-click="@go(@page - 1)">上一页</a> <a ms-click="@go(@page + 1)">下一页</a></div></div>
<script src="/static/avalon.js"></script>
<script>
var vm = avalon.define({{$id: 'list', list: [], page: 1, pages: 1,
  go: function(n) {{ if (n < 1 || n > vm.pages) return; vm.page = n;
    $.getJSON('/trsapi/api/list', {{channelId: {channel}, page: n, pageSize: {PAGE_SIZE}}}, function(r) {{ vm.list = r.data.list; vm.pages = r.data.pages; }}); }}
}});
vm.go(1);
</script>""")


def _doc_shell(site: Site, doc) -> str:
    return site.page("详情", f"""<div ms-controller="detail"><h1>{{{{@doc.title}}}}</h1><div class="source">{{{{@doc.source}}}} {{{{@doc.pubDate}}}}</div>
<div class="content" ms-html="@doc.content"></div></div>
<script src="/static/avalon.js"></script>
<script>
var vm = avalon.define({{$id: 'detail', doc: {{}}}});
$.getJSON('/trsapi/api/doc', {{docId: {doc.doc_id}}}, function(r) {{ vm.doc = r.data; }});
</script>""")

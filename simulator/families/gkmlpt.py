"""Guangdong-style gkmlpt: /gkmlpt/index is an empty container; a script reads the lists from
/gkmlpt/api/all/{catId}?page=N&sid=SID and the articles from /gkmlpt/api/content/{id}?sid=SID.
One report's PDF is reachable only through a 全真版 viewer iframe whose src the script assembles."""
from __future__ import annotations

import html
import json

from ..rand import stable_int
from .common import Site, json_response

PAGE_SIZE = 10


def build(site: Site) -> None:
    p = site.portal
    sid = str(100_000 + stable_int(site.seed, p.site_id, "sid") % 900_000)
    reports, looks, news = site.standard_columns(allow_html=False)
    columns = [reports, *looks, news]
    cats, docs_by_id, fullview = {}, {}, set()
    for col in columns:
        cat = 5_000 + stable_int(site.seed, p.site_id, col.slug) % 5_000
        while cat in cats:            # distinct columns never share a category id
            cat += 1
        cats[cat] = col
        col.url = site.url(f"/gkmlpt/index#{cat}")
        for d in col.docs:
            docs_by_id[d.doc_id] = d
            d.url = site.url(f"/gkmlpt/content/{d.doc_id // 100_000}/{d.doc_id // 1000}/post_{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/gkmlpt/files/P0{d.doc_id}{k:02d}.{a.kind}")
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc: site.html(_article_shell(site, doc, sid), modified=site.modified(doc))))
            site.note_doc(d)
    for d in reports.docs:
        if d.kind == "report" and d.status == "stable" and d.attachments and d.attachments[0].kind == "pdf":
            fullview.add(d.doc_id)    # this report's PDF is linked only from the rendered viewer
            break
    quirk_links = site.add_quirks(reports)

    def api_all(req):
        if req.params.get("sid") != sid:
            return json_response({"error": "invalid sid", "articles": [], "total": 0})
        try:
            cat = int(req.path.rsplit("/", 1)[-1])
            # As on the real platform, category 0 is the whole catalogue.
            cols = list(cats.values()) if cat == 0 else [cats[cat]]
            page = max(1, int(req.params.get("page", "1")))
        except (KeyError, ValueError):
            return json_response({"error": "invalid category", "articles": [], "total": 0})
        docs = [d for col in cols for d in site.visible(col.docs)]
        chunk = docs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return json_response({"page": page, "pageSize": PAGE_SIZE, "total": len(docs), "articles": [
            {"id": d.doc_id, "title": d.title, "url": d.listed_url or d.url, "publisher": d.agency,
             "date": int(d.date.strftime("%s")) if False else _ts(d.date), "identifier": f"{p.region_code}/{d.doc_id}"}
            for d in chunk]})

    def api_content(req):
        try:
            d = docs_by_id[int(req.path.rsplit("/", 1)[-1])]
        except (KeyError, ValueError):
            return site.not_found()
        if req.params.get("sid") != sid or not d.visible(site.epoch):
            return json_response({"error": "not found"})
        content = site.body_html(d) if d.body_in_page else f"<p>{html.escape(d.title)}，详见附件。</p>"
        out = {"id": d.doc_id, "title": d.title, "publisher": d.agency, "date": _ts(d.date), "content": content,
               "attachments": [] if d.doc_id in fullview else [{"name": a.label, "url": a.url} for a in d.attachments]}
        if d.doc_id in fullview:
            a = d.attachments[0]
            out["qzb"] = {"fid": a.url.rsplit("/", 1)[1].rsplit(".", 1)[0], "ext": a.kind.upper()}
        return json_response(out)

    site.route_prefix(site.url("/gkmlpt/api/all/"), api_all)
    site.route_prefix(site.url("/gkmlpt/api/content/"), api_content)
    site.route(site.url("/gkmlpt/index"), lambda req: site.html(_index_shell(site, sid, cats)))
    # The 全真版 reader: a pdf.js-style viewer page that draws the file named in its query.
    site.route(site.url("/gkmlpt/viewer/web/viewer.html"), lambda req: site.html(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>全真版</title></head>"
        "<body><div id=\"viewer\"></div><script>var f = new URLSearchParams(location.search).get('file');"
        "document.getElementById('viewer').textContent = f;</script></body></html>"))
    home = lambda req: site.html(site.page("首页", f'<a href="/gkmlpt/index">政府信息公开</a> {quirk_links}'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _ts(d) -> int:
    import calendar
    return calendar.timegm((d.year, d.month, d.day, 0, 0, 0))


def _index_shell(site: Site, sid: str, cats: dict) -> str:
    tree = json.dumps([{"id": c, "name": col.name} for c, col in cats.items()], ensure_ascii=False)
    script = f"""<script>
window._CONFIG = {{SID: '{sid}'}};
var CATS = {tree};
function load(cat, page) {{
  fetch('/gkmlpt/api/all/' + cat + '?page=' + page + '&sid=' + window._CONFIG.SID).then(function(r){{return r.json()}}).then(function(d){{
    var ul = document.getElementById('list'); ul.innerHTML = '';
    d.articles.forEach(function(a){{ var li = document.createElement('li'); li.innerHTML = '<a href="' + a.url + '">' + a.title + '</a><span>' + new Date(a.date*1000).toISOString().slice(0,10) + '</span>'; ul.appendChild(li); }});
    var pages = Math.ceil(d.total / d.pageSize), nav = document.getElementById('pager'); nav.innerHTML = '';
    for (var i = 1; i <= pages; i++) {{ var b = document.createElement('a'); b.href = 'javascript:load(' + cat + ',' + i + ')'; b.textContent = i; nav.appendChild(b); }}
  }});
}}
window.onload = function() {{
  var tree = document.getElementById('tree');
  CATS.forEach(function(c){{ var a = document.createElement('a'); a.href = '#' + c.id; a.textContent = c.name; a.onclick = function(){{load(c.id, 1)}}; tree.appendChild(a); }});
  load(location.hash ? location.hash.slice(1) : CATS[0].id, 1);
}};
</script>"""
    return site.page("政府信息公开", f'<div id="tree"></div><ul id="list"></ul><div id="pager"></div>{script}')


def _article_shell(site: Site, doc, sid: str) -> str:
    script = f"""<script>
fetch('/gkmlpt/api/content/{doc.doc_id}?sid={sid}').then(function(r){{return r.json()}}).then(function(d){{
  document.getElementById('title').textContent = d.title;
  document.getElementById('content').innerHTML = d.content;
  var box = document.getElementById('files');
  (d.attachments || []).forEach(function(a){{ var l = document.createElement('a'); l.href = a.url; l.textContent = a.name; box.appendChild(l); }});
  if (d.qzb) {{
    var f = document.createElement('iframe');
    f.src = '/gkmlpt/viewer/web/viewer.html?file=' + encodeURIComponent('/gkmlpt/' + 'files/' + d.qzb.fid + '.' + d.qzb.ext.toLowerCase());
    document.getElementById('qzb').appendChild(f);
  }}
}});
</script>"""
    return site.page("详情", f'<h1 id="title"></h1><div id="content"></div><div id="files"></div><div id="qzb" class="qzb">全真版</div>{script}')

"""TRS WCM: GBK pages (declared as gb2312, or not declared at all), list pages index.html, index_1.html ...
whose pagination exists only as createPageHTML(total, current, "index", "html") in a script; articles
./YYYYMM/tYYYYMMDD_ID.html with the body in <div class="TRS_Editor"> and relative ./P0... attachments."""
from __future__ import annotations

import html

from ..model import Response
from ..rand import stable_int
from .common import Site

PER_PAGE = 6
# (meta charset or None, Content-Type header)
CHARSETS = [("gb2312", "text/html"), (None, "text/html"), ("gbk", "text/html; charset=GBK")]


def build(site: Site) -> None:
    p = site.portal
    site.encoding = "gbk"
    meta, ctype = CHARSETS[p.index % len(CHARSETS)]
    reports, looks, news = site.standard_columns()
    columns = [reports, *looks, news]

    def respond(text: str, modified=None) -> Response:
        # 堃 is outside GB2312: a page "declared" gb2312 really needs GBK to decode.
        text = text.replace("</body>", "<!-- 技术支持：拓尔思 堃 --></body>")
        return Response(200, text.encode("gbk", errors="xmlcharrefreplace"), [("Content-Type", ctype)], last_modified=modified)

    for col in columns:
        base = f"/zwgk/{col.slug}/"
        col.url = site.url(base + "index.html")
        for d in col.docs:
            rel_dir = f"{d.date:%Y%m}/"
            d.url = site.url(f"{base}{rel_dir}t{d.date:%Y%m%d}_{d.doc_id}.html")
            rel_links = {}
            for k, a in enumerate(d.attachments):
                fname = f"P0{d.date:%Y%m%d}{stable_int(site.seed, d.doc_id, k) % 10**9:09d}.{a.kind}"
                a.url = site.url(f"{base}{rel_dir}{fname}")
                rel_links[a.url] = "./" + fname
                site.route(a.url, site.file_handler(d, a))
            site.route(d.url, site.doc_handler(d, lambda doc, rl=rel_links: respond(
                site.article_page(doc, zoom="zoom", charset_meta=meta, link=lambda a: rl[a.url]).replace(
                    '<div id="zoom">', '<div id="zoom"><div class="TRS_Editor">').replace(
                    '</div><div class="attachments">', '</div></div><div class="attachments">'), site.modified(doc))))
            site.note_doc(d)
    quirk_links = site.add_quirks(reports)
    for col in columns:
        base = f"/zwgk/{col.slug}/"
        for n in range(0, 2 + len(col.docs) // PER_PAGE):
            path = base + ("index.html" if n == 0 else f"index_{n}.html")
            site.route(site.url(path), lambda req, c=col, n=n: _list(site, c, n, meta, respond))
    nav = "".join(f'<li><a href="./zwgk/{c.slug}/">{html.escape(c.name)}</a></li>' for c in columns)
    for col in columns:   # the directory URL answers like index.html, as on TRS sites
        site.route(site.url(f"/zwgk/{col.slug}/"), lambda req, c=col: _list(site, c, 0, meta, respond))
    home = lambda req: respond(site.page("首页", f'<ul class="nav">{nav}</ul> {quirk_links}', charset_meta=meta))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _list(site: Site, col, n: int, meta, respond) -> Response:
    docs = site.visible(col.docs)
    pages = max(1, -(-len(docs) // PER_PAGE))
    if n >= pages:
        return site.not_found()
    items = "\n".join(
        f'<li><a href="{html.escape(_relative(d.listed_url or d.url, col.slug))}" target="_blank" title="{html.escape(d.title)}">'
        f"{html.escape(d.title)}</a><span>{d.date:%Y-%m-%d}</span></li>" for d in docs[n * PER_PAGE:(n + 1) * PER_PAGE])
    script = f'<script language="JavaScript">\nvar currentPage = {n};\nvar countPage = {pages};\ncreatePageHTML(countPage, currentPage, "index", "html");\n</script>'
    return respond(site.page(col.name, f'<div class="crumb">首页 &gt; 政务公开 &gt; {html.escape(col.name)}</div>'
                                       f'<ul class="list">{items}</ul><div class="page">{script}</div>', charset_meta=meta))


def _relative(url: str, slug: str) -> str:
    marker = f"/zwgk/{slug}/"
    return "./" + url.split(marker, 1)[1] if marker in url else url

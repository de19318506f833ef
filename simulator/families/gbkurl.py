"""gbkurl: GBK pages of older county portals (IIS/ASP or early JSP CMSs on a Chinese-locale Windows
server, e.g. 动易 / 新云 / 风讯 sites) whose uploads keep their Chinese filenames: the PDF links are
percent-encoded GBK bytes (/UploadFiles/%C4%EA%B1%A8/...pdf) and the server maps the bytes through
the GBK code page, so the UTF-8 re-encoding of the same name answers 404. One article links a raw,
un-encoded Chinese path in the GBK page; the server answers it only when it arrives GBK-encoded
(what the old IE "send UTF-8 URLs: off" did and what a page-encoding-aware client must do)."""
from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes

from ..model import Column, Request, Response
from .common import Site
from .kit import esc, make_fillers, make_lookalikes, make_reports, newest_first, report_years


def build(site: Site) -> None:
    site.encoding = "gbk"
    reports_docs = make_reports(site, "nb", report_years(site), kinds=("pdf", "pdf", "docx", "pdf", "xlsx"))
    for d in reports_docs:                # an xlsx alone is a statistics table: keep the report in a PDF too
        if d.attachments and d.attachments[0].kind == "xlsx":
            d.attachments[0].kind, d.attachments[0].label = "pdf", d.attachments[0].label[:-5] + ".pdf"
    looks = make_lookalikes(site, "nb", 2, salt="g")
    news = make_fillers(site, "nb", 4, salt="g")
    col = Column(slug="nb", name="政府信息公开年度报告", kind="reports", agency=site.portal.agency,
                 docs=newest_first(reports_docs + looks + news))
    site.columns = [col]
    files: dict[bytes, tuple] = {}
    raw_links: dict[str, str] = {}
    raw_doc = reports_docs[len(reports_docs) // 2]
    for d in col.docs:
        d.url = site.url(f"/Article/ShowArticle.asp?ArticleID={d.doc_id}")
        for k, a in enumerate(d.attachments):
            name = f"/UploadFiles/年报/{d.date:%Y%m}/{a.label}"
            gbk = name.encode("gbk")
            a.url = site.url(quote(gbk, safe="/"))
            files[gbk] = (d, a)
            if d is raw_doc:
                raw_links[a.url] = name        # printed raw (GBK bytes on the wire of the page)
        site.note_doc(d)
    by_id = {d.doc_id: d for d in col.docs}

    def upload(req: Request) -> Response:
        raw = unquote_to_bytes(req.path.encode("latin-1", errors="replace"))
        hit = files.get(raw)
        if hit is None:
            return site.not_found()
        return site.file_response(*hit)
    site.route_prefix(site.url("/UploadFiles/"), upload)

    def page(title: str, body: str) -> Response:
        return site.html(site.page(title, body, charset_meta="gb2312"))

    def article(req: Request) -> Response:
        try:
            d = by_id[int(req.params.get("ArticleID", ""))]
        except (KeyError, ValueError):
            return site.not_found()
        links = "".join(f'<p><a href="{esc(raw_links.get(a.url, a.url.split(site.host, 1)[1]))}">{esc(a.label)}</a></p>'
                        for a in d.attachments)
        body = site.body_html(d) if d.body_in_page else f"<p>{esc(d.title)}，详见附件。</p>"
        return page(d.title, f'<div class="title">{esc(d.title)}</div><div class="info">作者：佚名 来源：本站原创 '
                             f'更新时间：{d.date:%Y-%m-%d}</div><div id="fontzoom">{body}{links}</div>')
    site.route(site.url("/Article/ShowArticle.asp"), article)
    per = 6
    pages = -(-len(col.docs) // per)

    def listing(req: Request) -> Response:
        try:
            n = max(1, int(req.params.get("page", "1")))
        except ValueError:
            n = 1
        if n > pages:
            return site.not_found()
        items = "".join(f'<li><a href="ShowArticle.asp?ArticleID={d.doc_id}">{esc(d.title)}</a> {d.date:%Y-%m-%d}</li>'
                        for d in col.docs[(n - 1) * per: n * per])
        nxt = f'<a href="ShowClass.asp?ClassID=12&amp;page={n + 1}">下一页</a>' if n < pages else "下一页"
        return page(col.name, f'<ul class="list">{items}</ul><div class="page">共{pages}页 {nxt}</div>')
    col.url = site.url("/Article/ShowClass.asp?ClassID=12")
    site.route(site.url("/Article/ShowClass.asp"), listing)
    home = lambda req: page("首页", '<a href="/Article/ShowClass.asp?ClassID=12">信息公开年报</a> <a href="/Article/">文章中心</a>')
    site.route(site.url("/"), home)
    site.route(site.url("/index.asp"), home)

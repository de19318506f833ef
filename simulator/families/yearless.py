"""yearless: a report column whose rows link straight to files with vague link text -
"政府信息公开工作年度报告", "年度报告", "信息公开年报" - no year and no publisher, as on department sites
that upload each year's file under the same caption (seen on many 区县 bureaus' 年报 columns). The
row's date is the publication date (the following spring), not the year covered; the year is only
in the file's own text ("2017年度"). A look-alike row with the same kind of caption is a file whose
body is a 工作要点, and one is a 年度报表 of the website."""
from __future__ import annotations

import datetime as dt

from ..content import LAST_YEAR
from ..model import Attachment, Column, Request, Response
from ..rand import rng, stable_int
from .common import Site
from .kit import esc, make_reports, newest_first, report_years

CAPTIONS = ["政府信息公开工作年度报告", "年度报告", "信息公开年报", "政府信息公开年度报告"]


def build(site: Site) -> None:
    r = rng(site.seed, site.portal.site_id, "yearless")
    reports_docs = make_reports(site, "nb", report_years(site), kinds=("pdf", "docx", "pdf", "pdf", "docx"),
                                title=lambda y, rr: CAPTIONS[rr.randrange(len(CAPTIONS))])
    looks = []
    for reason, caption, template in [("工作要点", "年度报告", "{a}{y}年政务公开工作要点"),
                                      ("工作要点", "政府信息公开工作年度报告（要点）", "{a}{y}年政府信息公开工作要点"),
                                      ("网站年报", "年度报表", "{a}{y}年政府网站工作年度报表")]:
        y = r.randint(2017, LAST_YEAR)
        body_title = template.format(a=site.portal.agency, y=y)
        d = site.factory.make(title=body_title, date=dt.date(y, r.randint(1, 4), r.randint(1, 28)),
                              kind="lookalike", year=y, agency=site.portal.agency, column="nb", body_in_page=False,
                              attachments=[Attachment(label=caption, kind="pdf")], lookalike_reason=reason)
        d.status = "stable"
        d.listed_url = caption          # the row's caption (the file's own text holds the real title)
        looks.append(d)
    col = Column(slug="nb", name="政府信息公开年度报告", kind="reports", agency=site.portal.agency,
                 docs=newest_first(reports_docs + looks))
    site.columns = [col]
    for d in col.docs:
        for k, a in enumerate(d.attachments):
            a.url = site.url(f"/uploadfile/{d.date:%Y}/{stable_int(site.seed, d.doc_id, k) % 16**16:016x}.{a.kind}")
            if d.kind == "report":
                a.label = d.title       # the caption is all the page says
            site.route(a.url, _file(site, d, a))
        d.url = d.attachments[0].url     # the row is the file: no article page
        site.note_doc(d)
    rows = "".join(f'<tr><td><a href="{esc(d.attachments[0].url)}" target="_blank">'
                   f'{esc(d.listed_url if d.kind == "lookalike" else d.title)}</a></td><td>{d.date:%Y-%m-%d}</td></tr>'
                   for d in col.docs)
    col.url = site.url("/xxgk/ndbg/index.html")
    site.route(col.url, lambda req: site.html(site.page(col.name, f'<div class="crumb">首页 &gt; 信息公开 &gt; 年度报告</div>'
                                                                  f'<table class="list">{rows}</table>')))
    site.route(site.url("/xxgk/index.html"), lambda req: site.html(site.page(
        "信息公开", '<ul><li><a href="ndbg/index.html">政府信息公开年度报告</a></li></ul>')))
    home = lambda req: site.html(site.page("首页", '<a href="/xxgk/index.html">信息公开</a>'))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _file(site: Site, doc, att):
    # The file's title line is as vague as the caption; the body carries the year.
    def handler(req: Request) -> Response:
        from .. import files
        title = att.label if doc.kind == "report" else doc.title
        return Response(200, files.build(att.kind, title, site.doc_text(doc)),
                        [("Content-Type", files.CONTENT_TYPES[att.kind])], last_modified=doc.date)
    return handler

"""Building blocks of the publisher families (deptdir, countymix): documents that carry their
publisher (Doc.publisher, see simulator/places.py) and whose text names the publisher as the page
prints it, served by handlers of the family's own markup. All stable across epochs."""
from __future__ import annotations

import datetime as dt
import html

from .. import files, texts
from ..content import LOOKALIKES_IN_COLUMN, NEWS_TITLES
from ..model import Attachment, Doc, Response
from .common import Site


def date_in(year: int, r, lo: int = 1, hi: int = 12) -> dt.date:
    return dt.date(year, r.randint(lo, hi), r.randint(1, 28))


def years_with_gap(r, n_lo: int, n_hi: int, newest: int = 2024) -> list[int]:
    """n years ending at `newest` or the year before; one interior gap when there are 4 or more."""
    n = r.randint(n_lo, n_hi)
    end = newest - r.randint(0, 1)
    if n < 4:
        return list(range(end, end - n, -1))
    span = list(range(end - n, end + 1))
    missing = r.choice(span[1:-1])
    return [y for y in reversed(span) if y != missing]


class Docs:
    """Makes documents for one site and remembers the name each one's text is written with."""

    def __init__(self, site: Site):
        self.site = site
        self.printed: dict[int, str] = {}

    def _make(self, *, title, year, kind, column, publisher, printed, attachment, date, reason="") -> Doc:
        atts = [Attachment(label=f"{title}.{attachment}", kind=attachment)] if attachment else []
        doc = self.site.factory.make(title=title, date=date, kind=kind, year=year, agency=publisher["name"],
                                     column=column, body_in_page=not atts, attachments=atts,
                                     seed_index=self.site.factory.next_id % 10, lookalike_reason=reason)
        doc.status = "stable"
        doc.publisher = dict(publisher)
        self.printed[doc.doc_id] = printed
        return doc

    def report(self, r, *, title: str, year: int, publisher: dict, printed: str, column: str,
               attachment: str = "pdf") -> Doc:
        return self._make(title=title, year=year, kind="report", column=column, publisher=publisher, printed=printed,
                          attachment=attachment, date=date_in(year + 1, r, 1, 3))

    def lookalike(self, r, *, column: str, publisher: dict, printed: str, in_title: str = "",
                  attachment: str = "pdf", reasons=None) -> Doc:
        pool = [lk for lk in LOOKALIKES_IN_COLUMN if reasons is None or lk[0] in reasons]
        reason, template = r.choice(pool)
        year = r.randint(2017, 2024)
        title = template.format(a=in_title, y=year)
        return self._make(title=title, year=year, kind="lookalike", column=column, publisher=publisher, printed=printed,
                          attachment=attachment, date=date_in(year, r), reason=reason)

    def filler(self, r, *, column: str, publisher: dict, printed: str) -> Doc:
        year = r.randint(2018, 2024)
        title = r.choice(NEWS_TITLES).format(a=printed, y=year)
        d = self.site.factory.make(title=title, date=date_in(year, r), kind="filler", year=None,
                                   agency=publisher["name"], column=column, body_in_page=True, attachments=[])
        d.status = "stable"
        d.publisher = dict(publisher)
        self.printed[d.doc_id] = printed
        return d

    # -- text and bytes ------------------------------------------------------------------------------------------
    def text(self, doc: Doc) -> str:
        name = self.printed.get(doc.doc_id, doc.agency)
        if doc.kind == "report":
            return texts.report_body(seed_index=doc.seed_index, agency=name, year=doc.year, traditional=False)
        if doc.kind == "lookalike":
            return texts.lookalike_body(title=doc.title, agency=name, year=doc.year or 2020)
        return f"{doc.date:%Y年%m月%d日}，{doc.title}。会议强调，要坚持以人民为中心，扎实推进各项工作落地见效。"

    def body_html(self, doc: Doc) -> str:
        if not doc.body_in_page:
            return f"<p>{esc(doc.title)}，详见附件。</p>"
        return "\n".join(f"<p>{esc(p.strip())}</p>" for p in self.text(doc).splitlines() if p.strip())

    def route_files(self, doc: Doc) -> None:
        site = self.site
        for a in doc.attachments:
            site.route(a.url, lambda req, d=doc, a=a: self._file(d, a))

    def _file(self, doc: Doc, att: Attachment) -> Response:
        body = files.build(att.kind, doc.title, self.text(doc), image_only=att.image_only)
        return Response(200, body, [("Content-Type", files.CONTENT_TYPES[att.kind])], last_modified=doc.date)


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def attachments_html(doc: Doc, *, style: int = 0) -> str:
    if not doc.attachments:
        return ""
    if style == 0:
        links = "".join(f'<li><a href="{esc(a.url)}">{esc(a.label)}</a></li>' for a in doc.attachments)
        return f'<div class="attachments">附件：<ul>{links}</ul></div>'
    if style == 1:
        links = "".join(f'<p class="fj">附件：<a href="{esc(a.url)}" target="_blank">{esc(a.label)}</a></p>'
                        for a in doc.attachments)
        return links
    links = "".join(f'<a href="{esc(a.url)}" title="{esc(a.label)}">{esc(a.label)}</a><br>' for a in doc.attachments)
    return f'<div class="xgfj"><span>相关附件：</span>{links}</div>'

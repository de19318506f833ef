"""Shared building blocks of the ad hoc families (simulator/adhoc.py): report, look-alike and filler
documents with explicit years (always one or two gaps), all stable across epochs, so every ad hoc
portal holds 5-8 reports and a known set of look-alikes whatever the seed."""
from __future__ import annotations

import datetime as dt
import html

from ..content import LOOKALIKES_IN_COLUMN, NEWS_TITLES, LAST_YEAR, title_for
from ..model import Attachment, Doc
from ..rand import rng


def short_name(site) -> str:
    p = site.portal
    return p.agency[len(p.region_name):] if p.agency.startswith(p.region_name) else p.agency


def report_years(site, salt: str = "", *, newest: int = LAST_YEAR) -> list[int]:
    """5-8 years ending at `newest` or the year before, with one or two interior gaps; newest first."""
    r = rng(site.seed, site.portal.site_id, "adhoc-years", salt)
    n, gaps = r.randint(5, 8), r.randint(1, 2)
    end = newest - r.randint(0, 1)
    span = list(range(end - n - gaps + 1, end + 1))
    missing = set(r.sample(span[1:-1], gaps))
    return sorted((y for y in span if y not in missing), reverse=True)


def _date(year: int, r, lo: int = 1, hi: int = 12) -> dt.date:
    return dt.date(year, r.randint(lo, hi), r.randint(1, 28))


def make_reports(site, column: str, years: list[int], *, kinds=("pdf",), title=None, salt: str = "") -> list[Doc]:
    """One report per year. kinds: a cycle of attachment kinds ("" for a report in the page)."""
    r = rng(site.seed, site.portal.site_id, "adhoc-reports", column, salt)
    out = []
    for i, year in enumerate(years):
        kind = kinds[i % len(kinds)]
        t = title(year, r) if title else title_for(site.portal.agency, short_name(site), year, r, False)
        atts = [Attachment(label=f"{t}.{kind}", kind=kind)] if kind else []
        doc = site.factory.make(title=t, date=_date(year + 1, r, 1, 3), kind="report", year=year,
                                agency=site.portal.agency, column=column, body_in_page=not atts, attachments=atts,
                                seed_index=r.randrange(10))
        doc.status = "stable"
        out.append(doc)
    return out


def make_lookalikes(site, column: str, n: int = 2, *, with_file: bool = True, salt: str = "",
                    reasons: tuple[str, ...] | None = None) -> list[Doc]:
    """Look-alikes from content.LOOKALIKES_IN_COLUMN (工作要点, 通知 on compiling reports, ...)."""
    r = rng(site.seed, site.portal.site_id, "adhoc-lookalikes", column, salt)
    pool = [lk for lk in LOOKALIKES_IN_COLUMN if reasons is None or lk[0] in reasons]
    out = []
    for reason, template in r.sample(pool, min(n, len(pool))):
        year = r.randint(2016, LAST_YEAR)
        t = template.format(a=site.portal.agency, y=year)
        atts = [Attachment(label=f"{t}.pdf", kind="pdf")] if with_file else []
        doc = site.factory.make(title=t, date=_date(year, r), kind="lookalike", year=year, agency=site.portal.agency,
                                column=column, body_in_page=not atts, attachments=atts, lookalike_reason=reason)
        doc.status = "stable"
        out.append(doc)
    return out


def make_fillers(site, column: str, n: int, *, salt: str = "") -> list[Doc]:
    r = rng(site.seed, site.portal.site_id, "adhoc-fillers", column, salt)
    out = []
    for _ in range(n):
        year = r.randint(2016, LAST_YEAR)
        doc = site.factory.make(title=r.choice(NEWS_TITLES).format(a=site.portal.agency, y=year), date=_date(year, r),
                                kind="filler", year=None, agency=site.portal.agency, column=column,
                                body_in_page=True, attachments=[])
        doc.status = "stable"
        out.append(doc)
    return out


def newest_first(docs: list[Doc]) -> list[Doc]:
    return sorted(docs, key=lambda d: (d.date, d.doc_id), reverse=True)


def esc(s: str) -> str:
    return html.escape(s, quote=True)

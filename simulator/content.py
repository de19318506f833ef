"""What each portal publishes: report columns, look-alike columns and news, with years, titles,
attachments and their fate across epochs. URLs are assigned later by the portal's family."""
from __future__ import annotations

import datetime as dt

from .model import Attachment, Column, Doc, Portal
from .names import to_traditional, year_in_hanzi
from .rand import rng, stable_int

LAST_YEAR = 2024          # the newest year covered at epoch 0; epoch 1 may add 2025
REPORT_COLUMNS = [("xxgknb", "政府信息公开年报"), ("gknb", "公开年报"), ("zfxxgknb", "年度报告"),
                  ("ndbg", "政府信息公开年度报告"), ("nb", "信息公开年报")]

# (reason, title template). {a} agency, {y} year.
LOOKALIKES_IN_COLUMN = [
    ("通知", "关于做好{y}年政府信息公开工作年度报告编制和发布工作的通知"),
    ("工作要点", "{a}{y}年政务公开工作要点"),
    ("法治政府", "{a}{y}年法治政府建设年度报告"),
    ("决算", "{a}{y}年部门决算公开"),
    ("解读", "《{a}{y}年政府信息公开工作年度报告》格式解读"),
    ("政府工作报告", "{y}年{a}政府工作报告"),
]
LOOKALIKE_COLUMNS = [
    ("zfwzndbb", "政府网站工作年度报表", "网站年报", "{a}{y}年政府网站工作年度报表"),
    ("zfgzbg", "政府工作报告", "政府工作报告", "{y}年{a}政府工作报告"),
    ("gkzn", "政府信息公开指南", "公开指南", "{a}政府信息公开指南（{y}年修订）"),
]
NEWS_TITLES = ["{a}召开{y}年度工作会议", "{a}开展政务公开培训", "{a}部署安全生产工作",
               "{a}党组理论学习中心组集中学习", "{a}赴基层调研指导工作", "{a}召开专题会议推进重点项目"]

# (weight, kinds, image_only)
ATTACHMENT_PLANS = [(30, (), False), (35, ("pdf",), False), (10, ("docx",), False), (8, ("pdf", "xlsx"), False),
                    (5, ("doc",), False), (4, ("wps",), False), (4, ("ofd",), False), (4, ("pdf",), True)]


def title_for(agency: str, short: str, year: int, rnd, traditional: bool) -> str:
    if traditional:
        forms = [f"{year_in_hanzi(year)}年度政府信息公開工作年度報告",
                 f"{to_traditional(agency)}{year}年政府信息公開工作年度報告"]
        return rnd.choice(forms)
    forms = [
        f"{agency}{year}年政府信息公开工作年度报告",
        f"关于{year}年政府信息公开工作的年度报告",
        f"{short}{year}年度政府信息公开工作报告",
        f"{short}{year}年信息公开年度报告",
        f"{agency}{year} 年政府信息公开工作年度报告",
        f"{year}年度{agency}政府信息公开工作年度报告",
    ]
    return rnd.choice(forms)


def epoch_status(seed: int, site_id: str, doc_id: int) -> str:
    return {0: "removed", 1: "changed", 2: "added"}.get(stable_int(seed, site_id, doc_id, "epoch") % 10, "stable")


def _date_in(year: int, rnd, *, month_lo=1, month_hi=12) -> dt.date:
    return dt.date(year, rnd.randint(month_lo, month_hi), rnd.randint(1, 28))


class DocFactory:
    """Hands out document ids and statuses for one portal, in a fixed order."""

    def __init__(self, seed: int, portal: Portal, *, last_year: int = LAST_YEAR):
        self.seed, self.portal, self.last_year = seed, portal, last_year
        self.next_id = 4_560_000 + portal.index * 1_000 + stable_int(seed, portal.site_id) % 97

    def make(self, **kw) -> Doc:
        doc_id = self.next_id
        self.next_id += 1 + stable_int(self.seed, self.portal.site_id, doc_id) % 3
        return Doc(doc_id=doc_id, status=epoch_status(self.seed, self.portal.site_id, doc_id), **kw)


def report_column(f: DocFactory, *, agency: str, short: str, first_year: int, slug: str, name: str,
                  allow_html: bool, traditional: bool, dept: str = "", lookalikes: int = 2) -> Column:
    p = f.portal
    rnd = rng(f.seed, p.site_id, "reports", dept)
    docs: list[Doc] = []
    last = f.last_year
    for year in range(first_year, last + 2):
        if year == last + 1 and rnd.random() < 0.5:
            continue
        if year <= last and year > first_year and rnd.random() < 0.15:
            continue                                # a gap: that year's report was never published
        plans = [pl for pl in ATTACHMENT_PLANS if allow_html or pl[1]]
        _, kinds, image_only = rnd.choices(plans, weights=[pl[0] for pl in plans])[0]
        title = title_for(agency, short, year, rnd, traditional)
        if image_only:
            title += "（图片版）"
        atts = [Attachment(label=(title if i == 0 else "附表：政府信息公开情况统计表") + "." + k, kind=k,
                           image_only=image_only and k == "pdf") for i, k in enumerate(kinds)]
        doc = f.make(title=title, date=_date_in(year + 1, rnd, month_hi=3), kind="report", year=year,
                     agency=agency, column=slug, body_in_page=not kinds, attachments=atts,
                     seed_index=rnd.randrange(10), traditional=traditional)
        if year == last + 1:
            doc.status = "added"                    # next year's report appears only in the later epoch
        docs.append(doc)
    for reason, template in rnd.sample(LOOKALIKES_IN_COLUMN, lookalikes):
        year = rnd.randint(max(first_year, 2012), LAST_YEAR)
        title = template.format(a=agency, y=year)
        atts = [Attachment(label=title + ".pdf", kind="pdf")] if rnd.random() < 0.4 else []
        docs.append(f.make(title=title, date=_date_in(year, rnd), kind="lookalike", year=year, agency=agency,
                           column=slug, body_in_page=not atts, attachments=atts, lookalike_reason=reason))
    docs.sort(key=lambda d: (d.date, d.doc_id), reverse=True)
    return Column(slug=slug, name=name, kind="reports", docs=docs, agency=agency, dept=dept)


def lookalike_columns(f: DocFactory, agency: str) -> list[Column]:
    rnd = rng(f.seed, f.portal.site_id, "lookalike-columns")
    cols = []
    for slug, name, reason, template in LOOKALIKE_COLUMNS:
        docs = []
        years = [LAST_YEAR] if slug == "gkzn" else sorted(rnd.sample(range(2015, LAST_YEAR + 1), 3), reverse=True)
        for year in years:
            title = template.format(a=agency, y=year)
            atts = [Attachment(label=title + ".pdf", kind="pdf")] if slug == "zfwzndbb" else []
            docs.append(f.make(title=title, date=_date_in(year + (slug != "gkzn"), rnd, month_hi=3), kind="lookalike",
                               year=year, agency=agency, column=slug, body_in_page=not atts, attachments=atts,
                               lookalike_reason=reason))
        cols.append(Column(slug=slug, name=name, kind="lookalike", docs=docs, agency=agency))
    return cols


def news_column(f: DocFactory, agency: str, count: int) -> Column:
    rnd = rng(f.seed, f.portal.site_id, "news")
    docs = []
    for _ in range(count):
        year = rnd.randint(2016, LAST_YEAR)
        title = rnd.choice(NEWS_TITLES).format(a=agency, y=year)
        docs.append(f.make(title=title, date=_date_in(year, rnd), kind="filler", year=None, agency=agency,
                           column="gzdt", body_in_page=True, attachments=[]))
    docs.sort(key=lambda d: (d.date, d.doc_id), reverse=True)
    return Column(slug="gzdt", name="工作动态", kind="news", docs=docs, agency=agency)


def pick_report_column(seed: int, site_id: str, salt: str = "") -> tuple[str, str]:
    return rng(seed, site_id, "report-column", salt).choice(REPORT_COLUMNS)

"""What a page says about who published it, each piece with where it was read.

Sources, strongest first (attribution.py decides between them):
- page_field: the page's own metadata, 发布机构 / 发文机关 / 来源 / 信息来源 cells and the
  ContentSource meta tag (crawler.cms reads them); a key-value table flattened into one cell
  (「发布机构：XX局 发布日期：2019-01-01」, even without the space) is cut at the next key;
- breadcrumb: the department section the page sits under (首页 > 部门信息公开 > XX局 > 年报);
- title: the name the document gives itself (「XX局2016年政府信息公开工作年度报告」);
- body: the statutory opening names the author (「…编制《XX局2016年…年度报告》」,
  「…特向社会公布2019年度XX镇政府信息公开年度报告」, 「由XX局负责编制」).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crawler.publishers.names import is_agency, normal, to_simplified

SOURCES = ("page_field", "breadcrumb", "title", "body", "site")


@dataclass(frozen=True)
class Evidence:
    source: str   # one of SOURCES
    text: str     # the name as printed

    def as_dict(self) -> dict:
        return {"source": self.source, "text": self.text}


# Keys a metadata table prints beside the publisher: where a run-together cell's name stops.
_NEXT_KEY = re.compile(r"(?:发布日期|生成日期|成文日期|发文日期|公开日期|印发日期|日期|时间|索引号|主题分类|"
                       r"文号|发文字号|公开方式|公开范围|有效性|体裁分类|组配分类|关键词|浏览次数|点击|作者|字号|"
                       r"(?:19|20)\d{2}[-年./])")
_LABEL = re.compile(r"^(?:发布机构|发文机关|发布单位|发文单位|信息来源|来源单位|发布部门|来源|公开主体)\s*[:：]?\s*")


def field_value(raw: str | None) -> str | None:
    """The publisher a page field holds: its label and any run-together next key cut off."""
    if not raw:
        return None
    s = _LABEL.sub("", re.sub(r"[\s\u00a0\u3000]+", " ", raw).strip())
    m = _NEXT_KEY.search(s)
    if m:
        s = s[: m.start()]
    s = s.strip(" :：|｜丨/,，;；")
    s = s.split(" ")[0] if " " in s else s
    return s if is_agency(s) else None


_CRUMB_SPLIT = re.compile(r"\s*(?:>|›|»|→|/|＞|\|)\s*")
# Segments that are columns, never publishers, though some end like one (信息公开办).
_GENERIC = {"首页", "信息公开", "政府信息公开", "政务公开", "部门信息公开", "公开目录", "年报", "年度报告",
            "政府信息公开年报", "信息公开年报", "部门", "机构", "当前位置", "您现在的位置", "部门信息公开目录"}


def breadcrumb_names(breadcrumb: str | None) -> list[str]:
    """The breadcrumb's segments that name a publisher, innermost first."""
    parts = [p.strip() for p in _CRUMB_SPLIT.split(breadcrumb or "") if p.strip()]
    return [p for p in reversed(parts) if p not in _GENERIC and is_agency(p)]


_END = r"(?:人民政府|委员会|管委会|办事处|办公室|总局|政府|局|委|办|院|厅|署|部|中心)"
_FIELD = re.compile(r"(?:发布单位|发布机构|发布机关|公开主体|发文机关)[:：]\s*([\u4e00-\u9fff]{2,30})")
_BODY = [
    # 「编制《XX局2016年…年度报告》」, 「现公布大冶市教育局2025年政府信息公开工作年度报告」,
    # 「现形成《海城市卫生健康局2025年…报告》」, 「现公开来凤经济开发区信息公开2018年度报告」
    re.compile(r"(?:编制|公布|公开|形成|制作)(?:了|完成)?《?([\u4e00-\u9fff]{2,30}?)(?:政府)?(?:信息公开)?"
               r"(?:(?:19|20)\d{2}|[〇○零一二]{4})\s*年度?.{0,12}?(?:信息公开|报告)"),
    # 「特向社会公布2019年度青龙镇政府(机关)信息公开年度报告」
    re.compile(r"公布\s*(?:19|20)\d{2}\s*年度?\s*([\u4e00-\u9fff]{2,30}?)(?:政府)?(?:[(（][^)）]{1,6}[)）])?(?:政府)?信息公开"),
    # 「由湖州市质量技术监督局编制」
    re.compile(r"由([\u4e00-\u9fff]{2,30}?)(?:负责)?编制"),
    _FIELD,
    # The overview opens with the year and the author: 「2025年,海城市卫生健康局认真贯彻…」
    re.compile(r"(?:^|[。；、]|情况)(?:19|20)\d{2}\s*年(?:度|以来)?\s*[,，]\s*([\u4e00-\u9fff]{2,30}?" + _END + r")"
               r"(?=认真|严格|坚持|深入|全面|积极|紧紧|紧扣|按照|围绕|扎实|进一步|高度|始终|以|在|持续|不断)"),
    # 「如对本报告有疑问，请与大冶市自然资源和规划局办公室联系」: the author's own office.
    re.compile(r"请与([\u4e00-\u9fff]{2,40}?" + _END + r")(?:办公室|政务公开办|信息公开办|[\u4e00-\u9fff]{0,8}小组办公室)?(?:联系|$)"),
]


def body_names(text: str | None, limit: int = 1500) -> list[str]:
    """Names the body's opening sentences give as the report's author."""
    head = normal((text or "")[:limit]) if text else ""
    # A field's value ends where its cell or line does (「发布单位：某市人民政府」 beside the
    # next cell's title): read with the page's spacing kept, as the other patterns need not be.
    spaced = to_simplified(unicodedata.normalize("NFKC", (text or "")[:limit]))
    out = []
    for rx in _BODY:
        for m in rx.finditer(spaced if rx is _FIELD else head):
            name = m.group(1)
            name = re.sub(r"^(?:关于|公布|发布)", "", name)
            if name.endswith("人民"):
                name += "政府"   # the lazy name left 政府 to 「政府信息公开」
            if name and not name.startswith(("我", "本")) and is_agency(name) and name not in out:
                out.append(name)
            break
    return out


_HEAD_SPLIT = re.compile(r"\s*(?:[·•|｜_—–]+|\s-\s|-{1,2}|\s{2,}|\s)\s*")


def section_name(*, breadcrumb: str | None = None, heading: str | None = None, title: str | None = None) -> str | None:
    """The publisher a listing page's own section names: its breadcrumb's, else the first part of
    its heading or title that is a publisher (「XX局 · 信息公开年报」, 「XX局 - 某某平台」)."""
    names = breadcrumb_names(breadcrumb)
    if names:
        return names[0]
    for text in (heading, title):
        for part in _HEAD_SPLIT.split(text or ""):
            if part and part not in _GENERIC and is_agency(part):
                return normal(part)
    return None


def gather(*, fields: list[str | None] = (), breadcrumb: str | None = None, titles: list[str | None] = (),
           body: str | None = None, section: str | None = None) -> list[Evidence]:
    """Every piece of evidence a page offers, strongest source first. titles: names already read
    from the title(s) (recognise.extract_agency); section: the name the listing that linked the
    page gave its own section (the department column it sits in), when its breadcrumb names none."""
    out: list[Evidence] = []
    for raw in fields:
        value = field_value(raw)
        if value:
            out.append(Evidence("page_field", value))
    crumbs = breadcrumb_names(breadcrumb)[:1]
    for name in crumbs or ([section] if section else []):
        out.append(Evidence("breadcrumb", name))
    for name in titles:
        if name and normal(name):
            out.append(Evidence("title", normal(name)))
    for name in body_names(body):
        out.append(Evidence("body", name))
    seen, unique = set(), []
    for ev in out:
        if (ev.source, ev.text) not in seen:
            seen.add((ev.source, ev.text))
            unique.append(ev)
    return unique


__all__ = ["Evidence", "SOURCES", "body_names", "breadcrumb_names", "field_value", "gather", "section_name"]

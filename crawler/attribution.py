"""Whose report is it? One decision, tested from a table.

Order of evidence:
1. the agency the document names (title or heading), completed to its full name when the page's
   publisher field or the site's agency ends with it (「区商务局」 -> 「某某区商务局」);
2. on a disclosure platform hosting many departments, the department the page names
   (发布机构 / 来源 field, else the breadcrumb segment that is an agency);
3. the site's configured agency.
"""
from __future__ import annotations

import re

from crawler.recognise import to_simplified

_AGENCY_END = re.compile(r"(人民政府|政府|办公室|办公厅|委员会|局|厅|委|办|院|署|中心|会|所|站|处|队|街道|镇|乡)$")
_GENERIC = {"首页", "信息公开", "政府信息公开", "政务公开", "部门信息公开", "公开目录", "年报", "年度报告",
            "政府信息公开年报", "信息公开年报", "部门", "机构", "当前位置", "您现在的位置"}


def looks_like_agency(name: str) -> bool:
    name = name.strip()
    return 2 <= len(name) <= 40 and name not in _GENERIC and bool(_AGENCY_END.search(name))


def breadcrumb_agency(breadcrumb: str) -> str | None:
    """The last breadcrumb segment that names an agency (platform > department > column)."""
    parts = [p.strip() for p in re.split(r"\s*(?:>|›|»|→|/|＞|\|)\s*", breadcrumb or "") if p.strip()]
    for part in reversed(parts):
        if looks_like_agency(part):
            return part
    return None


def resolve_agency(*, named: str | None, publisher: str | None, breadcrumb: str | None,
                   site_agency: str, directory: bool = False) -> str:
    named = to_simplified(named.strip()) if named else None
    publisher = to_simplified(publisher.strip()) if publisher and looks_like_agency(publisher.strip()) else None
    site_agency = to_simplified(site_agency)
    if named:
        for fuller in (publisher, site_agency):
            if fuller and fuller != named and fuller.endswith(named):
                return fuller
        return named
    if directory:
        if publisher:
            return publisher
        crumb = breadcrumb_agency(to_simplified(breadcrumb or ""))
        if crumb:
            return crumb
    return site_agency

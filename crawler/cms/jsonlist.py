"""Lists answered as JSON: pick the records that name a title and a URL, and page on.

Works for any endpoint a page referenced (gkmlpt, so-gov search, bespoke APIs): walk the
answer, take every object holding a title-like key and a URL-like key, and when the
request URL carries a page number and the answer a total, request the remaining pages.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .model import Extracted, Follow, Link, dedupe_links
from .page import absolute, norm, parse_date

TITLE_KEYS = ("title", "Title", "name", "标题", "doctitle", "docTitle", "DOCTITLE", "wjmc", "fileName", "filename",
              "subject", "bt", "titleName", "infoTitle", "articleTitle")
URL_KEYS = ("url", "URL", "link", "href", "docpuburl", "docPubUrl", "DOCPUBURL", "puburl", "pubUrl", "post_url",
            "postUrl", "detailUrl", "detail_url", "contentUrl", "fileUrl", "file_url", "linkUrl", "link_url",
            "infoUrl", "articleUrl", "wzlj", "src")
DATE_KEYS = ("date", "pubDate", "pubdate", "publishDate", "publish_date", "publishTime", "docreltime", "docRelTime",
             "DOCRELTIME", "fbrq", "cwrq", "created_at", "createTime", "create_time", "display_publish_time",
             "releaseDate", "pubTime", "time", "inputTime")
PAGE_PARAMS = ("page", "pageNo", "pageNum", "pageIndex", "currentPage", "curPage", "pageNumber", "p", "pn")
TOTAL_PAGE_KEYS = ("totalPage", "totalPages", "pageCount", "pages", "total_page", "pageTotal", "totalpage")
TOTAL_KEYS = ("total", "totalCount", "totalRecord", "total_count", "totalNum", "count", "totalElements", "recordCount")
MAX_PAGES = 2000
_CN = timezone(timedelta(hours=8))


def loads(text: str):
    """JSON, or JSONP (callback({...})), or None."""
    text = (text or "").strip().lstrip("\ufeff")
    try:
        return json.loads(text)
    except ValueError:
        m = re.match(r"^[\w$.]+\s*\((.*)\)\s*;?\s*$", text, re.S)
        if m:
            try:
                return json.loads(m.group(1))
            except ValueError:
                return None
    return None


def as_date(value) -> str | None:
    """YYYY-MM-DD from a date string or a Unix timestamp (seconds or milliseconds, China time)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit() and len(value) >= 9):
        stamp = float(value)
        if stamp > 1e11:
            stamp /= 1000
        if 0 < stamp < 4e9:
            return datetime.fromtimestamp(stamp, _CN).strftime("%Y-%m-%d")
        return None
    return parse_date(str(value)) if isinstance(value, str) else None


def _first(obj: dict, keys) -> object:
    for k in keys:
        v = obj.get(k)
        if v not in (None, "", [], {}):
            return v
    return None


def record_link(obj: dict, base: str) -> Link | None:
    title = _first(obj, TITLE_KEYS)
    href = _first(obj, URL_KEYS)
    if not isinstance(title, str) or not isinstance(href, str):
        return None
    url = absolute(base, href)
    if not url:
        return None
    date = next((d for d in (as_date(obj.get(k)) for k in DATE_KEYS) if d), None)
    return Link(url, norm(re.sub(r"<[^>]+>", " ", title)), date)


def walk(data, base: str) -> list[Link]:
    """Every record in a JSON answer, depth first, in document order."""
    out: list[Link] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            link = record_link(node, base)
            if link:
                out.append(link)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return out


def _find_number(data, keys) -> int | None:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k in keys:
                v = node.get(k)
                if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
                    return int(v)
            stack.extend(v for v in node.values() if isinstance(v, dict))
    return None


def further_pages(url: str, data, per_page: int, *, kind: str = "api",
                  headers: dict[str, str] | None = None) -> list[Follow]:
    """The remaining pages of a paged JSON list, by the page parameter in the URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [k for k, _ in query]
    param = next((p for p in PAGE_PARAMS if p in names), None)
    if param is None:
        return []
    current = dict(query)[param]
    if not current.isdigit():
        return []
    pages = _find_number(data, TOTAL_PAGE_KEYS)
    if pages is None:
        total = _find_number(data, TOTAL_KEYS)
        if total is None or per_page <= 0:
            return []
        pages = math.ceil(total / per_page)
    # Lists numbered from 0 show one page fewer than their count.
    last = pages - 1 if current == "0" else pages
    out = []
    for n in range(int(current) + 1, min(last, MAX_PAGES) + 1):
        q = urlencode([(k, str(n) if k == param else v) for k, v in query])
        out.append(Follow(urlunsplit((parts.scheme, parts.netloc, parts.path, q, "")), kind=kind, headers=headers))
    return out


def parse_json(url: str, text: str, *, base: str | None = None, family: str | None = None) -> Extracted:
    """Links and further pages from a JSON list answer; empty when the text is not JSON."""
    data = loads(text)
    if data is None:
        return Extracted(family=family)
    links = dedupe_links(walk(data, base or url))
    return Extracted(family=family, links=links, pages=further_pages(url, data, len(links)))

"""Guangdong's 政府信息公开目录 platform (gkmlpt), shared by the province's portals.

List pages (/gkmlpt/index#123, /gkmlpt/policy) are an empty shell: a config script names
the site id (SID: '755031') and the page fetches
    {prefix}/gkmlpt/api/all/{catId}?page=1&sid={SID}
answering {"articles": [{"id", "title", "url", "post_url", "publisher",
"display_publish_time" (Unix seconds), "created_at", ...}], "total": N} with 100 articles
a page. catId 0 lists the whole catalogue; the category is the URL fragment.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import jsonlist
from .model import Extracted, Follow, dedupe_links

PAGE_SIZE = 100
_SID = re.compile(r"""\b(?:SID|sid|siteId|SITE_ID)\b["']?\s*[:=]\s*["']?(\d+)""")
_SID_QUERY = re.compile(r"gkmlpt/api/[\w/]*\?[^\"'\s]*\bsid=(\d+)")
_API_CAT = re.compile(r"/gkmlpt/api/all/(\d+)")
_CAT_CONFIG = re.compile(r"""\b(?:CAT_ID|catId|cat_id|CATEGORY_ID|categoryId|TOP_ID)\b["']?\s*[:=]\s*["']?(\d+)""")
_API_PATH = re.compile(r"/gkmlpt/api/")


def looks_like(url: str, text: str) -> bool:
    return "/gkmlpt/" in url or "gkmlpt" in text[:200000]


def is_api(url: str) -> bool:
    return bool(_API_PATH.search(url))


def _prefix(url: str, text: str) -> str | None:
    """Everything up to and including /gkmlpt/ (portals mount it under a department path)."""
    parts = urlsplit(url)
    path = parts.path
    i = path.find("/gkmlpt/")
    if i < 0:
        m = re.search(r"""["'](?:https?://[^"'/]+)?(/[\w\-/]*?/?gkmlpt/)""", text)
        if not m:
            return None
        return urlunsplit((parts.scheme, parts.netloc, m.group(1), "", ""))
    return urlunsplit((parts.scheme, parts.netloc, path[: i + len("/gkmlpt/")], "", ""))


def api_follow(url: str, text: str) -> Follow | None:
    """The first API page feeding a gkmlpt list page, or None when the page names no SID."""
    m = _SID.search(text) or _SID_QUERY.search(text)
    prefix = _prefix(url, text)
    if not m or not prefix:
        return None
    fragment = urlsplit(url).fragment
    cat = fragment if fragment.isdigit() else None
    if cat is None:
        c = _API_CAT.search(text) or _CAT_CONFIG.search(text)
        cat = c.group(1) if c else "0"
    api = f"{prefix}api/all/{cat}?{urlencode({'page': 1, 'sid': m.group(1)})}"
    return Follow(api, kind="api", headers={"Referer": url.split("#")[0], "X-Requested-With": "XMLHttpRequest"})


def parse_json(url: str, text: str) -> Extracted:
    """Articles of one API answer and, from its total, every later page."""
    data = jsonlist.loads(text)
    if data is None:
        return Extracted(family="gkmlpt")
    articles = data.get("articles") if isinstance(data, dict) else None
    source = articles if isinstance(articles, list) else data
    links = dedupe_links(jsonlist.walk(source, url))
    pages: list[Follow] = []
    total = data.get("total") if isinstance(data, dict) else None
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    page = query.get("page", "1")
    if isinstance(total, int) and page.isdigit():
        # This answer's length is the page size; an empty answer says nothing, assume the usual 100.
        size = len(source) if isinstance(source, list) and source else PAGE_SIZE
        last = math.ceil(total / size)
        for n in range(int(page) + 1, min(last, jsonlist.MAX_PAGES) + 1):
            q = urlencode({**query, "page": n})
            pages.append(Follow(urlunsplit((parts.scheme, parts.netloc, parts.path, q, "")), kind="api"))
    return Extracted(family="gkmlpt", links=links, pages=pages)

"""Hanweb (大汉) JCMS: lists kept in <datastore> XML and paged through dataproxy.jsp.

A column page carries its first records in
    <script type="text/xml"><datastore><nextgroup>..</nextgroup><recordset>
      <record><![CDATA[<li><a href="/art/2019/1/31/art_123_456.html">..</a><span>2019-01-31</span></li>]]></record>
and a pager call such as
    $('#49468').jpage({totalRecord:1418, perPage:25, groupSize:3,
        proxyUrl:'/module/jslib/jquery/jpage/dataproxy.jsp',
        ajaxParam:{col:1, appid:'1', webid:60, path:'/', columnid:30067, unitid:'49468', webname:'..', permissiontype:0}});
The rest of the list comes only by POST to that proxy with ?startrecord=&endrecord=&perpage=
in the query and the ajaxParam fields as the form; one answer carries perPage*groupSize
records and says <totalrecord>. The proxy path differs by JCMS version
(/module/web/jpage/, /module/jpage/, /module/jslib/jquery/jpage/): always the page's own.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .model import Extracted, Follow, Link, dedupe_links
from .page import absolute, links_in, norm, parse_date, parse_fragment

DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PERPAGE = 15
DEFAULT_GROUP = 3
# Fields the proxy needs; seen in every JCMS version's ajaxParam.
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")
_DEFAULTS = {"col": "1", "appid": "1", "path": "/", "permissiontype": "0"}

_RECORD = re.compile(r"<record>\s*(?:<!\[CDATA\[(.*?)\]\]>|(.*?))\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</nextgroup>", re.S | re.I)
_TOTAL_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_PROXY = re.compile(r"""(/module/[\w/.\-]*?(?:dataproxy|morecolumndataproxy)\.jsp)""", re.I)
_JPAGE_CALL = re.compile(r"\.jpage\s*\(\s*\{")
_OBJ_WITH_UNIT = re.compile(r"\{[^{}]*\b(?:unitid|columnid)\b[^{}]*\}", re.I)
_KV = re.compile(r"""["']?(\w+)["']?\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,{}\s]+)""")
_SCRIPT_SRC = re.compile(r"""<script[^>]+src\s*=\s*["']([^"']*\?[^"']*(?:unitid|columnid)=[^"']*)["']""", re.I)
_MARKS = re.compile(r"<datastore>|dataproxy\.jsp|\.jpage\s*\(|/module/(?:web/)?jpage/|/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html|hanweb", re.I)
_HEADERS = {"X-Requested-With": "XMLHttpRequest"}


def looks_like(url: str, text: str) -> bool:
    return bool(_MARKS.search(text))


# ---- records --------------------------------------------------------------------

def records(text: str) -> list[str]:
    """The HTML of each <record> in a datastore, in order."""
    return [(m.group(1) if m.group(1) is not None else m.group(2)) or "" for m in _RECORD.finditer(text)]


def record_links(text: str, base: str) -> list[Link]:
    """Links from every record, each with the date printed in its record."""
    out: list[Link] = []
    for html in records(text):
        root = parse_fragment(html)
        found = links_in(root, base)
        if len(found) == 1 and not found[0].date:
            # Records without a wrapper element: the date sits beside the anchor in the record.
            anchor_texts = " ".join(a.text_content() for a in root.xpath("//a"))
            date = parse_date(root.text_content().replace(anchor_texts, " "))
            found = [Link(found[0].url, found[0].text, date)]
        out.extend(found)
    return out


def total_records(text: str) -> int | None:
    m = _TOTAL_XML.search(text)
    if m:
        return int(m.group(1))
    config = jpage_config(text)
    value = config.get("totalRecord") or config.get("totalrecord")
    return int(value) if value and value.isdigit() else None


# ---- pager parameters -------------------------------------------------------------

def _value(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        raw = raw[1:-1].replace("\\'", "'").replace('\\"', '"')
    return raw


def _object_at(text: str, start: int) -> str:
    """The balanced {...} beginning at text[start] == '{' (quotes respected)."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    return text[start:]


def _flat_kv(obj: str) -> dict[str, str]:
    """Top-level key: value pairs of a JS object literal (nested objects skipped)."""
    inner = obj[1:-1] if obj.startswith("{") else obj
    flat = re.sub(r"\{[^{}]*\}", "{}", inner)
    return {k: _value(v) for k, v in _KV.findall(flat) if v != "{}"}


def jpage_config(text: str) -> dict[str, str]:
    """totalRecord, perPage, groupSize, proxyUrl ... from the page's .jpage({...}) call."""
    m = _JPAGE_CALL.search(text)
    if not m:
        return {}
    return _flat_kv(_object_at(text, m.end() - 1))


def ajax_params(text: str) -> dict[str, str]:
    """The proxy's form fields, from wherever this page version writes them.

    Most authoritative first: jpage ajaxParam, then any object literal naming unitid or
    columnid (var param_123 = {...}), then script src query strings, then the nextgroup
    link's query.
    """
    found: dict[str, str] = {}

    def merge(pairs: dict[str, str]) -> None:
        for k, v in pairs.items():
            if v != "" and k not in found:
                found[k] = v

    m = _JPAGE_CALL.search(text)
    if m:
        config = _object_at(text, m.end() - 1)
        p = re.search(r"ajaxParam\s*:\s*\{", config)
        if p:
            merge(_flat_kv(_object_at(config, p.end() - 1)))
    for obj in _OBJ_WITH_UNIT.finditer(text):
        merge(_flat_kv(obj.group(0)))
    for src in _SCRIPT_SRC.findall(text):
        merge(dict(parse_qsl(urlsplit(src.replace("&amp;", "&")).query)))
    ng = _NEXTGROUP.search(text)
    if ng:
        href = re.search(r"""href\s*=\s*["']([^"']+)""", ng.group(1))
        if href:
            merge({k: v for k, v in parse_qsl(urlsplit(href.group(1).replace("&amp;", "&")).query)
                   if k not in ("page", "startrecord", "endrecord", "perpage")})
    for key, value in _DEFAULTS.items():
        found.setdefault(key, value)
    # Quoted values in some templates carry their own quotes: path='/' webname='...'
    return {k: v.strip("'\"") for k, v in found.items()}


def proxy_path(text: str) -> str:
    config = jpage_config(text)
    if config.get("proxyUrl"):
        return config["proxyUrl"].split("?")[0]
    m = _PROXY.search(text)
    return m.group(1) if m else DEFAULT_PROXY


# ---- requests ----------------------------------------------------------------------

MAX_PLANNED = 500


def next_requests(list_url: str, params: dict[str, str], total: int | None, perpage: int, already: int, *,
                  group_size: int = DEFAULT_GROUP, proxy: str = DEFAULT_PROXY) -> list[Follow]:
    """POSTs fetching records already+1 .. total in chunks of perpage*group_size.

    With total unknown, only the next chunk: its answer's <totalrecord> tells the rest
    (see parse_dataproxy).
    """
    perpage = max(1, perpage)
    chunk = perpage * max(1, group_size)
    endpoint = urljoin(list_url, proxy)
    headers = dict(_HEADERS, Referer=list_url)
    formdata = {k: str(v) for k, v in params.items()}
    out: list[Follow] = []
    start = already + 1
    last = total if total is not None else already + chunk
    # A server's <totalrecord> is not to be trusted: plan at most MAX_PLANNED requests.
    last = min(last, already + chunk * MAX_PLANNED)
    while start <= last:
        end = min(start + chunk - 1, last) if total is not None else start + chunk - 1
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": perpage})
        out.append(Follow(f"{endpoint}?{query}", method="POST", formdata=dict(formdata), kind="api",
                          headers=dict(headers)))
        start = end + 1
    return out


def extract_page(url: str, text: str, base: str) -> tuple[list[Link], list[Follow]]:
    """Links in the page's datastore and the requests for the rest of the list."""
    links = record_links(text, base)
    if not records(text) and not _JPAGE_CALL.search(text):
        return links, []
    config = jpage_config(text)
    perpage = int(config["perPage"]) if config.get("perPage", "").isdigit() else DEFAULT_PERPAGE
    group = int(config["groupSize"]) if config.get("groupSize", "").isdigit() else DEFAULT_GROUP
    total = total_records(text)
    already = len(records(text))
    if total is not None and already >= total:
        return links, []
    if total is None and not _NEXTGROUP.search(text) and already < perpage * group:
        return links, []  # a short list with no next group is the whole list
    follows = next_requests(url, ajax_params(text), total, perpage, already, group_size=group,
                            proxy=proxy_path(text))
    return links, follows


def parse_dataproxy(url: str, text: str, *, formdata: dict[str, str] | None = None,
                    referer: str | None = None) -> Extracted:
    """Read one dataproxy.jsp answer: its records' links and, knowing <totalrecord>,
    the requests for every record after this answer's endrecord (same form fields)."""
    base = referer or url  # record hrefs are written for the list page, not the proxy
    links = record_links(text, base)
    if not records(text):
        # Older jslib proxies answer with a JS array of HTML strings.
        unescaped = text.replace("\\'", "'").replace('\\"', '"').replace("\\/", "/")
        links = links_in(parse_fragment(unescaped), base)
    pages: list[Follow] = []
    total = total_records(text)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    start, end = query.get("startrecord", ""), query.get("endrecord", "")
    answered = len(records(text))
    asked = int(end) - int(start) + 1 if start.isdigit() and end.isdigit() else 0
    if total is not None and start.isdigit() and end.isdigit() and answered >= asked:
        # A short answer means the list ended, whatever <totalrecord> claims.
        perpage = int(query["perpage"]) if query.get("perpage", "").isdigit() else DEFAULT_PERPAGE
        chunk = max(1, int(end) - int(start) + 1)
        endpoint = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        other = {k: v for k, v in query.items() if k not in ("startrecord", "endrecord", "perpage")}
        method = "POST" if formdata else "GET"
        headers = dict(_HEADERS, Referer=referer) if referer else dict(_HEADERS)
        s = int(end) + 1
        total = min(total, int(end) + chunk * MAX_PLANNED)   # <totalrecord> is the server's word only
        while s <= total:
            e = min(s + chunk - 1, total)
            q = urlencode({**other, "startrecord": s, "endrecord": e, "perpage": perpage})
            pages.append(Follow(f"{endpoint}?{q}", method=method, formdata=dict(formdata) if formdata else None,
                                kind="api", headers=headers))
            s = e + 1
    return Extracted(family="hanweb", links=dedupe_links(links), pages=pages)


def nextgroup_link(text: str, base: str) -> str | None:
    """The <nextgroup> href (a GET form of the proxy some versions accept)."""
    ng = _NEXTGROUP.search(text)
    if not ng:
        return None
    href = re.search(r"""href\s*=\s*["']([^"']+)""", ng.group(1))
    return absolute(base, norm(href.group(1)).replace("&amp;", "&")) if href else None

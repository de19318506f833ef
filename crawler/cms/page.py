"""Reading one HTML page: parsing, URL resolution, links with their dates, page metadata.

Shared by every adapter; the family modules only add what their CMS hides in scripts.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from .model import Link

_WS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "vbscript:", "file:", "#")
# window.open('...'), location.href='...', location='...', location.assign/replace('...')
# A literal followed by "+" is the head of a concatenation (a URL template), not a URL.
_JS_NAV = re.compile(
    r"""(?:window\.open|(?:window\.|document\.|top\.|self\.|parent\.)?location(?:\.href)?\s*=|"""
    r"""location\.(?:assign|replace))\s*\(?\s*(['"])([^'"]+)\1(?!\s*\+)""",
    re.I,
)
# A click handler calling a page function: showInfo('123'), return openDoc(12, 'x'), goPage(this.value).
_JS_CALL = re.compile(r"^\s*(?:javascript\s*:)?\s*(?:return\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\(", re.I)
# Calls that navigate nowhere: focus games, analytics, print and close buttons.
_JS_INERT = re.compile(r"^(?:void|alert|confirm|this\.\w+|window\.(?:print|close)|history\.\w+|"
                       r"return|event\.\w+|_hmt\.\w+|_gaq\.\w+|console\.\w+|setTimeout|clearTimeout)$", re.I)
_META_REFRESH = re.compile(r"""^\s*\d*(?:\.\d+)?\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.+?)\1\s*$""", re.I)
_URLISH = re.compile(r"^(?:https?://|//|/|\./|\.\./)[^\s<>\"']*$|^[\w\-./%]+\.(?:s?html?|jhtml|jsp|php|aspx?|pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|txt|rtf|pptx?)(?:\?[^\s]*)?$", re.I)
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_TRUNCATED = ("...", "…", "..")


def norm(text: str | None) -> str:
    """Whitespace-normalised text (nbsp, ideographic space and zero-width marks included)."""
    return _WS.sub(" ", text or "").strip()


def parse_date(text: str | None) -> str | None:
    """The first plausible YYYY-MM-DD in text (2019-1-31, 2019/01/31, 2019年1月31日, 2019.01.31)."""
    if not text:
        return None
    for m in _DATE.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def parse_html(text: str) -> lxml.html.HtmlElement:
    """An lxml tree for any page text, however broken; an empty document for empty text."""
    text = text or ""
    # lxml refuses str input carrying an XML encoding declaration.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        text = "<html></html>"
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html><body></body></html>")


def parse_fragment(text: str) -> lxml.html.HtmlElement:
    """A tree for an HTML fragment (a record in a Hanweb datastore, a JSON field)."""
    return parse_html(f"<html><body>{text}</body></html>")


def base_url(root: lxml.html.HtmlElement, url: str) -> str:
    """<base href> resolved against the page URL, else the page URL."""
    for el in root.getroottree().iter("base"):  # //base/@href, without an XPath walk of the page
        href = clean_href(el.get("href"))
        if href:
            return urljoin(url, href)
    return url


_HREF_DROP = re.compile(r"[\t\n\r\u00a0\u200b\ufeff]+")


def clean_href(href: str | None) -> str:
    """An attribute value as a browser reads a URL from it: whitespace around it stripped, tabs
    and newlines inside it (templates leave them) removed, inner spaces kept (they are part of
    the file name and are sent as %20)."""
    return _HREF_DROP.sub("", (href or "").strip(" \t\n\r\f\u00a0\u3000"))


# Characters a URL keeps as they are; everything else (raw Chinese, spaces) is percent-encoded.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]~_|"


def encode_raw(url: str, encoding: str | None = None) -> str:
    """Raw non-ASCII characters of a URL percent-encoded in the page's own encoding, as the
    GBK-era servers expect (an IIS serving 年报.pdf from a GBK page wants %C4%EA%B1%A8, not the
    UTF-8 bytes); existing %XX escapes stay byte for byte."""
    if url.isascii() and " " not in url:
        return url
    from urllib.parse import quote

    codec = encoding or "utf-8"
    try:
        return quote(url, safe=_URL_SAFE, encoding=codec, errors="strict")
    except (UnicodeEncodeError, LookupError):
        return quote(url, safe=_URL_SAFE, encoding="utf-8")


def absolute(base: str, href: str | None, encoding: str | None = None) -> str | None:
    """An absolute http(s) URL without fragment, or None for script/mail/anchor links."""
    href = clean_href(href)
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    href = href.replace("\\", "/") if "://" not in href and href.startswith(("\\", ".\\")) else href
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return encode_raw(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, "")), encoding)


def _element_text(el: lxml.html.HtmlElement) -> str:
    return norm(el.text_content())


def anchor_text(el: lxml.html.HtmlElement) -> str:
    """Anchor text, else its title; the title when the text is a truncated copy of it."""
    text = _element_text(el)
    title = norm(el.get("title"))
    if not text:
        img_alt = [norm(a) for a in el.xpath(".//img/@alt") if norm(a)]
        return title or (img_alt[0] if img_alt else "")
    if title and text.endswith(_TRUNCATED) and title.startswith(text.rstrip(".…").strip()[:4]):
        return title
    return text


def date_beside(el: lxml.html.HtmlElement) -> str | None:
    """A date printed in the same list item as a link, outside the link text itself."""
    node = el.getparent()
    for _ in range(3):
        if node is None or node.tag in ("body", "html", "ul", "ol", "table", "tbody"):
            return None
        if len(node.xpath(".//a[@href]")) > 1:
            return None
        own = node.text_content().replace(el.text_content(), " ")
        date = parse_date(own)
        if date:
            return date
        node = node.getparent()
    return None


def _js_targets(code: str) -> list[str]:
    return [m.group(2) for m in _JS_NAV.finditer(code or "")]


def js_call(code: str | None) -> str | None:
    """The handler's code when it calls a page function that may navigate, else None."""
    m = _JS_CALL.match(code or "")
    if not m or _JS_INERT.match(m.group(1)) or m.group(1).lower() in ("window.open", "location.replace",
                                                                         "location.assign"):
        return None
    if "PostBack" in m.group(1):
        return None  # a WebForms post-back: crawler.cms.forms replays it as the POST it is
    return norm(code)[:500]


_THIS_VALUE = re.compile(r"this\.(?:value|options\s*\[\s*this\.selectedIndex\s*\]\.value)|"
                         r"this\.options\s*\[\s*this\.selectedIndex\s*\]\.text")


def _select_links(el, add, add_call) -> None:
    """<select onchange=...>: each option is a place a visitor can go (历年年报 pickers). An option
    value that is a URL is a link; else the handler is called with the option's value."""
    handler = el.get("onchange") or ""
    if not handler.strip():
        return
    options = el.findall(".//option")[:MAX_OPTIONS]
    for opt in options:
        value = clean_href(opt.get("value"))
        text = norm(opt.text_content())
        if not value:
            continue
        if _URLISH.match(value) or value.startswith(("http://", "https://")):
            add(value, text, None, "option")
        elif _THIS_VALUE.search(handler):
            quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
            add_call(_THIS_VALUE.sub(quoted, handler), text)


MAX_LINKS_PER_PAGE = 20_000
MAX_LINKS_PAST_CAP = 2_000
_REPORTISH_ANCHOR = re.compile(r"年报|年度报告|年度報告|信息公开|信息公開|政务公开")
_VIEWER_PARAMS = ("file", "url", "src", "filepath", "fileurl", "path")


def viewer_target(url: str | None) -> str | None:
    """The document URL a viewer page is showing, from its file=/url=/src= query parameter."""
    if not url or "?" not in url:
        return None
    from urllib.parse import parse_qsl, urljoin, urlsplit
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in _VIEWER_PARAMS and re.search(r"\.(pdf|ofd|docx?|wps|xlsx?)(\?|$)", value, re.I):
            return urljoin(url, value)
    return None


MAX_OPTIONS = 200   # options of one picker read as links
MAX_CALLS = 500     # click handlers of one page kept for reading


def links_in(root: lxml.html.HtmlElement, base: str, *, with_dates: bool = True,
             encoding: str | None = None) -> list[Link]:
    """Every place a visitor can reach from the markup: anchors, areas, frames and iframes, meta
    refresh, script redirects, onclick and javascript: handlers (literal URLs now, page-function
    calls as via="call" for crawler.cms.jscalls), navigating <select> options and data-* URLs."""
    out: list[Link] = []
    calls = 0

    def add(href: str | None, text: str, el=None, via: str = "a") -> None:
        url = absolute(base, href, encoding)
        if url:
            date = date_beside(el) if (with_dates and el is not None and el.tag == "a") else None
            out.append(Link(url, text, date, via))

    def add_call(code: str, text: str, el=None) -> None:
        nonlocal calls
        if calls < MAX_CALLS:
            calls += 1
            date = date_beside(el) if (with_dates and el is not None and el.tag == "a") else None
            out.append(Link("", text, date, "call", code))

    for el in root.iter():
        if len(out) >= MAX_LINKS_PER_PAGE:
            # A hostile or broken page: past the cap, only anchors that name a report or a
            # disclosure column are kept, so the one link that matters is not lost.
            if el.tag == "a" and len(out) < MAX_LINKS_PER_PAGE + MAX_LINKS_PAST_CAP:
                text = anchor_text(el)
                if _REPORTISH_ANCHOR.search(text):
                    add(el.get("href"), text, el)
            continue
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "script":
            # A script that sends the visitor on at once: location.href = '/xxgk/'.
            if not el.get("src"):
                for target in _js_targets(el.text or ""):
                    add(target, "", None, "frame")
            continue
        if tag == "style":
            continue
        if tag in ("a", "area"):
            href = el.get("href")
            text = anchor_text(el) if tag == "a" else norm(el.get("alt") or el.get("title"))
            if href and clean_href(href).lower().startswith("javascript:"):
                targets = _js_targets(href)
                for target in targets:
                    add(target, text, el)
                code = None if targets else js_call(clean_href(href)[len("javascript:"):])
                if code:
                    add_call(code, text, el)
            else:
                add(href, text, el)
        elif tag in ("iframe", "frame"):
            title = norm(el.get("title") or el.get("name"))
            add(el.get("src"), title, None, "frame")
            # A document viewer (pdf.js viewer.html?file=..., OFD/全真版 readers) names the
            # document it shows in its query: that document is the thing to keep.
            inner = viewer_target(absolute(base, el.get("src"), encoding))
            if inner:
                add(inner, title)
        elif tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            m = _META_REFRESH.match(el.get("content") or "")
            if m and not m.group(2).isdigit():
                add(m.group(2), "", None, "frame")
        elif tag == "select":
            _select_links(el, add, lambda code, text: add_call(code, text))
        elif tag == "embed" or tag == "object":
            add(el.get("src") or el.get("data"), norm(el.get("title")))
        if not tag:
            continue
        for name, value in el.attrib.items():
            lname = name.lower()
            if lname.startswith("on"):
                text = anchor_text(el) if tag == "a" else _element_text(el)[:200]
                targets = _js_targets(value)
                for target in targets:
                    add(target, text, el if tag == "a" else None)
                code = None if (targets or tag == "select" or lname != "onclick") else js_call(value)
                if code:
                    add_call(code, text, el if tag == "a" else None)
            elif lname.startswith("data-") and _URLISH.match(clean_href(value)):
                add(value, anchor_text(el) if tag == "a" else norm(el.get("title")) or _element_text(el)[:200], el if tag == "a" else None)
    return out


# ---- page metadata -------------------------------------------------------------------

_CRUMB_LABEL = re.compile(r"(当前位置|您现在的位置|你现在的位置|您当前的位置|你当前的位置|您的位置|所在位置|当前页面|现在位置)\s*[:：]?")
_CRUMB_CLASS = re.compile(r"position|bread|crumb|location|weizhi|dqwz|curpos|current[-_]?pos|nav[-_]?path|lujing|mianbao", re.I)
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|>|＞|»|›|→|/|\\|》|-{1,2}>)\s*")
_PUBLISHER_LABELS = ("发布机构", "发文机关", "发布单位", "发文单位", "信息来源", "来源单位", "发布部门", "来源")
_PUBLISHER = re.compile(
    r"(?:" + "|".join(_PUBLISHER_LABELS) + r")\s*[:：]\s*([^\s|｜丨/,，;；:：]{2,40})"
)


# XPath expressions compiled once, not on every call.
# `//tag` walks the whole document; ElementTree.iter(tag) walks the same elements in the same
# order, and returns at once when the tag name never occurs in the document.
_OWN_TEXT = lxml.etree.XPath("text()")
_HAS_ANCHOR = lxml.etree.XPath(".//a")
_HEADING_IDS = lxml.etree.XPath(
    "//@id[.='title' or .='articleTitle' or .='ivs_title' or .='zoomtitle']/.."
)
# Same elements as //*[contains(concat(' ', normalize-space(@class), ' '), ' title ') or ...]: only an
# element with a class attribute can match, and an attribute's parent is its element.
_HEADING_CLASSES = lxml.etree.XPath(
    "//@class[contains(concat(' ', normalize-space(.), ' '), ' title ') or contains(.,'article-title')"
    " or contains(.,'art_title') or contains(.,'content-title') or contains(.,'detail-title')]/.."
)

# Candidates for _CRUMB_LABEL in an element's own text. Every label contains 位置 or is 当前页面,
# so a match inside one text node contains one of those; a match spread over several text nodes
# (a comment or a child element in the middle of the label) ends in a later text node holding the
# label's last character, 置 or 面. The candidates are a superset of the matches, in document order.
# Each contains() copies every text node of the page, so only the strings the page's text holds
# at all are looked for (a text node's characters are in the document's text too).
def _crumb_candidates(text: str) -> list[str]:
    """The predicates on an element's own text nodes worth evaluating, for a page with this text."""
    whole = [s for s in ("位置", "当前页面") if s in text]
    split = []
    if "置" in text and "位" in text:
        split.append("置")
    if all(c in text for c in "当前页面"):
        split.append("面")
    preds = []
    if whole:
        preds.append("text()[" + " or ".join(f"contains(., '{s}')" for s in whole) + "]")
    if split:
        preds.append("text()[position() > 1][" + " or ".join(f"contains(., '{s}')" for s in split) + "]")
    return preds


@functools.lru_cache(maxsize=64)
def _elements_with(preds: tuple[str, ...]) -> lxml.etree.XPath:
    """//body//* elements meeting any of the predicates (a few dozen combinations at most)."""
    return lxml.etree.XPath("//body//*[" + " or ".join(preds) + "]")


# class and id values of every element under <body>, in document order (an element's attributes
# come right after it); the labels hold no space, so matching "class id" is matching either.
_CLASS_OR_ID = lxml.etree.XPath("//body//*/@class | //body//*/@id")
# A text node holding any publisher label holds one of these (信息来源 and 来源单位 hold 来源).
_PUBLISHER_KEYS = tuple(label for label in _PUBLISHER_LABELS if not any(k != label and k in label for k in _PUBLISHER_LABELS))
_NOT_FLAT = lxml.etree.XPath(".//*[self::td or self::div or self::p]")
# _PUBLISHER over the raw text: what norm() turns into one space, [\s\u200b\ufeff] here, may be any
# run; the value stops at any of it. Same match, same value as _PUBLISHER.search(norm(text)).
_PUBLISHER_RAW = re.compile(
    r"(?:" + "|".join(_PUBLISHER_LABELS) + r")[\s\u00a0\u3000\u200b\ufeff]*[:：][\s\u00a0\u3000\u200b\ufeff]*"
    r"([^\s\u00a0\u3000\u200b\ufeff|｜丨/,，;；:：]{2,40})"
)
# XPath's translate(@name, 'A..Z', 'a..z'): ASCII letters only (str.lower would also fold the Kelvin sign).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _first(root: lxml.html.HtmlElement, tag: str):
    """The first <tag> of the document, as (//tag)[1]. lxml's iterators look one match ahead, so
    iter(tag) on the whole tree walks all of it when there is a single match; one top-level
    subtree at a time, the walk ends with the subtree holding the first (<head> for the title)."""
    top = root.getroottree().getroot()
    if top.tag == tag:
        return top
    for child in top:
        if child.tag == tag:
            return child
        found = next(child.iter(tag), None)
        if found is not None:
            return found
    return None


def _document_text(root: lxml.html.HtmlElement) -> str:
    """Every text node of the document, concatenated: if a string is not in here, no node holds it."""
    return root.getroottree().getroot().text_content()


def page_title(root: lxml.html.HtmlElement) -> str:
    title = _first(root, "title")
    return norm(title.text_content()) if title is not None else ""


def _metas(root: lxml.html.HtmlElement) -> dict[str, str]:
    """Every <meta name> in the document, name ASCII-lowercased -> its first non-blank content."""
    out: dict[str, str] = {}
    for el in root.getroottree().iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        name = (el.get("name") or "").translate(_ASCII_LOWER)  # XPath reads a missing @name as ""
        if name not in out:
            value = norm(content)
            if value:
                out[name] = value
    return out


def _meta(root: lxml.html.HtmlElement, *names: str) -> str:
    """The first non-blank content of a <meta> named (any ASCII case) names[0], else names[1], ..."""
    metas = _metas(root)
    for name in names:
        value = metas.get(name.lower())
        if value:
            return value
    return ""


def heading(root: lxml.html.HtmlElement) -> str:
    """The main heading: meta ArticleTitle (TRS/NFCMS write it exactly), h1, then .title-like blocks."""
    meta = _meta(root, "ArticleTitle", "title")
    if meta:
        return meta
    tree = root.getroottree()
    for found in (
        lambda: tree.iter("h1"),
        lambda: _HEADING_IDS(root),
        lambda: _HEADING_CLASSES(root),
        lambda: tree.iter("h2"),
    ):
        for el in found():
            text = norm(el.text_content())
            if 2 <= len(text) <= 200:
                return text
    return ""


def _crumb_element(root: lxml.html.HtmlElement):
    preds = _crumb_candidates(_document_text(root))
    for el in _elements_with(tuple(preds))(root) if preds else ():
        if el.tag in ("script", "style", "title"):
            continue
        own = "".join(_OWN_TEXT(el))
        if _CRUMB_LABEL.search(own):
            node = el
            # The label often sits in its own <span>; the links are its siblings.
            for _ in range(3):
                if _HAS_ANCHOR(node) or node.getparent() is None:
                    break
                node = node.getparent()
            if len(node.text_content()) < 400:
                return node
    seen = None
    for value in _CLASS_OR_ID(root):
        if _CRUMB_CLASS.search(value):
            el = value.getparent()
            if el is seen:  # its class matched already
                continue
            seen = el
            if _HAS_ANCHOR(el) and len(el.text_content()) < 400:
                return el
    return None


def breadcrumb(root: lxml.html.HtmlElement) -> str:
    el = _crumb_element(root)
    if el is None:
        return ""
    text = _CRUMB_LABEL.sub(" ", norm(el.text_content()))
    parts = [p for p in (norm(s) for s in _CRUMB_SPLIT.split(text)) if p]
    if len(parts) <= 1:
        # Separators drawn as images or CSS: the anchors are the segments.
        anchors = [t for t in (anchor_text(a) for a in _HAS_ANCHOR(el)) if t]
        tail = norm(el.xpath("string(.//a[last()]/following-sibling::text())")) if anchors else ""
        parts = anchors + ([tail] if tail else []) or parts
    return " > ".join(parts)


def publisher(root: lxml.html.HtmlElement) -> str | None:
    meta = _meta(root, "ContentSource", "source")
    if meta:
        return meta
    # Table layouts: <td>发布机构</td><td>XX局</td>
    # Only elements whose own text holds a label: scanning every element is slow on big pages.
    text = _document_text(root)
    keys = [key for key in _PUBLISHER_KEYS if key in text]
    if not keys:
        return None  # no label anywhere: no labelled element, and the body text has none either
    candidates = _elements_with(("text()[" + " or ".join(f"contains(., '{key}')" for key in keys) + "]",))
    for el in candidates(root):
        if el.tag in ("script", "style"):
            continue
        own = norm("".join(_OWN_TEXT(el))).rstrip(":：").strip()
        if own in _PUBLISHER_LABELS and not _NOT_FLAT(el):
            tail = norm(el.tail)
            value = tail.lstrip(":：").strip() if tail.strip(":： ") else ""
            if not value:
                sib = el.getnext()
                value = norm(sib.text_content()) if sib is not None else ""
            value = value.lstrip(":：").strip()
            if 2 <= len(value) <= 40:
                return value.split()[0] if len(value.split()) > 1 and len(value.split()[0]) >= 2 else value
    body = _first(root, "body")
    m = _PUBLISHER_RAW.search(_block_text(body)) if body is not None else None
    return m.group(1) if m else None


# Elements a browser lays out as blocks (or breaks): their text never runs into a neighbour's.
_BLOCKS = frozenset("address article aside blockquote br dd div dl dt fieldset figcaption figure footer form "
                    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul"
                    .split())


def _block_text(el) -> str:
    """The text of el as a reader sees it: a line break at each block boundary. text_content()
    glues 「来源：某区科学技术局」 in one div to 「科学技术局2019年…」 opening the next one, and
    the name read after the label would run on into the article."""
    out: list[str] = []

    def walk(node) -> None:
        block = isinstance(node.tag, str) and node.tag.lower() in _BLOCKS
        if block:
            out.append("\n")
        if isinstance(node.tag, str) and node.tag.lower() not in ("script", "style") and node.text:
            out.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                out.append(child.tail)
        if block:
            out.append("\n")

    walk(el)
    return "".join(out)

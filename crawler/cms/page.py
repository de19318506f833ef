"""Reading one HTML page: parsing, URL resolution, links with their dates, page metadata.

Shared by every adapter; the family modules only add what their CMS hides in scripts.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from .model import Link

_WS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "vbscript:", "file:", "#")
# window.open('...'), location.href='...', location='...', location.assign/replace('...')
_JS_NAV = re.compile(
    r"""(?:window\.open|(?:window\.|document\.|top\.|self\.|parent\.)?location(?:\.href)?\s*=|"""
    r"""location\.(?:assign|replace))\s*\(?\s*(['"])([^'"]+)\1""",
    re.I,
)
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
    for href in root.xpath("//base/@href"):
        href = clean_href(href)
        if href:
            return urljoin(url, href)
    return url


def clean_href(href: str | None) -> str:
    # Templates leave newlines, tabs and nbsp inside attribute values.
    return _WS.sub("", href or "").strip()


def absolute(base: str, href: str | None) -> str | None:
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
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


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


def links_in(root: lxml.html.HtmlElement, base: str, *, with_dates: bool = True) -> list[Link]:
    """Every followable link in the markup: anchors, areas, frames, onclick and data-* URLs."""
    out: list[Link] = []

    def add(href: str | None, text: str, el=None) -> None:
        url = absolute(base, href)
        if url:
            date = date_beside(el) if (with_dates and el is not None and el.tag == "a") else None
            out.append(Link(url, text, date))

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
        if tag in ("script", "style"):
            continue
        if tag in ("a", "area"):
            href = el.get("href")
            text = anchor_text(el) if tag == "a" else norm(el.get("alt") or el.get("title"))
            if href and clean_href(href).lower().startswith("javascript:"):
                for target in _js_targets(href):
                    add(target, text, el)
            else:
                add(href, text, el)
        elif tag in ("iframe", "frame"):
            title = norm(el.get("title") or el.get("name"))
            add(el.get("src"), title)
            # A document viewer (pdf.js viewer.html?file=..., OFD/全真版 readers) names the
            # document it shows in its query: that document is the thing to keep.
            inner = viewer_target(absolute(base, el.get("src")))
            if inner:
                add(inner, title)
        elif tag == "embed" or tag == "object":
            add(el.get("src") or el.get("data"), norm(el.get("title")))
        if not tag:
            continue
        for name, value in el.attrib.items():
            lname = name.lower()
            if lname.startswith("on"):
                for target in _js_targets(value):
                    add(target, anchor_text(el) if tag == "a" else _element_text(el)[:200], el if tag == "a" else None)
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


def page_title(root: lxml.html.HtmlElement) -> str:
    titles = root.xpath("//title")
    return norm(titles[0].text_content()) if titles else ""


def _meta(root: lxml.html.HtmlElement, *names: str) -> str:
    for name in names:
        for value in root.xpath(
            "//meta[translate(@name,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')=$n]/@content",
            n=name.lower(),
        ):
            if norm(value):
                return norm(value)
    return ""


def heading(root: lxml.html.HtmlElement) -> str:
    """The main heading: meta ArticleTitle (TRS/NFCMS write it exactly), h1, then .title-like blocks."""
    meta = _meta(root, "ArticleTitle", "title")
    if meta:
        return meta
    for xp in (
        "//h1",
        "//*[@id='title' or @id='articleTitle' or @id='ivs_title' or @id='zoomtitle']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' title ') or contains(@class,'article-title')"
        " or contains(@class,'art_title') or contains(@class,'content-title') or contains(@class,'detail-title')]",
        "//h2",
    ):
        for el in root.xpath(xp):
            text = norm(el.text_content())
            if 2 <= len(text) <= 200:
                return text
    return ""


def _crumb_element(root: lxml.html.HtmlElement):
    for el in root.xpath("//body//*[text()]"):
        if el.tag in ("script", "style", "title"):
            continue
        own = "".join(el.xpath("text()"))
        if _CRUMB_LABEL.search(own):
            node = el
            # The label often sits in its own <span>; the links are its siblings.
            for _ in range(3):
                if node.xpath(".//a") or node.getparent() is None:
                    break
                node = node.getparent()
            if len(node.text_content()) < 400:
                return node
    for el in root.xpath("//body//*[@class or @id]"):
        if _CRUMB_CLASS.search((el.get("class") or "") + " " + (el.get("id") or "")):
            if el.xpath(".//a") and len(el.text_content()) < 400:
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
        anchors = [anchor_text(a) for a in el.xpath(".//a") if anchor_text(a)]
        tail = norm(el.xpath("string(.//a[last()]/following-sibling::text())")) if anchors else ""
        parts = anchors + ([tail] if tail else []) or parts
    return " > ".join(parts)


def publisher(root: lxml.html.HtmlElement) -> str | None:
    meta = _meta(root, "ContentSource", "source")
    if meta:
        return meta
    # Table layouts: <td>发布机构</td><td>XX局</td>
    # Only elements whose own text holds a label: scanning every element is slow on big pages.
    has_label = " or ".join(f"contains(., '{label}')" for label in _PUBLISHER_LABELS)
    for el in root.xpath(f"//body//*[not(self::script) and not(self::style)][text()[{has_label}]]"):
        own = norm("".join(el.xpath("text()"))).rstrip(":：").strip()
        if own in _PUBLISHER_LABELS and not el.xpath(".//*[self::td or self::div or self::p]"):
            tail = norm(el.tail)
            value = tail.lstrip(":：").strip() if tail.strip(":： ") else ""
            if not value:
                sib = el.getnext()
                value = norm(sib.text_content()) if sib is not None else ""
            value = value.lstrip(":：").strip()
            if 2 <= len(value) <= 40:
                return value.split()[0] if len(value.split()) > 1 and len(value.split()[0]) >= 2 else value
    body = root.xpath("//body")
    text = norm(body[0].text_content()) if body else ""
    m = _PUBLISHER.search(text)
    return m.group(1) if m else None

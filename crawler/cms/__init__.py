"""CMS adapters: which links a fetched page holds and how its list continues.

`extract(url, text, content_type=...)` is the one entry point: it reads HTML pages and
also the XML/JSON answers of the endpoints it asked for (Hanweb dataproxy.jsp, gkmlpt
API, any JSON list), so a caller can hand every response back to it. Pure functions:
no network, no Scrapy.
"""

from __future__ import annotations

from . import forms, generic, gkmlpt, hanweb, jsonlist, trs
from .model import Extracted, Follow, Link, dedupe_follows, dedupe_links
from .page import MAX_LINKS_PER_PAGE, absolute, base_url, breadcrumb, heading, links_in, page_title, parse_html, publisher

__all__ = ["Extracted", "Follow", "Link", "detect_family", "extract", "parse_dataproxy", "parse_json", "parse_json_list"]

parse_dataproxy = hanweb.parse_dataproxy


def detect_family(url: str, text: str) -> str | None:
    """"gkmlpt", "hanweb", "trs" or None, by the marks each CMS leaves in its pages."""
    if gkmlpt.looks_like(url, text):
        return "gkmlpt"
    if hanweb.looks_like(url, text):
        return "hanweb"
    if trs.looks_like(url, text):
        return "trs"
    return None


def parse_json(url: str, text: str, *, referer: str | None = None) -> Extracted:
    """A JSON list answer: gkmlpt's API by its own rules, anything else by the generic walk."""
    if gkmlpt.is_api(url):
        return gkmlpt.parse_json(url, text)
    return jsonlist.parse_json(url, text, base=referer or url)


parse_json_list = jsonlist.parse_json


def _is_json(content_type: str, text: str) -> bool:
    head = text.lstrip("\ufeff \r\n\t")[:1]
    return "json" in content_type or (head in ("{", "[") and "html" not in content_type)


def _is_datastore(content_type: str, text: str) -> bool:
    head = text.lstrip("\ufeff \r\n\t")[:200].lower()
    return ("xml" in content_type or head.startswith(("<?xml", "<datastore"))) and "<datastore" in text[:2000].lower()


MAX_INLINE_JS = 200_000   # inline script code kept with an analysis (page functions live there)
MAX_SCRIPTS = 12          # linked scripts named per page


def extract(url: str, text: str, *, content_type: str = "text/html", encoding: str | None = None) -> Extracted:
    content_type = (content_type or "").lower()
    text = text or ""
    if _is_json(content_type, text) and jsonlist.loads(text) is not None:
        return parse_json(url, text)
    if _is_datastore(content_type, text) or (hanweb.records(text) and "<html" not in text[:2000].lower()):
        return hanweb.parse_dataproxy(url, text)

    root = parse_html(text)
    base = base_url(root, url)
    family = detect_family(url, text)
    links = links_in(root, base, encoding=encoding)
    capped = len(links) >= MAX_LINKS_PER_PAGE
    scripted = generic.script_links(root, base)
    links += scripted
    pages = generic.next_pages(root, base, url)
    # Pagers and pickers that are forms: WebForms post-backs, GET forms with a year picker.
    pages += forms.postbacks(root, base, encoding, text=text)
    pages += forms.get_forms(root, base, encoding)
    # Records written into scripts mean the list's data was in the page after all.
    reached = any(link.text for link in scripted)

    if family == "hanweb":
        found, follows = hanweb.extract_page(url, text, base)
        links = found + links  # records first: they carry dates
        pages += follows
        reached = bool(found or follows)
    elif family == "gkmlpt":
        api = gkmlpt.api_follow(url, text)
        if api:
            pages.append(api)
            reached = True
    if family in ("trs", None) or not reached:
        trs_pages = trs.list_pages(url, text)
        if trs_pages:
            family = family or "trs"
            pages += trs_pages
            reached = True

    # Why the page may be drawn by script (spiders ask crawler.render whether to draw it).
    script_hint = ("article_shell" if generic.article_script_built(root)
                   else "list_shell" if (not reached) and generic.looks_script_built(root, text) else "")
    extracted = Extracted(
        family=family,
        links=dedupe_links(links),
        pages=dedupe_follows(pages),
        # A list an adapter reached needs no browser; an article whose body is filled by
        # script needs one whatever the family (its attachments exist only after rendering).
        script_built=bool(script_hint),
        script_hint=script_hint,
        title=page_title(root),
        heading=heading(root),
        breadcrumb=breadcrumb(root),
        publisher=publisher(root),
        links_capped=capped,
        encoding=encoding,
        base=base if base != url else None,
        script_count=sum(1 for _ in root.iter("script")),
        empty_box=generic.empty_box(root),
    )
    if any(link.via in ("call", "frame") for link in extracted.links):
        # Handlers call page functions: keep where they are defined, for crawler.cms.jscalls (a
        # frameset's or shell's scripts too: its frames call parent.searchPage(...)).
        extracted.scripts = [u for u in (absolute(base, s.get("src"), encoding) for s in root.iter("script")
                                         if s.get("src")) if u][:MAX_SCRIPTS]
        extracted.forms = forms.describe(root, base, encoding)
        extracted.inline_js = "\n;\n".join(s.text or "" for s in root.iter("script")
                                            if not s.get("src") and (s.get("type") or "javascript").lower()
                                            .endswith("javascript"))[:MAX_INLINE_JS]
    extracted.text = visible_text(root)
    return extracted


VISIBLE_TEXT_CHARS = 20_000


# Elements a browser lays out as blocks (or a line break): their texts are apart on screen, so
# they are apart in the text. lxml's text_content() runs them together, and a table row of
# 「发布单位：某市人民政府」 | 「人民政府2019年…报告」 read as one name 某市人民政府人民政府.
# Inline elements (span, a, font, b) are left alone: 「<span>2019</span>年」 is one word.
_BLOCKS = ("p", "div", "td", "th", "tr", "li", "dt", "dd", "br", "h1", "h2", "h3", "h4", "h5", "h6",
           "table", "ul", "ol", "dl", "section", "article", "header", "footer", "nav", "aside", "main",
           "form", "blockquote", "pre", "hr", "caption", "option")


def visible_text(root) -> str:
    """What a reader sees in the body; done last, since it drops scripts from the tree."""
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for el in root.iter(*_BLOCKS):
        el.tail = " " + el.tail if el.tail else " "
    body = root.find("body")
    return " ".join((body if body is not None else root).text_content().split())[:VISIBLE_TEXT_CHARS]

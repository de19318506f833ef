"""What any page shows without knowing its CMS: pager links, links in script records,
and whether the list is drawn by script from data no adapter can reach."""

from __future__ import annotations

import json
import re

import lxml.html

from .model import Follow, Link
from .page import absolute, anchor_text, clean_href, norm, parse_date

_NEXT_TEXT = {"下一页", "下页", "后页", "后一页", "下一頁", "尾页", "末页", "最后一页", "最末页", ">", ">>", "›", "»", "next", "next page", "last"}
_PAGER_CLASS = re.compile(r"pag|fenye|fy|pager|pages|pagination|turn|page_?nav", re.I)
_NEXT_CLASS = re.compile(r"(?:^|[\s_-])(?:next|nextpage|next_page|page-next|last|lastpage)(?:$|[\s_-])", re.I)

# Strings inside scripts that are document paths (TRS writes attachment links this way).
_SCRIPT_DOC = re.compile(
    r"""(['"])((?:https?://|/|\./|\.\./)?[\w\-./%~]*?\.(?:s?html?|jhtml|pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|rtf|pptx?)(?:\?[^'"\s<>]*)?)\1""",
    re.I,
)
# A value followed by "+ is the head of a concatenation (pager code), not a link.
_SCRIPT_HREF = re.compile(r"""href\s*=\s*\\?(['"])([^'"\\]+)\\?\1(?!\s*\+)""", re.I)
_SCRIPT_OBJECT = re.compile(r"\{[^{}]{0,2000}\}")
_TITLE_KEYS = ("title", "name", "标题", "doctitle", "docTitle", "wjmc", "fileName", "filename", "text", "subject")
_URL_KEYS = ("url", "link", "href", "docpuburl", "docPubUrl", "puburl", "pubUrl", "post_url", "detailUrl",
             "detail_url", "contentUrl", "fileUrl", "file_url", "path", "src")
_DATE_KEYS = ("date", "pubDate", "pubdate", "publishDate", "publish_date", "docreltime", "docRelTime", "fbrq",
              "cwrq", "time", "created_at", "createTime", "create_time", "display_publish_time", "releaseDate")
_KV = re.compile(r"""["']?([\w\u4e00-\u9fff]+)["']?\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def next_pages(root: lxml.html.HtmlElement, base: str, page_url: str) -> list[Follow]:
    """Ordinary pager links: 下一页 / 尾页 / > and numbered links inside a pager block."""
    out: list[Follow] = []
    for a in root.xpath("//a[@href]"):
        text = anchor_text(a).lower()
        classes = (a.get("class") or "") + " " + (a.get("id") or "")
        is_next = text in _NEXT_TEXT or text.strip("[]【】 ") in _NEXT_TEXT or bool(_NEXT_CLASS.search(classes))
        if not is_next and not (text.strip("[]【】 ").isdigit() and _in_pager(a)):
            continue
        url = absolute(base, a.get("href"))
        if url and url != page_url.split("#")[0]:
            out.append(Follow(url))
    return out


def _in_pager(el: lxml.html.HtmlElement) -> bool:
    node = el.getparent()
    for _ in range(4):
        if node is None:
            return False
        if _PAGER_CLASS.search((node.get("class") or "") + " " + (node.get("id") or "")):
            return True
        node = node.getparent()
    return False


def _unescape_js(s: str) -> str:
    if "\\" not in s:
        return s
    try:
        return json.loads('"' + s.replace('"', '\\"').replace("\\'", "'") + '"')
    except ValueError:
        return s.replace("\\/", "/")


def records_in_script(code: str, base: str) -> list[Link]:
    """Links from record objects written into scripts: {title: '...', url: '...'}."""
    out: list[Link] = []
    for m in _SCRIPT_OBJECT.finditer(code):
        fields = {}
        for kv in _KV.finditer(m.group(0)):
            value = kv.group(2) if kv.group(2) is not None else kv.group(3)
            fields.setdefault(kv.group(1), _unescape_js(value))
        title = next((fields[k] for k in _TITLE_KEYS if fields.get(k)), None)
        href = next((fields[k] for k in _URL_KEYS if fields.get(k)), None)
        if title and href:
            url = absolute(base, href)
            if url:
                date = next((parse_date(fields[k]) for k in _DATE_KEYS if fields.get(k)), None)
                out.append(Link(url, norm(re.sub(r"<[^>]+>", "", title)), date))
    return out


def script_links(root: lxml.html.HtmlElement, base: str) -> list[Link]:
    """Links only scripts know: records, href="..." in written HTML, document paths."""
    out: list[Link] = []
    for script in root.xpath("//script[not(@src)]"):
        code = script.text or ""
        if not code.strip() or "<datastore" in code:
            continue  # Hanweb datastores are read by hanweb.py with their dates
        out.extend(records_in_script(code, base))
        for m in _SCRIPT_HREF.finditer(code):
            url = absolute(base, m.group(2))
            if url:
                out.append(Link(url, ""))
        for m in _SCRIPT_DOC.finditer(code):
            value = m.group(2)
            if value.count("/") == 0 and not re.search(r"\.(pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z)$", value, re.I):
                continue  # bare "index.html" style names in pager code are not documents
            url = absolute(base, value)
            if url:
                out.append(Link(url, ""))
    return out


# ---- script-built pages ----------------------------------------------------------

_XHR = re.compile(
    r"\$\.(?:ajax|get|post|getJSON)\s*\(|\bfetch\s*\(|XMLHttpRequest|\baxios\b|\bavalon\b|new\s+Vue\b|"
    r"createApp\s*\(|\bvue(?:\.\w+)*\.js|avalon[\w.]*\.js|\blayui\.(?:use|laypage|table)|\bjsonp\b|\.load\s*\(\s*['\"]",
    re.I,
)
_LIST_CLASS = re.compile(
    r"(?:^|[\s_\-])(?:list|lists|lb|liebiao|news|newslist|article|articles|data|datalist|result|results|wjlb|"
    r"xxgk|gkml|doc|docs|items?|con(?:tent)?list|list[-_]?con|tab[-_]?list)(?:$|[\s_\-\d])",
    re.I,
)


def _empty_list_container(root: lxml.html.HtmlElement) -> bool:
    for el in root.xpath("//body//*[self::ul or self::ol or self::tbody or self::table or self::div or self::dl]"
                         "[@id or @class]"):
        names = (el.get("id") or "") + " " + (el.get("class") or "")
        if not _LIST_CLASS.search(names):
            continue
        if el.xpath(".//a[@href]"):
            continue
        if len(norm(el.text_content())) < 10:
            return True
    return False


# Client templates that draw links: a repeated element holding a link (v-for, ms-for, ng-repeat,
# x-for, ms-repeat, ms-each), a link whose href is bound (:href, v-bind:href, ng-href, ms-attr with
# href, href="{{...}}"), a <script type="text/html"> template with a link, an empty v-html box.
# Framework markup that draws no links (ms-controller, ms-text, ms-visible, a visit counter
# {{@hits}}, ms-attr on a title) is no reason to think the page's list or links are missing: a
# TRS article dressed in avalon markup holds its whole body and its attachments in the HTML.
_REPEAT_ATTRS = frozenset({"v-for", "ms-for", "ms-repeat", "ms-each", "ng-repeat", "data-ng-repeat", "x-for"})
_BOUND_HREF = frozenset({":href", "v-bind:href", "ng-href", "data-ng-href", "x-bind:href", "ms-href"})
_TEMPLATE_TYPES = ("text/html", "text/template", "text/x-template", "text/x-handlebars-template", "text/x-jsrender")


def _attr_names(el) -> set[str]:
    return {k.lower() for k in el.attrib}


def link_templates(root: lxml.html.HtmlElement) -> bool:
    """The page draws links from data by a client template (see above)."""
    for script in root.iter("script"):
        if (script.get("type") or "").lower() in _TEMPLATE_TYPES and "<a" in (script.text or "").lower():
            return True
    body = root.find("body")
    if body is None:
        return False
    for el in body.iter():
        if not isinstance(el.tag, str) or not el.attrib:
            continue
        names = _attr_names(el)
        if names & _REPEAT_ATTRS and (el.tag == "a" or el.find(".//a") is not None):
            return True
        if el.tag == "a":
            if names & _BOUND_HREF or "{{" in (el.get("href") or ""):
                return True
            if "href" in (el.get("ms-attr") or "") or any(n.startswith("ms-attr-href") for n in names):
                return True
        if "v-html" in names and len(el) == 0 and not (el.text or "").strip():
            return True
    return False


# A box script draws into: an element named by id or class with nothing in it (<div id="app">,
# <ul id="c3">, <tbody class="list">). Layout helpers that are empty by design are not boxes.
_LAYOUT_NAMES = re.compile(r"^(?:clear\w*|cl|clr|fl|fr|line\w*|space\w*|blank|hr|split\w*|sep\w*|gap|bg\w*|"
                           r"icon\w*|logo|close|mask|shadow|arrow\w*|dot\w*|empty|placeholder)$", re.I)
_BOX_TAGS = ("div", "ul", "ol", "tbody", "table", "section", "dl", "article", "main")


def empty_box(root: lxml.html.HtmlElement) -> bool:
    body = root.find("body")
    if body is None:
        return False
    for el in body.iter(*_BOX_TAGS):
        if len(el) or (el.text or "").strip():
            continue
        names = [n for n in ((el.get("id") or "") + " " + (el.get("class") or "")).split() if n]
        if names and not all(_LAYOUT_NAMES.match(n) for n in names):
            return True
    return False


_ARTICLE_CLASS = re.compile(
    r"(?:^|[\s_\-])(?:content|zoom|detail|details|article|artibody|text|main[-_]?text|body[-_]?text|"
    r"TRS_Editor|fujian|files|attach(?:ments?)?|xl[-_]?con|info[-_]?con)(?:$|[\s_\-\d])",
    re.I,
)


def _scripts(root: lxml.html.HtmlElement) -> str:
    return " ".join(s.text or "" for s in root.xpath("//script")) + " " + " ".join(root.xpath("//script/@src"))


def article_script_built(root: lxml.html.HtmlElement) -> bool:
    """An article shell: its body container is empty while a script fetches the content."""
    if not _XHR.search(_scripts(root)):
        return False
    for el in root.xpath("//body//*[self::div or self::td or self::section or self::article][@id or @class]"):
        names = (el.get("id") or "") + " " + (el.get("class") or "")
        if _ARTICLE_CLASS.search(names) and not el.xpath(".//a[@href] | .//img | .//p[normalize-space()] | .//ul | .//ol | .//table") \
                and len(norm(el.text_content())) < 10:
            return True
    return False


def looks_script_built(root: lxml.html.HtmlElement, text: str) -> bool:
    """An empty list container (or a client template) fed by XHR/fetch/avalon/vue."""
    scripts = " ".join(s.text or "" for s in root.xpath("//script")) + " " + " ".join(root.xpath("//script/@src"))
    if not _XHR.search(scripts):
        return False
    return _empty_list_container(root) or link_templates(root)

"""Plain text of a report file, for recognition and downstream parsers.

Reports come as HTML pages, PDF, DOCX, DOC/WPS, XLS/XLSX (the statistics tables) and
OFD. The type is decided by crawler/filekinds.py: from the bytes first (servers label files
application/octet-stream, and file names lie), then the content type, then the name.
Bad, truncated or hostile input gives None, never an exception: the caller records why.
Work is bounded: at most MAX_PAGES pages, MAX_CHARS characters; what zip members and PDF
streams inflate to is bounded by crawler/inflate.py.
"""

from __future__ import annotations

import io
import logging
import re

from crawler.encoding import decode_html
from crawler.filekinds import detect_kind
from crawler.inflate import MAX_PDF_DECODED, BoundedZip, TooLarge, pdf_limits, release_page

__all__ = ["extract_text", "detect_kind", "MAX_CHARS", "MAX_PAGES"]

log = logging.getLogger(__name__)

MAX_CHARS = 2_000_000
MAX_PAGES = 300
MAX_ROWS = 20_000


# ---------------------------------------------------------------- entry point

def extract_text(data: bytes, *, content_type: str | None = None, filename: str | None = None,
                 url: str | None = None) -> str | None:
    """Plain text of data, or None when the type is unknown or the file unreadable."""
    if not data:
        return None
    kind = detect_kind(data, content_type=content_type, filename=filename, url=url)
    fn = _EXTRACTORS.get(kind or "")
    if fn is None:
        return None
    try:
        text = fn(data)
    except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on bad files
        log.debug("textract %s failed: %r", kind, exc)
        return None
    if text is None:
        return None
    text = _tidy(text)
    return text or None


def _tidy(text: str) -> str:
    text = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u3000\xa0]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _Budget:
    """Stops collecting once MAX_CHARS characters are in."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, s: str) -> bool:
        self.parts.append(s)
        self.size += len(s)
        return self.size < MAX_CHARS

    def text(self, sep: str = "\n") -> str:
        return sep.join(self.parts)


# ---------------------------------------------------------------- HTML

# Body containers used by the CMSs portals run on (TRS, 大汉 Hanweb, 拓尔思, 网达, 开普云),
# best first; the first one with enough text wins.
_BODY_XPATHS = [
    '//*[@id="zoom"]', '//*[@id="Zoom"]', '//*[contains(concat(" ", normalize-space(@class), " "), " TRS_Editor ")]',
    '//*[contains(@class, "TRS_UEDITOR")]', '//*[@id="UCAP-CONTENT"]', '//*[@id="ucap-content"]',
    '//*[@class="article-content"]', '//*[@id="article"]', '//article',
    '//*[@id="content"]', '//*[@class="content"]', '//*[@id="Content"]', '//*[@class="main-txt"]',
    '//*[contains(@class, "zw")]', '//*[contains(@id, "zoom")]', '//*[contains(@class, "article")]',
    '//*[contains(@class, "content")]', '//*[contains(@id, "content")]', '//*[contains(@class, "detail")]',
]
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
               "dd", "dt", "blockquote", "pre", "hr", "ul", "ol", "title", "caption"}


def _html(data: bytes) -> str | None:
    import lxml.html

    text, _ = decode_html(data[: MAX_CHARS * 4])
    if not text.strip():
        return None
    doc = lxml.html.document_fromstring(text)
    for bad in doc.xpath("//script|//style|//noscript|//template|//iframe|//object|//comment()"):
        if bad.getparent() is not None:
            bad.drop_tree()
    for xp in _BODY_XPATHS:
        for node in doc.xpath(xp):
            body = _node_text(node)
            if len(re.sub(r"\s", "", body)) >= 50:
                return body
    body = doc.find("body")
    return _node_text(body if body is not None else doc)


def _node_text(node) -> str:
    """Text with line breaks at block elements and tabs between table cells."""
    out: list[str] = []

    def walk(el) -> None:
        if not isinstance(el.tag, str):
            return  # comments and processing instructions: no text of their own
        tag = el.tag
        if tag in _BLOCK_TAGS:
            out.append("\n")
        if el.text and tag not in ("script", "style"):
            out.append(el.text)
        for child in el:
            walk(child)
            if isinstance(child.tag, str) and child.tag in ("td", "th"):
                out.append("\t")
            if child.tail:
                out.append(child.tail)
        if tag in _BLOCK_TAGS:
            out.append("\n")

    walk(node)
    lines = (re.sub(r"[ \t\u3000\xa0]+$", "", re.sub(r"[ \u3000\xa0]{2,}", " ", ln)).strip(" ") for ln in "".join(out).split("\n"))
    return "\n".join(ln for ln in lines if ln.strip())


# ---------------------------------------------------------------- PDF

def _pdf(data: bytes) -> str | None:
    with pdf_limits():
        return _pdf_pages(data)


def _pdf_pages(data: bytes) -> str | None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            reader.decrypt("")  # most "encrypted" government PDFs only restrict printing
        except Exception:  # noqa: BLE001
            return None
    budget = _Budget()
    decoded = 0
    for i, page in enumerate(reader.pages):
        if i >= MAX_PAGES or decoded > MAX_PDF_DECODED:
            break
        try:
            t = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one broken page (or one past a limit) should not lose the rest
            log.debug("pdf page %d: %r", i, exc)
            continue
        finally:
            decoded += release_page(page)
        if not budget.add(t):
            break
    return budget.text()


# ---------------------------------------------------------------- DOCX

def _docx(data: bytes) -> str | None:
    import docx
    from docx.oxml.ns import qn

    with BoundedZip(data) as z:
        d = docx.Document(io.BytesIO(z.rebuilt()))
    budget = _Budget()
    # Walk the body in order so tables stay where they are in the report.
    for el in d.element.body.iterchildren():
        if el.tag == qn("w:p"):
            ok = budget.add("".join(t.text or "" for t in el.iter(qn("w:t"))))
        elif el.tag == qn("w:tbl"):
            ok = budget.add(_docx_table(el, qn))
        else:
            continue
        if not ok:
            break
    return budget.text()


def _docx_table(tbl, qn) -> str:
    rows = []
    for tr in tbl.iter(qn("w:tr")):
        cells = []
        for tc in tr.iterchildren(qn("w:tc")):
            cells.append(" ".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p"))).strip())
        rows.append("\t".join(cells))
        if len(rows) >= MAX_ROWS:
            break
    return "\n".join(rows)


# ---------------------------------------------------------------- spreadsheets

def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).replace("\t", " ").replace("\n", " ").strip()


def _xlsx(data: bytes) -> str | None:
    import openpyxl

    with BoundedZip(data) as z:
        wb = openpyxl.load_workbook(io.BytesIO(z.rebuilt()), read_only=True, data_only=True)
    budget = _Budget()
    try:
        for ws in wb.worksheets:
            if not budget.add(f"# {ws.title}"):
                break
            for n, row in enumerate(ws.iter_rows(values_only=True)):
                if n >= MAX_ROWS:
                    break
                line = "\t".join(_cell(v) for v in row).rstrip("\t")
                if line.strip() and not budget.add(line):
                    return budget.text()
    finally:
        wb.close()
    return budget.text()


def _xls(data: bytes) -> str | None:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    budget = _Budget()
    for sheet in book.sheets():
        if not budget.add(f"# {sheet.name}"):
            break
        for r in range(min(sheet.nrows, MAX_ROWS)):
            line = "\t".join(_cell(v) for v in sheet.row_values(r)).rstrip("\t")
            if line.strip() and not budget.add(line):
                return budget.text()
    return budget.text()


# ---------------------------------------------------------------- OFD

def _ofd(data: bytes) -> str | None:
    """OFD (GB/T 33190) is a zip of XML pages; text sits in ofd:TextCode elements."""
    from lxml import etree

    budget = _Budget()
    with BoundedZip(data) as z:
        pages = [i for i in z.infos if re.search(r"Pages/Page_?\d+/Content\.xml$", i.filename, re.I)]
        pages.sort(key=lambda i: [int(x) for x in re.findall(r"\d+", i.filename)])
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        for info in pages[:MAX_PAGES]:
            try:
                xml = z.read(info)
            except TooLarge as exc:     # the pages before it are the text there is
                log.debug("ofd: %s", exc)
                break
            root = etree.fromstring(xml, parser)
            lines: list[str] = []
            last_y = None
            for el in root.iter("{*}TextCode"):
                y = el.get("Y") or (el.getparent().get("Boundary", "") if el.getparent() is not None else "")
                if lines and y != last_y:
                    lines.append("\n")
                lines.append(el.text or "")
                last_y = y
            if not budget.add("".join(lines)):
                break
    return budget.text()


# ---------------------------------------------------------------- DOC / WPS (best effort)

# Word 97-2003 and WPS store Chinese text as UTF-16LE runs inside the OLE container.
# Without a .doc parser, runs of printable UTF-16LE with enough CJK are the text.
# Bytes 8-bit text happens to form such pairs too, so a run counts only when its CJK
# characters are common ones (in GB2312 or Big5), which random pairs rarely are.
_U16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00|[\x00-\xff][\x4e-\x9f]|[\x00-\xff][\x20\x30\xff]|[\r\n\t\x07]\x00){8,}", re.S)


def _common_cjk(c: str) -> bool:
    for codec in ("gb2312", "big5"):
        try:
            c.encode(codec)
            return True
        except UnicodeEncodeError:
            pass
    return False


def _doc(data: bytes) -> str | None:
    runs = []
    total = 0
    for m in _U16_RUN.finditer(data[: 64 * 1024 * 1024]):
        s = m.group(0)
        if len(s) % 2:
            s = s[:-1]
        t = s.decode("utf-16-le", errors="ignore")
        cjk = [c for c in t if "\u4e00" <= c <= "\u9fff"]
        if len(cjk) >= 4 and len(cjk) >= len(t) * 0.2 and sum(map(_common_cjk, cjk)) >= 0.95 * len(cjk):
            t = t.replace("\r", "\n").replace("\x07", "\t")
            runs.append(t)
            total += len(t)
            if total > MAX_CHARS:
                break
    return "\n".join(runs) if runs else None


def _rtf(data: bytes) -> str | None:
    """RTF from WPS/Word: \\'xx GBK bytes and \\uN escapes; control words dropped."""
    s = data[: MAX_CHARS * 4].decode("latin-1")
    out = bytearray()
    pieces: list[str] = []

    def flush() -> None:
        if out:
            pieces.append(out.decode("gb18030", errors="replace"))
            out.clear()

    depth, skip_from = 0, None  # skip destination groups: {\fonttbl…}, {\*\generator…}
    for m in re.finditer(r"\\'([0-9a-fA-F]{2})|\\u(-?\d+)\??|\\par[d]?\b|\\[a-zA-Z]+-?\d* ?|\\\*|[{}]|([^\\{}]+)", s):
        tok = m.group(0)
        if tok == "{":
            depth += 1
            nxt = s[m.end():m.end() + 12]
            if skip_from is None and re.match(r"\\(?:\*|fonttbl|colortbl|stylesheet|info|pict|listtable|rsidtbl)", nxt):
                skip_from = depth
            continue
        if tok == "}":
            if skip_from == depth:
                skip_from = None
            depth -= 1
            continue
        if skip_from is not None:
            continue
        if m.group(1):
            out.append(int(m.group(1), 16))
        elif m.group(2):
            flush()
            pieces.append(chr(int(m.group(2)) % 65536))
        elif m.group(0).startswith("\\par"):
            flush()
            pieces.append("\n")
        elif m.group(3):
            flush()
            pieces.append(m.group(3).replace("\r", "").replace("\n", ""))
    flush()
    return "".join(pieces)


def _text(data: bytes) -> str | None:
    return decode_html(data[: MAX_CHARS * 4])[0]


_EXTRACTORS = {
    "html": _html, "pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "xls": _xls, "ofd": _ofd,
    "doc": _doc, "rtf": _rtf, "text": _text,
}

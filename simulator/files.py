"""Real attachment bytes: PDF, DOCX, XLSX, OFD, and opaque DOC/WPS. Every builder is deterministic
(fixed timestamps, no random ids), so the sha256 in the truth equals the bytes served in any process."""
from __future__ import annotations

import functools
import io
import zipfile
from xml.sax.saxutils import escape

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "wps": "application/kswps",
    "ofd": "application/ofd",
    "zip": "application/zip",
}

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


class UnknownFileKind(ValueError):
    """Asked for a file type the simulator cannot build."""


def build(kind: str, title: str, body: str, *, image_only: bool = False) -> bytes:
    """The bytes of one attachment. Cached: the large world serves the same files many times."""
    if kind not in _BUILDERS:
        raise UnknownFileKind(f"no builder for file kind {kind!r}; known: {sorted(_BUILDERS)}")
    return _cached(kind, title, body, image_only)


@functools.lru_cache(maxsize=512)
def _cached(kind: str, title: str, body: str, image_only: bool) -> bytes:
    if kind == "pdf":
        return _pdf(title, body, image_only=image_only)
    return _BUILDERS[kind](title, body)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.splitlines():
        para = para.strip()
        while len(para) > width:
            lines.append(para[:width])
            para = para[width:]
        lines.append(para)
    return lines


@functools.cache
def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    # A CID font built into reportlab and every PDF reader: no font file to ship, and pypdf maps it back.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _pdf(title: str, body: str, *, image_only: bool) -> bytes:
    from reportlab.pdfgen import canvas

    font = _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842), invariant=1)
    c.setTitle(title)
    if image_only:
        # A "图片版" report: a scanned look, no text layer at all.
        for i in range(40):
            c.setFillGray(0.2 + (i % 5) / 10)
            c.rect(60, 780 - i * 18, 300 + (i * 37) % 170, 9, stroke=0, fill=1)
        c.showPage()
        c.save()
        return buf.getvalue()
    y = 790
    c.setFont(font, 15)
    for line in _wrap(title, 34):
        c.drawString(50, y, line)
        y -= 24
    c.setFont(font, 11)
    for line in _wrap(body, 44):
        if y < 50:
            c.showPage()
            c.setFont(font, 11)
            y = 800
        c.drawString(50, y, line)
        y -= 16
    c.showPage()
    c.save()
    return buf.getvalue()


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _docx(title: str, body: str) -> bytes:
    paras = [title] + [p for p in body.splitlines() if p.strip()]
    xml_paras = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>" for p in paras)
    return _zip({
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}" Target="word/document.xml"/></Relationships>'),
        "word/_rels/document.xml.rels": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}"/>',
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{xml_paras}</w:body></w:document>"),
    })


_XLSX_ROWS = [
    ("统计指标", "单位", "统计数"),
    ("一、主动公开情况", "", ""),
    ("（一）主动公开政府信息数", "条", "{a}"),
    ("二、依申请公开情况", "", ""),
    ("（一）收到申请数", "件", "{b}"),
    ("（二）申请办结数", "件", "{c}"),
    ("三、行政复议数量", "件", "{d}"),
    ("四、行政诉讼数量", "件", "{e}"),
]


def _xlsx(title: str, body: str) -> bytes:
    # Numbers derived from the body so a revised report has revised statistics too.
    n = sum(map(ord, body)) if body else 7
    values = {k: str((n >> (i * 3)) % 900 + i) for i, k in enumerate("abcde")}
    rows = [(title, "", "")] + [tuple(c.format(**values) for c in r) for r in _XLSX_ROWS]
    cells = []
    for r, row in enumerate(rows, start=1):
        cs = []
        for col, val in zip("ABC", row):
            if val.isdigit():
                cs.append(f'<c r="{col}{r}"><v>{val}</v></c>')
            elif val:
                cs.append(f'<c r="{col}{r}" t="inlineStr"><is><t>{escape(val)}</t></is></c>')
        cells.append(f'<row r="{r}">{"".join(cs)}</row>')
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _zip({
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}" Target="xl/workbook.xml"/></Relationships>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{ns}" xmlns:r="{rns}">'
            '<sheets><sheet name="统计表" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{ns}">'
            f'<sheetData>{"".join(cells)}</sheetData></worksheet>'),
    })


def _ofd(title: str, body: str) -> bytes:
    # A minimal OFD (GB/T 33190) package: the entry file, one document, one page of text objects.
    texts = "".join(
        f'<ofd:TextObject ID="{i + 10}" Boundary="10 {10 + i * 6} 190 6" Font="1" Size="4">'
        f'<ofd:TextCode X="0" Y="4">{escape(line)}</ofd:TextCode></ofd:TextObject>'
        for i, line in enumerate(_wrap(title + "\n" + body, 40)[:45])
    )
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    return _zip({
        "OFD.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD">'
                    f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>0</ofd:DocID><ofd:Title>{escape(title)}</ofd:Title>"
                    "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"),
        "Doc_0/Document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
                               '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
                               '<ofd:MaxUnitID>99</ofd:MaxUnitID></ofd:CommonData><ofd:Pages>'
                               '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>'),
        "Doc_0/Pages/Page_0/Content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content>'
                                           f'<ofd:Layer ID="2">{texts}</ofd:Layer></ofd:Content></ofd:Page>'),
    })


def _ole(title: str, body: str) -> bytes:
    # Opaque legacy Word/WPS: the OLE2 compound-file magic and a header, then the text in UTF-16.
    # Not a valid compound file; enough for content sniffing and hashing.
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    return header.ljust(512, b"\x00") + (title + "\n" + body).encode("utf-16-le")


_BUILDERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "ofd": _ofd, "doc": _ole, "wps": _ole}

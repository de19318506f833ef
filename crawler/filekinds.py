"""What kind of document a file is, from its bytes first, then its content type, then its name.

Servers label files application/octet-stream and file names lie, so the bytes decide when they
can: PDF, zip (DOCX, XLSX or OFD by their members), OLE (DOC or XLS), RTF, HTML. Used by the
spider to tell a document from an error page behind a document's name, and by crawler/textract.py.
"""
from __future__ import annotations

import re
import zipfile
from urllib.parse import unquote, urlsplit

from crawler.inflate import BoundedZip

__all__ = ["detect_kind"]

_CT_KINDS = [
    ("pdf", "pdf"), ("wordprocessingml", "docx"), ("spreadsheetml", "xlsx"),
    ("msword", "doc"), ("ms-excel", "xls"), ("wps", "doc"), ("ofd", "ofd"),
    ("html", "html"), ("xml", "html"), ("text/plain", "text"),
]
_EXT_KINDS = {
    "pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "doc", "dot": "doc", "rtf": "rtf",
    "xlsx": "xlsx", "xls": "xls", "et": "xls", "ofd": "ofd", "htm": "html", "html": "html",
    "shtml": "html", "jsp": "html", "asp": "html", "aspx": "html", "php": "html", "txt": "text",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect_kind(data: bytes, *, content_type: str | None = None, filename: str | None = None,
                url: str | None = None) -> str | None:
    """"pdf", "docx", "xlsx", "ofd", "doc", "xls", "rtf", "html", "text" or None."""
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    hint = _hint(content_type, filename, url)
    if head.startswith(_OLE_MAGIC):
        return "xls" if hint in ("xls", "xlsx") else "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<body", b"<div", b"<table", b"<p", b"<!--", b"<?xml")):
        return "html"
    if hint in ("html", "text"):
        return hint
    if hint in ("pdf", "docx", "xlsx", "ofd", "doc", "xls"):
        return None  # named a binary format but the bytes are not it: truncated or an error page
    if b"\x00" not in head and head:
        return "html" if re.search(rb"<(?:p|div|br|span|table)\b", head, re.I) else "text"
    return None


def _hint(content_type: str | None, filename: str | None, url: str | None) -> str | None:
    ct = (content_type or "").split(";")[0].strip().lower()
    for needle, kind in _CT_KINDS:
        if needle in ct:
            return kind
    for name in (filename, _url_name(url)):
        if name and "." in name:
            kind = _EXT_KINDS.get(name.rsplit(".", 1)[-1].lower())
            if kind:
                return kind
    return None


def _url_name(url: str | None) -> str | None:
    if not url:
        return None
    try:
        p = urlsplit(url)
    except ValueError:
        return None
    m = re.search(r"(?:^|&)(?:file_?name|filename|fname)=([^&]+)", p.query, re.I)
    return unquote(m.group(1)) if m else unquote(p.path.rsplit("/", 1)[-1])


def _zip_kind(data: bytes) -> str | None:
    try:
        with BoundedZip(data) as z:     # the central directory only: nothing is inflated
            names = set(z.names())
    except (zipfile.BadZipFile, OSError, ValueError):  # TooLarge is a ValueError
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names or any(n.lower().endswith("ofd.xml") for n in names):
        return "ofd"
    return None

"""Which reader for which bytes, then the tables, their checks and (before 2019) the sentences."""
from __future__ import annotations

import io
import zipfile

from figures import EXTRACTOR_VERSION, Extraction
from figures.checks import checks
from figures.form import layout_of_year
from figures.tables import read_lines
from figures.oldtable import read_old_table
from figures.text import read_text

MAX_BYTES = 64 * 1024 * 1024
_EXT = {"htm": "html", "html": "html", "shtml": "html", "pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "doc",
        "xlsx": "xlsx", "xls": "xls", "txt": "text"}


def detect(data: bytes, content_type: str | None, filename: str | None) -> str:
    """The format, from the bytes first (a server's type and a file's name are often wrong)."""
    head = data[:8]
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "unknown"
        return "docx" if "word/document.xml" in names else "xlsx" if "xl/workbook.xml" in names else "unknown"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        ext = _EXT.get((filename or "").rsplit(".", 1)[-1].lower(), "")
        if ext == "xls" or "excel" in (content_type or "") or b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data[:65536 * 8]:
            return "xls"
        return "doc"
    sniff = data[:4096].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table", b"<meta", b"<head", b"<body", b"<div")) \
            or b"<table" in data[:65536].lower() or "html" in (content_type or ""):
        return "html"
    ext = _EXT.get((filename or "").rsplit(".", 1)[-1].lower())
    if ext in ("html", "text"):
        return ext
    if b"\x00" in data[:4096]:
        return "unknown"
    try:
        data[:65536].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        try:
            data[:65536].decode("gb18030")
            return "text"
        except UnicodeDecodeError:
            return "unknown"


def _lines(fmt: str, data: bytes):
    if fmt == "pdf":
        from figures.bounds import pdf_too_big
        from figures.pdf import read_pdf
        why = pdf_too_big(data)
        if why:
            return [], [f"pdf not read: {why}"], ""
        return read_pdf(data)
    if fmt == "doc":
        from figures.doc import read_doc
        return read_doc(data)
    if fmt == "text":
        from figures.readers import decode_html
        return [], [], decode_html(data)
    from figures import readers
    return getattr(readers, f"read_{fmt}")(data)


def run(data: bytes, *, content_type: str | None, filename: str | None, year: int | None) -> Extraction:
    if not isinstance(data, (bytes, bytearray)) or not data:
        return Extraction(EXTRACTOR_VERSION, "unknown", None, (), (), ("no bytes",))
    data = bytes(data)
    fmt = detect(data, content_type, filename)
    if fmt == "unknown":
        return Extraction(EXTRACTOR_VERSION, fmt, None, (), (), ("not a format read here",))
    if len(data) > MAX_BYTES:
        return Extraction(EXTRACTOR_VERSION, fmt, None, (), (), (f"{len(data)} bytes: over {MAX_BYTES}",))
    try:
        lines, problems, text = _lines(fmt, data)
    except Exception as exc:  # noqa: BLE001 - hostile or broken files are a problem line
        return Extraction(EXTRACTOR_VERSION, fmt, None, (), (), (f"{fmt} not readable: {type(exc).__name__}",))
    figures, more, layout = read_lines(lines, year=year)
    problems = list(problems) + more
    if not figures and (year is None or year < 2019):
        figures = read_text(text) + read_old_table(text)
        layout = "pre2019" if figures or (year is not None and year < 2019) else None
    elif layout is None:
        layout = layout_of_year(year)
    if not figures:
        problems.append("no statistics table or stated figure found")
    return Extraction(EXTRACTOR_VERSION, fmt, layout, tuple(figures), checks(figures), tuple(dict.fromkeys(problems)))

"""Decode fetched Chinese pages to text.

Government portals declare charsets carelessly: pages say gb2312 but hold characters
outside it, say utf-8 but were saved as GBK, or say nothing. The declared charset is
trusted only when it decodes the bytes cleanly; otherwise strict UTF-8, then GB18030
(a superset of GB2312 and GBK) decide. Called for every page, so it stays cheap: at
most three strict decodes, and the declaration is looked for in the first 4 KiB only.
"""

from __future__ import annotations

import codecs
import re

# GB2312 and GBK pages routinely contain characters only GB18030 (their superset) maps.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "iso-8859-1": "cp1252",  # browsers treat latin-1 labels as windows-1252
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_\-.]+)""", re.I)
_HEAD_BYTES = 4096


def normalise_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset, widened to its superset; None if unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(codec, codec)


def declared_charsets(body: bytes, header_charset: str | None = None) -> list[str]:
    """Charsets the response declares, most authoritative first, without duplicates."""
    head = body[:_HEAD_BYTES]
    found: list[str | None] = [header_charset]
    xml = _XML_ENCODING.match(head)
    if xml:
        found.append(xml.group(1).decode("ascii", "ignore"))
    found.extend(m.group(1).decode("ascii", "ignore") for m in _META_CHARSET.finditer(head))
    out: list[str] = []
    for name in found:
        codec = normalise_charset(name)
        # A page cannot declare itself UTF-16 in ASCII bytes; such meta tags are stale copies.
        if codec and codec not in out and not codec.startswith("utf-16") and not codec.startswith("utf-32"):
            out.append(codec)
    return out


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, *, header_charset: str | None = None) -> tuple[str, str]:
    """Return (text, codec used). Never raises; the last resort replaces bad bytes."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(codec, errors="replace"), codec

    declared = declared_charsets(body, header_charset)
    if body.isascii():
        return body.decode("ascii"), (declared[0] if declared else "utf-8")

    # Strict UTF-8 first whatever the declaration: multi-byte UTF-8 almost never happens
    # to be valid by chance, while GB18030 decodes UTF-8 bytes "cleanly" into mojibake,
    # so a page that says gb2312 but is UTF-8 can only be caught this way round.
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    # UTF-8 with a few broken sequences (a truncated paste, one bad byte): GBK text read as
    # UTF-8 fails on nearly every non-ASCII byte, so a small failure share means UTF-8.
    loose = body.decode("utf-8", errors="replace")
    non_ascii = sum(1 for b in body if b >= 0x80)
    if non_ascii and loose.count("\ufffd") <= max(2, non_ascii // 20):
        return loose, "utf-8"

    # Declared multi-byte charsets (gb18030, big5, ...) next; single-byte ones decode
    # any bytes at all, so they only get a say once the Chinese codecs have failed.
    for codec in declared:
        if codec != "utf-8" and not _single_byte(codec):
            text = _strict(body, codec)
            if text is not None:
                return text, codec

    text = _strict(body, "gb18030")
    if text is not None:
        return text, "gb18030"

    for codec in declared:
        if _single_byte(codec):
            text = _strict(body, codec)
            if text is not None:
                return text, codec

    # Mostly-GBK pages with a few broken bytes (truncated downloads, pasted fragments).
    return body.decode("gb18030", errors="replace"), "gb18030"


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp12", "iso8859", "latin", "mac-", "koi8", "cp4", "cp8"))

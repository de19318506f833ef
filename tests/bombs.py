"""Crafted files that inflate to far more than they weigh, for tests of bounded decompression.

Zips are written by hand so their headers say what the test says (zipfile would write the truth):
`docx_bomb` is a 200 KB DOCX whose word/document.xml inflates to 200 MB of zeros while both its
central directory and its local header claim 1,000 bytes.
"""
from __future__ import annotations

import gzip
import io
import struct
import zlib

MB = 1_000_000

_CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/>'
       b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
       b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         b'Target="%s"/></Relationships>')


def deflated_zeros(size: int, *, wbits: int = -15) -> tuple[bytes, int]:
    """SIZE zero bytes deflated (raw by default), built in 1 MiB steps; and their CRC-32."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block, parts, crc, left = bytes(1 << 20), [], 0, size
    while left:
        b = block[:min(left, len(block))]
        crc = zlib.crc32(b, crc)
        parts.append(c.compress(b))
        left -= len(b)
    parts.append(c.flush())
    return b"".join(parts), crc


def make_zip(members: list[tuple[str, bytes, int | None]]) -> bytes:
    """(name, content, claimed size or None for the truth); a member whose content is a
    (deflated, crc, size) tuple goes in as it is."""
    out, central = bytearray(), bytearray()
    for name, content, claimed in members:
        if isinstance(content, tuple):
            comp, crc, size = content
        else:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp, crc, size = c.compress(content) + c.flush(), zlib.crc32(content), len(content)
        claimed = size if claimed is None else claimed
        n = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(comp), claimed, len(n), 0) + n + comp
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(comp), claimed,
                               len(n), 0, 0, 0, 0, 0, offset) + n
    start = len(out)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)


def zip_bomb(kind: str, size: int = 200 * MB, claimed: int = 1000) -> bytes:
    """A DOCX, XLSX or OFD whose main XML member inflates to SIZE zeros, its headers claiming CLAIMED."""
    comp, crc = deflated_zeros(size)
    bomb = (comp, crc, size)
    if kind == "docx":
        return make_zip([("[Content_Types].xml", _CT, None), ("_rels/.rels", _RELS % b"word/document.xml", None),
                         ("word/document.xml", bomb, claimed)])
    if kind == "xlsx":
        return make_zip([("[Content_Types].xml", _CT, None), ("_rels/.rels", _RELS % b"xl/workbook.xml", None),
                         ("xl/workbook.xml", bomb, claimed)])
    if kind == "ofd":
        return make_zip([("OFD.xml", b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>', None),
                         ("Doc_0/Pages/Page_0/Content.xml", bomb, claimed)])
    raise ValueError(kind)


def gzip_bomb(size: int = 200 * MB) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        block, left = bytes(1 << 20), size
        while left:
            gz.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    return out.getvalue()


def pdf(pages: int, stream_size: int) -> bytes:
    """PAGES pages, each with its own FlateDecode content stream: a line of text, then an inline
    image of STREAM_SIZE zero bytes (pypdf skips image data of the declared size fast)."""
    c = zlib.compressobj(9)
    head = b"BT /F1 12 Tf 72 700 Td (page text) Tj ET\nBI /W 1000 /H %d /BPC 8 /CS /G ID " % (stream_size // 1000)
    parts = [c.compress(head)]
    block, left = bytes(1 << 20), stream_size
    while left:
        parts.append(c.compress(block[:min(left, len(block))]))
        left -= min(left, len(block))
    stream = b"".join(parts) + c.compress(b" EI\n") + c.flush()
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i))
        objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)

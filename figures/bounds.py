"""How much a PDF's streams inflate to, counted before any PDF library reads them (a bomb is refused, not read).

pdfminer inflates a content stream whole; a few megabytes of zeros deflated to a few kilobytes would take
all memory. Each FlateDecode-looking stream is inflated here in slices, counting, never holding more than one.
"""
from __future__ import annotations

import re
import zlib

MAX_INFLATED = 256 * 1024 * 1024       # every stream of one PDF together
MAX_STREAM = 64 * 1024 * 1024          # any one stream
_STREAM = re.compile(rb"stream\r?\n")
_SLICE = 1 << 20


def pdf_too_big(data: bytes, *, total_limit: int = MAX_INFLATED, stream_limit: int = MAX_STREAM) -> str | None:
    """Why the PDF is not read (its streams inflate past a limit), or None."""
    total = 0
    for m in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        pos, size = m.end(), 0
        try:
            while pos < len(data):
                chunk = inflater.decompress(data[pos:pos + 65536], _SLICE)
                pos += 65536
                size += len(chunk)
                while inflater.unconsumed_tail and not inflater.eof and size <= stream_limit:
                    chunk = inflater.decompress(inflater.unconsumed_tail, _SLICE)
                    if not chunk:
                        break
                    size += len(chunk)
                if inflater.eof or size > stream_limit:
                    break
        except zlib.error:
            pass                           # not deflated (or damaged): the reader will say
        total += size
        if size > stream_limit:
            return f"a stream inflates past {stream_limit} bytes"
        if total > total_limit:
            return f"streams inflate past {total_limit} bytes"
    return None

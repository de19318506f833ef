"""Content-Encoding undone, so that a WARC payload is the archived object itself (its digest the
catalogue's sha256): gzip (several members too), deflate (zlib or raw, as some servers send),
br. Bounded: a decompression bomb is archived as sent. Re-exported by storage.warc."""
from __future__ import annotations

import zlib

__all__ = ["decode_content_encoding"]


def decode_content_encoding(headers: list[tuple[str, str]], body: bytes, *,
                            max_size: int = 0) -> tuple[list[tuple[str, str]], bytes, str | None]:
    """Undo Content-Encoding (gzip, deflate, br) so the WARC payload equals the archived object.

    Returns (headers, body, note). On success Content-Encoding is dropped, Content-Length
    set to the decoded size, and note says what was done; on an unknown coding, a decoding
    error or a result over max_size (0: no limit) everything is returned unchanged, note None.
    """
    values = [v.lower() for k, v in headers if k.lower() == "content-encoding"]
    codings = [c.strip() for value in values for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return headers, body, None
    data = body
    try:
        for coding in reversed(codings):        # applied in order listed, so undone in reverse
            data = _decode_one(coding, data, max_size)
            if data is None:
                return headers, body, None
    except (OSError, EOFError, zlib.error, ValueError):
        return headers, body, None
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
    kept.append(("Content-Length", str(len(data))))
    note = f"payload decoded from Content-Encoding: {', '.join(codings)}; header removed"
    return kept, data, note


def _decode_one(coding: str, data: bytes, max_size: int) -> bytes | None:
    limit = max_size or 0
    if coding in ("gzip", "x-gzip"):
        return _bounded_zlib(data, zlib.MAX_WBITS | 16, limit)
    if coding == "deflate":
        try:
            return _bounded_zlib(data, zlib.MAX_WBITS, limit)
        except zlib.error:
            return _bounded_zlib(data, -zlib.MAX_WBITS, limit)   # raw deflate, sent by some servers
    if coding == "br":
        try:
            import brotli
        except ImportError:
            return None
        out = brotli.decompress(data)
        return None if limit and len(out) > limit else out
    return None


def _bounded_zlib(data: bytes, wbits: int, limit: int) -> bytes | None:
    d = zlib.decompressobj(wbits)
    out = bytearray()
    chunk = data
    while True:
        piece = d.decompress(chunk, 1 << 20)
        out += piece
        if limit and len(out) > limit:
            return None                         # a decompression bomb is archived as sent
        chunk = d.unconsumed_tail
        if not chunk:
            break
    out += d.flush()
    # A gzip body may be several concatenated members.
    if d.unused_data and wbits == zlib.MAX_WBITS | 16:
        rest = _bounded_zlib(d.unused_data, wbits, limit and limit - len(out))
        if rest is None:
            return None
        out += rest
    return bytes(out)

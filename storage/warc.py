"""WARC archival of HTTP exchanges: request, response and revisit records in rolling,
per-record-gzipped WARC/1.1 files uploaded to the object store.

Plain bytes, headers and URLs in; no Scrapy here. The crawler's downloader middleware
(crawler/warcmiddleware.py) hands every exchange to a WarcWriter.

Digests are SHA-256 in warcio's spelling (`sha256:<base32>`), so the payload digest of a
response record is the catalogue's hex SHA-256 of the archived object, re-encoded
(`payload_sha256_hex`). A payload already written (by this writer, or found by the optional
`lookup` across the archive) becomes a revisit record (identical-payload-digest) instead.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import http
import io
import os
import tempfile
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from typing import BinaryIO, Callable
from urllib.parse import quote, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import GzippingWrapper, WARCWriter

__all__ = [
    "WarcLocation",
    "WarcWriter",
    "DigestLookup",
    "sha256_digest",
    "payload_sha256_hex",
    "read_record",
    "read_location",
    "decode_content_encoding",
    "warc_key_prefix",
]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
WARC_CONTENT_TYPE = "application/warc"
# Our own WARC named fields; the standard allows extension fields.
NOTE_HEADER = "WARC-Nianbao-Note"

# sha256 hex of a payload -> (target URI, WARC-Date) of a record holding it, or None.
DigestLookup = Callable[[str], "tuple[str, str | datetime] | None"]


@dataclass(frozen=True)
class WarcLocation:
    """Where one exchange's response (or revisit) record lives: gzip member at offset, length bytes."""
    key: str
    offset: int
    length: int
    payload_sha256: str     # hex, same as the catalogue's sha256 of the raw object
    revisit: bool


# --- digests ----------------------------------------------------------------------------

def sha256_digest(data: bytes) -> str:
    """WARC digest value as warcio writes it: `sha256:<base32>`."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def _digest_to_hex(value: str | None) -> str | None:
    if not value or ":" not in value:
        return None
    algo, _, encoded = value.partition(":")
    if algo.lower() != "sha256":
        return None
    encoded = encoded.strip()
    if len(encoded) == 64:                      # already hex
        return encoded.lower()
    try:
        return base64.b32decode(encoded.upper()).hex()
    except (binascii.Error, ValueError):
        return None


def payload_sha256_hex(record) -> str | None:
    """Hex SHA-256 from a warcio record's WARC-Payload-Digest (base32 or hex); None if not sha256."""
    return _digest_to_hex(record.rec_headers.get_header("WARC-Payload-Digest"))


# zlib level of each record's gzip member. warcio compresses at 9, which costs the crawl several
# times level 6's CPU for a few percent of size on HTML and none on PDFs (already compressed).
GZIP_LEVEL = 6


class _GzipMember(GzippingWrapper):
    """One record's gzip member at GZIP_LEVEL (warcio's own wrapper is fixed at level 9)."""

    def __init__(self, out):
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 block and payload digests (warcio defaults to SHA-1), each
    record its own gzip member. Construct with gzip=False: the member is made here."""

    @staticmethod
    def _create_digester():
        return Digester("sha256")

    def _write_warc_record(self, out, record):
        # warcio ends every record with out.flush(), which closes the member.
        super()._write_warc_record(_GzipMember(out), record)


# --- reading back -----------------------------------------------------------------------

def read_record(fileobj: BinaryIO, offset: int):
    """The record starting at offset in an open WARC file (payload read fully, as bytes).

    Returns (warcio record, payload bytes); the record's stream is already consumed.
    A stream that cannot seek (an S3 body) is read forward to the offset.
    """
    try:
        fileobj.seek(offset)
    except (AttributeError, OSError, io.UnsupportedOperation):
        left = offset
        while left:
            skipped = fileobj.read(min(left, 1 << 20))
            if not skipped:
                raise ValueError(f"WARC file ends before offset {offset}") from None
            left -= len(skipped)
    for record in ArchiveIterator(fileobj):
        return record, record.raw_stream.read()
    raise ValueError(f"no WARC record at offset {offset}")


def read_location(store, location: WarcLocation | dict):
    """(record, payload) at a WarcLocation, or at a {"key", "offset"} dict as kept in request meta."""
    key, offset = (location["key"], location["offset"]) if isinstance(location, dict) else \
        (location.key, location.offset)
    fh = store.open(key)
    try:
        return read_record(fh, offset)
    finally:
        fh.close()


# --- content encoding -------------------------------------------------------------------

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


# --- writer -----------------------------------------------------------------------------

def warc_key_prefix(site_id: str, run_id: int | str | None = None) -> str:
    """Store prefix of a site's WARC files, or of one crawl run's."""
    return f"warc/{site_id}/" if run_id is None else f"warc/{site_id}/{run_id}/"


def _warc_date(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    return datetime_to_iso_date(dt.astimezone(timezone.utc).replace(tzinfo=None), use_micros=True)


def _reason(status: int, reason: str | None) -> str:
    if reason:
        return reason
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _OpenFile:
    def __init__(self, key: str, fh: BinaryIO):
        self.key = key
        self.fh = fh
        self.writer = _Sha256Writer(fh, gzip=False, warc_version="1.1")


class WarcWriter:
    """Writes exchanges to rolling WARC files and uploads each finished file to the store.

    A file is closed and uploaded once it has passed max_bytes (so a file may exceed it by
    one exchange); close() uploads the last. Files are built in tmp_dir (default: the system
    temp dir) and deleted after a successful upload. Thread-safe: one lock around a write.
    """

    def __init__(self, store, *, site_id: str, run_id: int | str, config_hash: str, software: str,
                 max_bytes: int = DEFAULT_MAX_BYTES, tmp_dir: str | os.PathLike[str] | None = None,
                 lookup: DigestLookup | None = None):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.store = store
        self.site_id = site_id
        self.run_id = run_id
        self.config_hash = config_hash
        self.software = software
        self.max_bytes = max_bytes
        self.tmp_dir = os.fspath(tmp_dir) if tmp_dir is not None else None
        self.lookup = lookup
        self.uploaded: list[str] = []
        self._serial = 0
        self._file: _OpenFile | None = None
        # sha256 hex -> (target URI, WARC-Date, record id) of the first record holding it
        self._seen: dict[str, tuple[str, str, str | None]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- files ---------------------------------------------------------------------------
    def _open_file(self) -> _OpenFile:
        self._serial += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        key = f"{warc_key_prefix(self.site_id, self.run_id)}{stamp}-{self._serial:05d}.warc.gz"
        fh = tempfile.NamedTemporaryFile(prefix="nianbao-", suffix=".warc.gz", dir=self.tmp_dir, delete=False)
        f = _OpenFile(key, fh)
        info = {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "isPartOf": f"nianbao/{self.site_id}/run-{self.run_id}",
            "nianbao-site-id": self.site_id,
            "nianbao-run-id": str(self.run_id),
            "nianbao-site-config-hash": self.config_hash,
        }
        f.writer.write_record(f.writer.create_warcinfo_record(key.rsplit("/", 1)[1], info))
        self._file = f
        return f

    def _finish_file(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        f.fh.flush()
        f.fh.seek(0)
        try:
            self.store.put(f.key, f.fh, content_type=WARC_CONTENT_TYPE)
        except Exception as exc:
            # Keep the local file: it is the only copy of these exchanges.
            f.fh.close()
            raise OSError(f"upload of {f.key} failed; WARC kept at {f.fh.name}: {exc}") from exc
        f.fh.close()
        os.unlink(f.fh.name)
        self.uploaded.append(f.key)

    # -- records -------------------------------------------------------------------------
    def _original_for(self, sha: str) -> tuple[str, str, str | None] | None:
        if sha in self._seen:
            return self._seen[sha]
        if self.lookup is not None:
            found = self.lookup(sha)
            if found:
                uri, date = found
                if isinstance(date, datetime):
                    date = _warc_date(date)
                return uri, date, None
        return None

    def record_exchange(self, *, url: str, method: str, request_headers: list[tuple[str, str]],
                        request_body: bytes, status: int, reason: str | None,
                        response_headers: list[tuple[str, str]], body: bytes, ip: str | None = None,
                        fetched_at: datetime, rendered: bool = False, browser: str | None = None,
                        notes: list[str] | None = None) -> WarcLocation:
        """Write one exchange; return where its response or revisit record is.

        body is the payload as it should be archived (de-chunked; Transfer-Encoding is
        dropped from the headers since the bytes are no longer chunked). notes go into a
        WARC-Nianbao-Note field of the response record (e.g. what decoding was applied).
        """
        date = _warc_date(fetched_at)
        notes = list(notes or [])
        resp_headers = [(k, v) for k, v in response_headers if k.lower() != "transfer-encoding"]
        if len(resp_headers) != len(response_headers):
            notes.append("payload de-chunked; Transfer-Encoding header removed")
        sha = hashlib.sha256(body).hexdigest()
        digest = sha256_digest(body)

        with self._lock:
            if self._closed:
                raise RuntimeError("WarcWriter is closed")
            f = self._file or self._open_file()
            w = f.writer
            http_resp = StatusAndHeaders(f"{status} {_reason(status, reason)}", resp_headers,
                                         protocol="HTTP/1.1")
            warc_fields = {"WARC-Date": date}
            if ip:
                warc_fields["WARC-IP-Address"] = ip
            if notes:
                warc_fields[NOTE_HEADER] = " | ".join(notes)
            # Empty payloads (redirects, 304s) are not worth a revisit.
            original = self._original_for(sha) if body else None
            if original is not None:
                ref_uri, ref_date, ref_id = original
                if ref_id:
                    warc_fields["WARC-Refers-To"] = ref_id
                record = w.create_revisit_record(url, digest, ref_uri, ref_date, http_headers=http_resp,
                                                 warc_headers_dict=warc_fields)
            else:
                warc_fields["WARC-Payload-Digest"] = digest
                record = w.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                              http_headers=http_resp, warc_headers_dict=warc_fields)
            record_id = record.rec_headers.get_header("WARC-Record-ID")

            offset = f.fh.tell()
            w.write_record(record)
            length = f.fh.tell() - offset
            if original is None:
                self._seen.setdefault(sha, (url, date, record_id))

            w.write_record(self._request_record(w, url=url, method=method, headers=request_headers,
                                                body=request_body, date=date, concurrent_to=record_id))
            if rendered:
                w.write_record(self._rendered_record(w, url=url, browser=browser, date=date,
                                                     refers_to=record_id))
            location = WarcLocation(key=f.key, offset=offset, length=length, payload_sha256=sha,
                                    revisit=original is not None)
            if f.fh.tell() >= self.max_bytes:
                self._finish_file()
            return location

    @staticmethod
    def _request_record(w, *, url, method, headers, body, date, concurrent_to):
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # A request line is ASCII on the wire; Scrapy URLs already are, others get %-encoded.
        target = quote(target, safe="!#$%&'()*+,/:;=?@[]~")
        headers = list(headers)
        # Scrapy's HTTP client adds Host at send time; the request record shows what was sent.
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        http_req = StatusAndHeaders(f"{method.upper()} {target} HTTP/1.1", headers, protocol="",
                                    is_http_request=True)
        fields = {"WARC-Date": date, "WARC-Concurrent-To": concurrent_to}
        return w.create_warc_record(url, "request", payload=BytesIO(body or b""), length=len(body or b""),
                                    http_headers=http_req, warc_headers_dict=fields)

    @staticmethod
    def _rendered_record(w, *, url, browser, date, refers_to):
        lines = ["via: browser", f"rendered-by: {browser or 'unknown'}"]
        data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        fields = {"WARC-Date": date, "WARC-Refers-To": refers_to}
        return w.create_warc_record(url, "metadata", payload=BytesIO(data), length=len(data),
                                    warc_content_type="application/warc-fields",
                                    warc_headers_dict=fields)

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> list[str]:
        """Upload the current file; return every key this writer uploaded."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._finish_file()
            return list(self.uploaded)

    def __enter__(self) -> "WarcWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

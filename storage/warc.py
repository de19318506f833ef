"""WARC archival of HTTP exchanges: request, response and revisit records in rolling,
per-record-gzipped WARC/1.1 files uploaded to the object store.

Plain bytes, headers and URLs in; no Scrapy here. The crawler's downloader middleware
(crawler/warcmiddleware.py) hands every exchange to a WarcWriter.

Digests are SHA-256 in warcio's spelling (`sha256:<base32>`), so the payload digest of a
response record is the catalogue's hex SHA-256 of the archived object, re-encoded
(`payload_sha256_hex`). A payload already written (by this writer, or found by the optional
`lookup` across the archive) becomes a revisit record (identical-payload-digest) instead.

Beside it: storage/warcspool.py (the spool a file is built in, its fsyncs, its recovery after a
crash), storage/warcread.py (reading records back, digests), storage/httpcoding.py
(Content-Encoding undone); their public names are re-exported here.
"""
from __future__ import annotations

import atexit
import hashlib
import http
import os
import sys
import threading
import weakref
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import GzippingWrapper, WARCWriter

from storage.httpcoding import decode_content_encoding
from storage.warcread import payload_sha256_hex, read_location, read_record, sha256_digest
from storage.warcspool import GroupSync, SpoolFile, spool_dir_for, spool_name

__all__ = [
    "WarcLocation",
    "WarcWriter",
    "WarcUploadError",
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
    def __init__(self, spool: SpoolFile):
        self.spool = spool
        self.key = spool.key
        self.fh = spool.fh
        self.writer = _Sha256Writer(self.fh, gzip=False, warc_version="1.1")


class WarcUploadError(OSError):
    """WARC files that could not be uploaded; kept in the spool for recover_spool."""


class WarcWriter:
    """Writes exchanges to rolling WARC files and uploads each finished file to the store.

    A file is closed and uploaded once it has passed max_bytes (so a file may exceed it by
    one exchange); close() uploads the last. Thread-safe: one lock around a write.

    Durability (storage/warcspool.py): files are built in spool_dir (tmp_dir is its old name;
    default: beside a filesystem store), locked by this process and named by their key. Every
    record is flushed to the kernel as written (a SIGKILL loses nothing); `when_durable` /
    `sync` fsync it, one fsync for every waiter at once (group commit), so a catalogue row can
    be written knowing the record it names is on disk. A file whose upload fails stays in the
    spool (retried at the next roll and at close, then left for recover_spool); close() then
    raises WarcUploadError, one line. A writer still open when the interpreter exits (a second
    Ctrl-C, an exception out of the crawl) is closed by an atexit hook.
    """

    def __init__(self, store, *, site_id: str, run_id: int | str, config_hash: str, software: str,
                 max_bytes: int = DEFAULT_MAX_BYTES, tmp_dir: str | os.PathLike[str] | None = None,
                 lookup: DigestLookup | None = None, spool_dir: str | os.PathLike[str] | None = None):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.store = store
        self.site_id = site_id
        self.run_id = run_id
        self.config_hash = config_hash
        self.software = software
        self.max_bytes = max_bytes
        spool_dir = spool_dir if spool_dir is not None else tmp_dir
        self.spool_dir = Path(spool_dir) if spool_dir is not None else spool_dir_for(store.url)
        self.tmp_dir = os.fspath(self.spool_dir)
        self.lookup = lookup
        self.uploaded: list[str] = []
        self.upload_failures = 0
        self._unsent: list[SpoolFile] = []      # finished, fsynced, upload failed: retried
        self._last_error: str | None = None
        self._serial = 0
        self._file: _OpenFile | None = None
        # sha256 hex -> (target URI, WARC-Date, record id) of the first record holding it
        self._seen: dict[str, tuple[str, str, str | None]] = {}
        self._lock = threading.Lock()
        self._sync = GroupSync(self._lock, self._current, name=f"warc-sync-{site_id}")
        self._closed = False
        _OPEN_WRITERS.add(self)

    # -- files ---------------------------------------------------------------------------
    def _open_file(self) -> _OpenFile:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        while True:
            self._serial += 1
            key = f"{warc_key_prefix(self.site_id, self.run_id)}{stamp}-{self._serial:05d}.warc.gz"
            # A resumed run (same run id) started in the second its dead predecessor did must
            # not overwrite the file the predecessor's captures name, nor its spooled copy.
            if not (self.spool_dir / spool_name(key)).exists() and not self._in_store(key):
                try:
                    spool = SpoolFile(self.spool_dir, key)
                    break
                except FileExistsError:
                    continue
        f = _OpenFile(spool)
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

    def _in_store(self, key: str) -> bool:
        try:
            return self.store.exists(key)
        except Exception:
            return False      # a store that is down holds no newer file: spool on, upload later

    def _finish_file(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.spool.sync()       # on disk before the store is asked: a failed upload loses nothing
            self._unsent.append(f.spool)
        self._upload_unsent()

    def _upload_unsent(self) -> None:
        for spool in list(self._unsent):
            try:
                spool.fh.seek(0)
                self.store.put(spool.key, spool.fh, content_type=WARC_CONTENT_TYPE)
            except Exception as exc:
                self.upload_failures += 1
                self._last_error = f"upload of {spool.key} failed; WARC kept at {spool.path}: " + \
                    (str(exc).splitlines() or [type(exc).__name__])[0]
                return               # the store is down: the rest waits for the next try
            self._unsent.remove(spool)
            spool.discard()
            self.uploaded.append(spool.key)

    # -- durability ----------------------------------------------------------------------
    def _current(self) -> tuple[str, BinaryIO] | None:
        # A finished file was fsynced before its upload was tried: only the open one waits.
        return (self._file.key, self._file.fh) if self._file is not None else None

    def when_durable(self, loc: WarcLocation, callback: Callable[[Exception | None], None]) -> None:
        """Call callback(None) once loc's record is fsynced (callback(error) if the fsync failed):
        at once when it already is, else from the writer's sync thread (storage.warcspool.GroupSync)."""
        self._sync.when_durable(loc.key, loc.offset + loc.length, callback)

    def sync(self, loc: WarcLocation) -> None:
        """Return once loc's record is on disk."""
        self._sync.wait(loc.key, loc.offset + loc.length)

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
            f.fh.flush()          # in the kernel's hands: survives the death of this process
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
        """Upload the current file; return every key this writer uploaded.

        Raises WarcUploadError (one line) when a file could not be uploaded: it stays in the
        spool, unlocked, for recover_spool."""
        with self._lock:
            if not self._closed:
                self._closed = True
                _OPEN_WRITERS.discard(self)
                try:
                    self._finish_file()
                finally:
                    kept, self._unsent = self._unsent, []
                    for spool in kept:
                        spool.release()
                    self._sync.close()
                if kept:
                    raise WarcUploadError(f"{len(kept)} WARC file(s) not uploaded, kept in {self.spool_dir} "
                                          f"for recovery at the next start: {self._last_error}")
            return list(self.uploaded)

    def __enter__(self) -> "WarcWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Writers still open when the interpreter exits: a crawl stopped by a second Ctrl-C or SIGTERM
# (Scrapy stops the reactor without closing spiders) or an exception out of it.
_OPEN_WRITERS: "weakref.WeakSet[WarcWriter]" = weakref.WeakSet()


@atexit.register
def _close_open_writers() -> None:
    for writer in list(_OPEN_WRITERS):
        try:
            writer.close()
        except Exception as exc:
            sys.stderr.write(f"nianbao: WARC {writer.site_id}: {str(exc).splitlines()[0] if str(exc) else exc!r}\n")

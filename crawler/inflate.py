"""Decompression of report files, bounded by what is actually inflated, never by what headers claim.

DOCX, XLSX and OFD are zip archives of XML; PDF content streams are FlateDecode. A zip states
each member's size in its central directory and local header, and a crafted or corrupt one
understates it: zipfile's whole-member read() inflates everything the compressed bytes hold in
one call and only then finds the size wrong (a 200 KB DOCX took 2.2 GB in the crawl and again in
`nianbao texts`). Every inflation of a report file's insides goes through this module and stops at
the limits below; these are the only ones (crawler/textract.py imports them).

HTTP bodies are inflated by Scrapy's HttpCompressionMiddleware, in 64 KiB steps that stop at
DOWNLOAD_MAXSIZE (crawler/settings.py); WARC payloads by storage/warc.py.
"""
from __future__ import annotations

import io
import struct
import zipfile
from contextlib import contextmanager

__all__ = ["BoundedZip", "TooLarge", "pdf_limits", "release_page", "MAX_MEMBER", "MAX_ARCHIVE",
           "MAX_MEMBERS", "MAX_PDF_STREAM", "MAX_PDF_DECODED"]

# A 300-page report's word/document.xml is about 20 MB, a 20,000-row sheet about 30 MB.
MAX_MEMBER = 50_000_000
# All members of one archive together: the XML of the biggest real reports is a fraction of it.
MAX_ARCHIVE = 100_000_000
# A DOCX has a few dozen members, an OFD one per page and resource.
MAX_MEMBERS = 2_000
# The central directory is parsed whole before any member is read: 1 MiB holds 2,000 entries with
# long names many times over, and keeps a forged one from becoming millions of ZipInfo objects.
MAX_CENTRAL_DIRECTORY = 1 << 20
# One PDF stream (a page's content, a form): text-heavy pages take kilobytes, vector maps a few MB.
MAX_PDF_STREAM = 16_000_000
# Decoded stream bytes per PDF: 300 dense pages are about 30 MB; pypdf parses some 4 MB a second.
MAX_PDF_DECODED = 200_000_000
# Form XObjects drawn per page: letterheads and seals are a handful; pypdf allows 5,000.
MAX_PDF_FORMS = 200

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"


class TooLarge(ValueError):
    """An archive or stream past a limit; the message is the one-line reason."""


def _check_directory(data: bytes) -> None:
    """The end record's counts, read before zipfile builds one object per central directory entry."""
    at = len(data) - 22 if data[-22:-18] == _EOCD and data[-2:] == b"\0\0" else data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
    if at < 0 or at + 22 > len(data):
        raise zipfile.BadZipFile("no end of central directory")
    entries, size = struct.unpack_from("<HL", data, at + 10)
    # zip64: Office, WPS and OFD writers use it only past 4 GB or 65,535 members, beyond every limit here.
    if entries == 0xFFFF or size == 0xFFFFFFFF or data[max(0, at - 20):at - 16] == _ZIP64_LOCATOR:
        raise TooLarge("zip64 archive")
    if entries > MAX_MEMBERS or size > MAX_CENTRAL_DIRECTORY:
        raise TooLarge(f"zip of {entries} members, central directory {size} bytes")


class BoundedZip:
    """A zip archive whose members stream out and stop at MAX_MEMBER each, MAX_ARCHIVE in all."""

    def __init__(self, data: bytes):
        _check_directory(data)
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.infos = self.zip.infolist()
        if len(self.infos) > MAX_MEMBERS:
            raise TooLarge(f"zip of {len(self.infos)} members")
        self.left = MAX_ARCHIVE

    def __enter__(self) -> "BoundedZip":
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def names(self) -> list[str]:
        return [i.filename for i in self.infos]

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes. A header that understates the size gets at most what it states
        (zipfile stops there, and its CRC check fails); one past the limit is refused."""
        # OOXML (ECMA-376 part 2) and OFD (GB/T 33190) allow stored and deflate only; zipfile's
        # bzip2 and lzma readers inflate a whole read's worth of input at once.
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TooLarge(f"{info.filename}: compression method {info.compress_type}")
        limit = min(MAX_MEMBER, self.left)
        if info.file_size > limit:
            raise TooLarge(f"{info.filename}: {info.file_size} bytes by its header")
        with self.zip.open(info) as member:
            # read(n) inflates at most n bytes (read() all the input holds, at once); zipfile
            # returns no more than the header states, so asking for more would only inflate more.
            data = member.read(info.file_size + 1)
        if len(data) > limit:
            raise TooLarge(f"{info.filename}: more than {limit} bytes inflated")
        self.left -= len(data)
        return data

    def rebuilt(self, keep=lambda name: name.lower().endswith((".xml", ".rels"))) -> bytes:
        """The archive again, every member read within the limits and stored uncompressed, so a
        library that reads members whole (python-docx, openpyxl) inflates nothing. Members `keep`
        refuses are kept empty: images and embedded objects are most of a DOCX and hold no text."""
        last = {i.filename: i for i in self.infos}      # a duplicated name reads as its last entry
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for name, info in last.items():
                z.writestr(name, self.read(info) if keep(name) and not info.is_dir() else b"")
        return out.getvalue()


@contextmanager
def pdf_limits():
    """pypdf's own decoding limits (75 MB a stream by default), set to ours while a PDF is read."""
    from pypdf import apply_configuration

    limit = MAX_PDF_STREAM
    with apply_configuration(zlib_maximum_output_length=limit, lzw_maximum_output_length=limit,
                             run_length_maximum_output_length=limit, brotli_maximum_output_length=limit,
                             jbig2_maximum_output_length=limit, array_based_stream_maximum_output_length=limit,
                             stream_decoding_work_maximum_length=2 * limit,
                             xform_maximum_invocations_per_extraction=MAX_PDF_FORMS) as config:
        yield config


def release_page(page) -> int:
    """Forget the decoded streams of a page once its text is out; how many bytes they held.
    pypdf keeps every stream it decoded for the reader's lifetime: 300 pages of 16 MB would all
    stay in memory (measured: 30 pages of 10 MB held 300 MB at the end, released each 20 MB)."""
    seen: set[int] = set()
    freed = 0

    def drop(obj, depth: int) -> None:
        nonlocal freed
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if obj is None or id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        if isinstance(obj, list):
            for item in obj:
                drop(item, depth)
            return
        decoded = getattr(obj, "decoded_self", None)
        if decoded is not None:
            freed += len(decoded.get_data())
            obj.decoded_self = None
        if hasattr(obj, "get"):
            resources = obj.get("/Resources")
            xobjects = resources.get_object().get("/XObject") if resources is not None else None
            for ref in (xobjects.get_object().values() if xobjects is not None else ()):
                drop(ref, depth + 1)

    try:
        drop(page.get("/Contents"), 0)
        drop(page, 0)
    except Exception:  # noqa: BLE001 - a broken resource dictionary: nothing more to forget
        pass
    return freed

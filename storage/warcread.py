"""Reading WARC records back, and the SHA-256 digests they carry: what the archive's readers
(fsck's WARC checks, WACZ export, tests) need without the writer. Re-exported by storage.warc.

Digests are SHA-256 in warcio's spelling (`sha256:<base32>`); `payload_sha256_hex` turns one
back into the catalogue's hex SHA-256 of the archived object.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

__all__ = ["sha256_digest", "payload_sha256_hex", "read_record", "read_location"]


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


def read_location(store, location):
    """(record, payload) at a WarcLocation, or at a {"key", "offset"} dict as kept in request meta."""
    key, offset = (location["key"], location["offset"]) if isinstance(location, dict) else \
        (location.key, location.offset)
    fh = store.open(key)
    try:
        return read_record(fh, offset)
    finally:
        fh.close()

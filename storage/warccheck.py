"""fsck's WARC half: every capture that names a WARC record must find it there.

A capture's (warc_key, warc_offset) is its provenance: the exchange as it was sent and
answered. It goes wrong in ways the object check never sees: a WARC file that was never
uploaded (a crawl killed before its last file was closed), deleted by a retention script,
truncated by a failed copy, or an offset written for another file. Each WARC file is read
once, forward (S3 bodies cannot seek), and the offsets of its records collected; a capture
whose offset is not among them is read there directly (storage.warc.read_location) so the
report says what is there instead.
"""
from __future__ import annotations

from contextlib import closing

from warcio.archiveiterator import ArchiveIterator

from storage.maintenance import Problem
from storage.objects import ObjectStore
from storage.warc import read_location

# Record types a capture may point at: the response, or a revisit of an identical payload.
CAPTURE_RECORDS = ("response", "revisit")


def _scan(store: ObjectStore, key: str) -> tuple[dict[int, tuple[str, str | None]], str | None]:
    """offset -> (record type, WARC-Target-URI) of every record read, and why reading stopped
    early (None when the whole file was read)."""
    found: dict[int, tuple[str, str | None]] = {}
    try:
        with closing(store.open(key)) as fh:
            records = ArchiveIterator(fh)
            for record in records:
                uri = record.rec_headers.get_header("WARC-Target-URI")
                found[records.get_record_offset()] = (record.rec_type, uri)
    except Exception as exc:   # warcio, zlib and the store all have their own ways to fail here
        return found, f"{type(exc).__name__}: {exc}"
    return found, None


def _read_at(store: ObjectStore, key: str, offset: int) -> tuple[tuple[str, str | None] | None, str]:
    try:
        record, _payload = read_location(store, {"key": key, "offset": offset})
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return (record.rec_type, record.rec_headers.get_header("WARC-Target-URI")), ""


def check_warc_records(store: ObjectStore, captures, problems: list[Problem]) -> int:
    """Append a Problem for each capture whose WARC record is not where it says; the number
    of capture records checked."""
    by_file: dict[str, list] = {}
    for c in captures:
        if c.warc_key:
            by_file.setdefault(c.warc_key, []).append(c)
    checked = 0
    for key, caps in sorted(by_file.items()):
        caps.sort(key=lambda c: (c.warc_offset or 0, c.id))
        checked += len(caps)
        if store.size(key) is None:
            problems.append(Problem("warc_missing", key, f"WARC file not in the store "
                                    f"({len(caps)} capture record(s) point into it)",
                                    [(c.id, c.url) for c in caps]))
            continue
        found, stopped = _scan(store, key)
        for c in caps:
            names = [(c.id, c.url)]
            if c.warc_offset is None:
                problems.append(Problem("warc_unreadable", key, "the capture names this WARC file "
                                        "but no offset", names))
                continue
            hit = found.get(c.warc_offset)
            why = ""
            if hit is None and stopped is None:
                # The file was read whole and no record starts here. Reading from here anyway can
                # land on some later record by chance (a decompressor resynchronising on the
                # random bytes inside a gzip member), which would call it another record's.
                why = "not a record boundary of the file, which reads whole"
            elif hit is None:
                hit, why = _read_at(store, key, c.warc_offset)
            if hit is None:
                detail = f"no readable WARC record here ({why})"
                if stopped:
                    detail += f"; the file itself stops being readable: {stopped}"
                problems.append(Problem("warc_unreadable", key, detail, names, offset=c.warc_offset))
                continue
            rec_type, uri = hit
            if uri not in (c.url, c.final_url) or rec_type not in CAPTURE_RECORDS:
                problems.append(Problem("warc_mismatch", key, f"the record here is a {rec_type} "
                                        f"record for {uri}, not the capture's", names,
                                        offset=c.warc_offset))
    return checked

"""Keeping the store and the catalogue honest with each other.

`fsck` compares what the catalogue says is stored with what the store holds, and every
capture's WARC record with the capture; `migrate_store` copies an archive from one store to
another (filesystem to S3, say). Both read every byte they check: they are slow by design,
and run by hand or by cron.
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from storage.catalogue import Catalogue
from storage.objects import ObjectNotFound, ObjectStore, StoreError, hash_object

CONTENT_PREFIX = "sha256/"
# Corrupt objects are moved here, never deleted: the damaged bytes may be the last copy of
# something (a report since taken offline), and a human may still recover most of a PDF.
QUARANTINE_PREFIX = "quarantine/"
_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
# Captures named on one text line; the JSON output names them all.
LINE_CAPTURES = 5

__all__ = ["fsck", "FsckReport", "Problem", "migrate_store", "MigrateReport", "sha256_of_key",
           "hash_object", "quarantine_key", "CONTENT_PREFIX", "QUARANTINE_PREFIX"]


def sha256_of_key(key: str) -> str | None:
    """The hash a content-addressed key promises, or None for any other key."""
    m = _CONTENT_KEY.fullmatch(key)
    return m.group(3) if m else None


def quarantine_key(key: str, got_sha256: str) -> str:
    """Where a corrupt object goes: its key under quarantine/, then the hash of the bad bytes,
    so two different corruptions of one key are both kept and a rerun finds its own copy."""
    return f"{QUARANTINE_PREFIX}{key}/{got_sha256}"


# Problem kinds, in the order they are reported.
KINDS = ("corrupt", "missing", "corrupt_orphan", "orphan", "warc_missing", "warc_unreadable",
         "warc_mismatch")


@dataclass
class Problem:
    """One thing wrong, named so a human can find it: the object (or WARC file) key, the
    offset of a WARC record, the captures concerned, and what --repair did about it."""
    kind: str
    key: str
    detail: str
    captures: list[tuple[int, str]] = field(default_factory=list)   # (capture id, url)
    offset: int | None = None
    repair: str | None = None        # what --repair did; None while the problem is still there
    got_sha256: str | None = field(default=None, repr=False)   # what the bytes hash to
    size: int | None = field(default=None, repr=False)

    @property
    def remains(self) -> bool:
        return self.repair is None

    def line(self) -> str:
        where = self.key if self.offset is None else f"{self.key} at offset {self.offset}"
        text = f"{self.kind}: {where}: {self.detail}"
        if self.captures:
            named = ", ".join(f"capture {i} {url}" for i, url in self.captures[:LINE_CAPTURES])
            more = len(self.captures) - LINE_CAPTURES
            text += f"; used by {named}" + (f" and {more} more" if more > 0 else "")
        return text + (f"; repaired: {self.repair}" if self.repair else "")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "offset": self.offset, "detail": self.detail,
                "captures": [{"id": i, "url": u} for i, u in self.captures], "repair": self.repair,
                "remains": self.remains}


@dataclass
class FsckReport:
    checked: int = 0                 # content objects hashed
    warc_records: int = 0            # capture WARC records checked
    problems: list[Problem] = field(default_factory=list)
    quarantined: int = 0
    owed: int = 0                    # URLs owed again to the next crawl
    registered_orphans: int = 0

    def _keys(self, *kinds: str) -> list[str]:
        return [p.key for p in self.problems if p.kind in kinds]

    @property
    def missing(self) -> list[str]:      # in the catalogue, not in the store
        return self._keys("missing")

    @property
    def orphans(self) -> list[str]:      # content keys in the store, not in the catalogue
        return self._keys("orphan")

    @property
    def mismatched(self) -> list[str]:   # bytes that do not hash to their key
        return self._keys("corrupt", "corrupt_orphan")

    @property
    def warc(self) -> list[Problem]:
        return [p for p in self.problems if p.kind.startswith("warc_")]

    @property
    def ok(self) -> bool:
        """Nothing was found wrong."""
        return not self.problems

    @property
    def remaining(self) -> list[Problem]:
        """What is still wrong after this run (everything, without --repair)."""
        return [p for p in self.problems if p.remains]

    def lines(self) -> list[str]:
        order = {k: i for i, k in enumerate(KINDS)}
        return [p.line() for p in sorted(self.problems, key=lambda p: (order.get(p.kind, 99), p.key,
                                                                           p.offset or 0))]

    def summary(self) -> str:
        counts = {k: sum(p.kind == k for p in self.problems) for k in KINDS}
        found = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n) or "no problems"
        return (f"checked {self.checked} objects and {self.warc_records} WARC records: {found}; "
                f"repaired: {self.quarantined} quarantined, {self.owed} URLs owed again, "
                f"{self.registered_orphans} orphans registered; {len(self.remaining)} remaining")

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "warc_records": self.warc_records, "ok": self.ok,
                "quarantined": self.quarantined, "owed": self.owed,
                "registered_orphans": self.registered_orphans, "remaining": len(self.remaining),
                "problems": [p.as_dict() for p in self.problems]}


def fsck(catalogue: Catalogue, store: ObjectStore, *, repair: bool = False,
         warc: bool = True) -> FsckReport:
    """Check every catalogued object exists and hashes to its sha256, find orphans, and check
    every capture's WARC record (file present, record readable at its offset, for its URL).

    repair=True, for each problem it can do something about:
    - a corrupt object is moved to quarantine/ (kept: it may be the last copy) and every URL
      whose capture it held is owed again (`Catalogue.owe_again`), so the next crawl fetches it
      in full; a corrupt orphan is only quarantined;
    - a missing object: its URLs are owed again. Its captures are kept: they are the record of
      what was fetched when, and their WARC records may still hold the bytes;
    - an orphan whose bytes match its key is registered as a blob.
    WARC problems are reported only: a WARC file is the record of an exchange and cannot be
    made again. `report.remaining` is what is still wrong afterwards.
    """
    report = FsckReport()
    captures = catalogue.captures()
    users: dict[str, list[tuple[int, str]]] = {}
    for c in captures:
        users.setdefault(c.storage_key, []).append((c.id, c.url))
    in_catalogue = catalogue.storage_keys_in_use()  # key -> sha256
    in_store = set(store.keys(CONTENT_PREFIX))
    for key, sha in sorted(in_catalogue.items()):
        report.checked += 1
        try:
            got = hash_object(store, key) if store.size(key) is not None else None
        except ObjectNotFound:  # deleted between size() and open()
            got = None
        if got is None:
            report.problems.append(Problem("missing", key, "not in the store", users.get(key, [])))
        elif got[0] != sha:
            report.problems.append(Problem(
                "corrupt", key, f"bytes hash to {got[0]} ({got[1]} bytes), not {sha}",
                users.get(key, []), got_sha256=got[0], size=got[1]))
    for key in sorted(in_store - set(in_catalogue)):
        report.checked += 1
        try:
            got, size = hash_object(store, key)
        except ObjectNotFound:
            continue            # an orphan deleted meanwhile is no longer a problem
        if got != sha256_of_key(key):
            report.problems.append(Problem("corrupt_orphan", key, f"no catalogue row, and its bytes "
                                           f"hash to {got}", got_sha256=got, size=size))
        else:
            report.problems.append(Problem("orphan", key, f"no catalogue row ({size} bytes, hash "
                                           "matches)", got_sha256=got, size=size))
    if warc:
        from storage.warccheck import check_warc_records
        report.warc_records = check_warc_records(store, captures, report.problems)
    if repair:
        _repair(catalogue, store, report)
    return report


def _owe_again(catalogue: Catalogue, key: str, reason: str) -> int | None:
    """URLs owed again for a lost object (storage/owed.py): the next crawl fetches them in full."""
    return catalogue.owe_again(storage_key=key, reason=reason)


def _repair(catalogue: Catalogue, store: ObjectStore, report: FsckReport) -> None:
    for p in report.problems:
        try:
            if p.kind in ("corrupt", "corrupt_orphan"):
                qkey = quarantine(store, p.key, p.got_sha256)
                report.quarantined += 1
                if p.kind == "corrupt_orphan":
                    p.repair = f"moved to {qkey}"
                    continue
                p.detail += f"; moved to {qkey}"
            if p.kind in ("corrupt", "missing"):
                owed = _owe_again(catalogue, p.key, "corrupt" if p.kind == "corrupt" else "missing")
                if owed is None:
                    p.detail += "; not owed again (this catalogue has no owe_again)"
                elif owed == 0:
                    # Derived renditions and bare blobs have no URL a crawl could fetch again.
                    p.detail += "; no URL to fetch it from again"
                else:
                    report.owed += owed
                    p.repair = f"{owed} URL(s) owed to the next crawl"
            elif p.kind == "orphan":
                catalogue.record_blob(sha256=p.got_sha256, size=p.size, storage_key=p.key, content_type=None)
                report.registered_orphans += 1
                p.repair = "registered as a blob"
        except StoreError as exc:
            p.detail += f"; repair failed: {exc}"


def quarantine(store: ObjectStore, key: str, got_sha256: str) -> str:
    """Move a corrupt object under quarantine/: copied, the copy verified, then the original
    deleted. A copy that does not read back as the bytes we hashed (they changed meanwhile, say
    rewritten right by a crawl) raises before anything is deleted."""
    qkey = quarantine_key(key, got_sha256)
    try:
        kept = store.size(qkey) is not None and hash_object(store, qkey)[0] == got_sha256
    except ObjectNotFound:
        kept = False
    if not kept:
        with closing(store.open(key)) as src:
            store.put(qkey, src, sha256=got_sha256)
    store.delete(key)
    return qkey


@dataclass
class MigrateReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # already at the destination, same size
    verified: int = 0
    mismatched: list[str] = field(default_factory=list)  # copied, but the copy does not hash right

    @property
    def ok(self) -> bool:
        return not self.mismatched

    def summary(self) -> str:
        return (f"{len(self.copied)} copied, {len(self.skipped)} already there, "
                f"{self.verified} verified, {len(self.mismatched)} mismatched")


def migrate_store(src: ObjectStore, dst: ObjectStore, *, verify: bool = True) -> MigrateReport:
    """Copy every object from src to dst; safe to run again after an interruption.

    A key already in dst with the same size is skipped. With verify, every copied
    content-addressed object is read back from dst and hashed; a copy that does not
    match is deleted from dst (so a rerun copies it again) and reported.
    """
    report = MigrateReport()
    for key in src.keys():
        there = dst.size(key)
        if there is not None and there == src.size(key):
            report.skipped.append(key)
            continue
        f = src.open(key)
        try:
            dst.put(key, f)
        finally:
            f.close()
        report.copied.append(key)
        expected = sha256_of_key(key)
        if verify and expected is not None:
            got, _ = hash_object(dst, key)
            if got == expected:
                report.verified += 1
            else:
                dst.delete(key)
                report.mismatched.append(key)
    return report

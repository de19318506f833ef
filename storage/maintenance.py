"""Keeping the store and the catalogue honest with each other.

`fsck` compares what the catalogue says is stored with what the store holds;
`migrate_store` copies an archive from one store to another (filesystem to S3, say).
Both read every byte they check: they are slow by design, and run by hand or by cron.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from storage.catalogue import Catalogue
from storage.objects import ObjectNotFound, ObjectStore

CONTENT_PREFIX = "sha256/"
_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")


def sha256_of_key(key: str) -> str | None:
    """The hash a content-addressed key promises, or None for any other key."""
    m = _CONTENT_KEY.fullmatch(key)
    return m.group(3) if m else None


def _hash_stream(f: BinaryIO) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    while chunk := f.read(1 << 20):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def hash_object(store: ObjectStore, key: str) -> tuple[str, int]:
    """(sha256, size) of a stored object, streamed."""
    f = store.open(key)
    try:
        return _hash_stream(f)
    finally:
        f.close()


@dataclass
class FsckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)      # in the catalogue, not in the store
    orphans: list[str] = field(default_factory=list)      # content keys in the store, not in the catalogue
    mismatched: list[str] = field(default_factory=list)   # bytes that do not hash to their key
    dropped_captures: int = 0
    registered_orphans: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.mismatched)

    def summary(self) -> str:
        return (f"checked {self.checked}: {len(self.missing)} missing, {len(self.orphans)} orphans, "
                f"{len(self.mismatched)} corrupted; repaired: {self.dropped_captures} captures dropped, "
                f"{self.registered_orphans} orphans registered")


def fsck(catalogue: Catalogue, store: ObjectStore, *, repair: bool = False) -> FsckReport:
    """Check every catalogued object exists and hashes to its sha256; find orphans.

    repair=True drops captures (and blobs) whose object is missing, and registers
    orphans whose bytes match their key as blobs. Corrupted objects are only reported:
    deleting them would destroy the last copy of whatever they still hold.
    """
    report = FsckReport()
    in_catalogue = catalogue.storage_keys_in_use()  # key -> sha256
    in_store = set(store.keys(CONTENT_PREFIX))
    for key, sha in sorted(in_catalogue.items()):
        report.checked += 1
        if store.size(key) is None:
            report.missing.append(key)
            continue
        try:
            got, _ = hash_object(store, key)
        except ObjectNotFound:  # deleted between size() and open()
            report.missing.append(key)
            continue
        if got != sha:
            report.mismatched.append(key)
    orphans: list[tuple[str, str, int]] = []
    for key in sorted(in_store - set(in_catalogue)):
        report.checked += 1
        got, size = hash_object(store, key)
        if got != sha256_of_key(key):
            report.mismatched.append(key)  # an orphan that is corrupt too: never register it
        else:
            report.orphans.append(key)
            orphans.append((key, got, size))
    if repair:
        report.dropped_captures = catalogue.drop_objects(storage_keys=report.missing)
        for key, sha, size in orphans:
            catalogue.record_blob(sha256=sha, size=size, storage_key=key, content_type=None)
        report.registered_orphans = len(orphans)
    return report


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

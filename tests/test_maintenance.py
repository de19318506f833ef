"""fsck and store migration against real stores (filesystem and SeaweedFS S3)."""

from __future__ import annotations

import hashlib

import pytest

from storage.catalogue import Catalogue
from storage.maintenance import fsck, migrate_store, sha256_of_key
from storage.objects import content_key, open_store, put_content


@pytest.fixture(params=["fs", pytest.param("s3", marks=pytest.mark.services)])
def store(request, tmp_path):
    if request.param == "fs":
        return open_store(str(tmp_path / "store"))
    return open_store(request.getfixturevalue("s3_url"))


@pytest.fixture
def cat(tmp_path):
    with Catalogue.open(f"sqlite:///{tmp_path / 'catalogue.sqlite'}") as c:
        c.upsert_site(site_id="s", agency="A")
        yield c


def archive(cat, store, run_id, data: bytes, url: str, **kw) -> int:
    """What the archive pipeline does: bytes first, then blob and capture rows."""
    key, sha, size = put_content(store, data)
    cat.record_blob(sha256=sha, size=size, storage_key=key, content_type="application/pdf")
    return cat.add_capture(run_id=run_id, site_id="s", url=url, sha256=sha, size=size, storage_key=key, **kw)


@pytest.mark.parametrize(
    "key,sha",
    [
        (content_key("ab" + "0" * 62), "ab" + "0" * 62),
        ("sha256/ab/00/" + "ac" + "0" * 62, None),  # directory does not match the hash
        ("sha256/ab/00/" + "ab00", None),
        ("warc/2024/1.warc.gz", None),
    ],
)
def test_sha256_of_key(key, sha):
    assert sha256_of_key(key) == sha


def test_clean_archive_passes(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    archive(cat, store, run, b"one", "u1")
    archive(cat, store, run, b"two", "u2")
    store.put("warc/x.warc.gz", b"not content addressed, not checked")
    report = fsck(cat, store)
    assert report.ok, report.summary()
    assert report.checked == 2


def test_fsck_finds_missing_orphan_and_corrupted(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    good = archive(cat, store, run, b"good report", "u-good")
    gone = archive(cat, store, run, b"deleted later", "u-gone")
    archive(cat, store, run, b"bytes that rot", "u-rot")
    archive(cat, store, run, b"derived text", "u-gone", parent_id=gone, kind="text")
    missing_key = content_key(hashlib.sha256(b"deleted later").hexdigest())
    rotten_key = content_key(hashlib.sha256(b"bytes that rot").hexdigest())
    store.delete(missing_key)
    store.put(rotten_key, b"bytes that ROT")  # same size, other bytes
    orphan_key, orphan_sha, _ = put_content(store, b"stored, never catalogued")
    bad_orphan = content_key(hashlib.sha256(b"x").hexdigest())
    store.put(bad_orphan, b"not x")

    report = fsck(cat, store)
    assert report.missing == [missing_key]
    assert report.orphans == [orphan_key]
    assert sorted(report.mismatched) == sorted([rotten_key, bad_orphan])
    assert not report.ok
    assert (report.dropped_captures, report.registered_orphans) == (0, 0)
    assert len(cat.captures()) == 4  # nothing changed without repair

    repaired = fsck(cat, store, repair=True)
    assert (repaired.dropped_captures, repaired.registered_orphans) == (1, 1)
    remaining = {c.id: c for c in cat.captures()}
    assert gone not in remaining and good in remaining
    assert [c.parent_id for c in remaining.values() if c.kind == "text"] == [None]
    assert orphan_sha in {b.sha256 for b in cat.blobs()}

    after = fsck(cat, store)
    assert (after.missing, after.orphans) == ([], [])
    assert sorted(after.mismatched) == sorted([rotten_key, bad_orphan])  # reported, never deleted
    assert store.get(rotten_key) == b"bytes that ROT"


@pytest.mark.services
def test_migrate_store_filesystem_to_s3_verified(tmp_path, s3_url):
    src = open_store(str(tmp_path / "src"))
    dst = open_store(s3_url)
    keys = [put_content(src, f"report {i}".encode() * (i + 1))[0] for i in range(5)]
    src.put("warc/crawl-1.warc.gz", b"warc bytes")

    first = migrate_store(src, dst)
    assert sorted(first.copied) == sorted(keys + ["warc/crawl-1.warc.gz"])
    assert (first.verified, first.mismatched, first.skipped) == (5, [], [])
    for key in keys + ["warc/crawl-1.warc.gz"]:
        assert dst.get(key) == src.get(key)

    put_content(src, b"added after the first pass")
    again = migrate_store(src, dst)
    assert len(again.copied) == 1 and len(again.skipped) == 6


def test_migrate_store_deletes_and_reports_a_bad_copy(tmp_path):
    src = open_store(str(tmp_path / "src"))
    dst = open_store(str(tmp_path / "dst"))
    lying_key = content_key(hashlib.sha256(b"promised").hexdigest())
    src.put(lying_key, b"delivered")  # the source itself is corrupt
    report = migrate_store(src, dst)
    assert report.mismatched == [lying_key] and not report.ok
    assert not dst.exists(lying_key)
    unverified = migrate_store(src, dst, verify=False)
    assert unverified.copied == [lying_key] and unverified.ok

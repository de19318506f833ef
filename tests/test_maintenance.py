"""fsck and store migration against real stores (filesystem and SeaweedFS S3)."""

from __future__ import annotations

import hashlib

import pytest

from storage.catalogue import Catalogue
from storage.maintenance import fsck, migrate_store, quarantine_key, sha256_of_key
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
    rot = archive(cat, store, run, b"bytes that rot", "u-rot")
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
    assert not report.ok and len(report.remaining) == 4
    assert (report.quarantined, report.owed, report.registered_orphans) == (0, 0, 0)
    assert len(cat.captures()) == 4  # nothing changed without repair
    assert store.get(rotten_key) == b"bytes that ROT"

    repaired = fsck(cat, store, repair=True)
    assert (repaired.quarantined, repaired.registered_orphans) == (2, 1)
    # Captures are kept (they are the record of what was fetched), every one of them.
    assert {c.id for c in cat.captures()} >= {good, gone, rot}
    assert len(cat.captures()) == 4
    assert orphan_sha in {b.sha256 for b in cat.blobs()}
    # Corrupt bytes are moved aside, never deleted: they may be the last copy.
    rotten_sha = hashlib.sha256(b"bytes that ROT").hexdigest()
    assert store.get(quarantine_key(rotten_key, rotten_sha)) == b"bytes that ROT"
    assert store.get(quarantine_key(bad_orphan, hashlib.sha256(b"not x").hexdigest())) == b"not x"
    assert not store.exists(rotten_key) and not store.exists(bad_orphan)

    after = fsck(cat, store)
    assert (after.orphans, after.mismatched) == ([], [])
    assert sorted(after.missing) == sorted([missing_key, rotten_key])   # owed until a crawl fetches them


@pytest.mark.skipif(not hasattr(Catalogue, "owe_again"), reason="Catalogue.owe_again not there yet")
def test_repair_owes_lost_and_corrupt_files_to_the_next_crawl(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    archive(cat, store, run, b"good report", "http://a.gov.cn/good.pdf", kind="attachment")
    gone = archive(cat, store, run, b"deleted later", "http://a.gov.cn/gone.pdf", kind="attachment")
    archive(cat, store, run, b"bytes that rot", "http://a.gov.cn/rot.pdf", kind="attachment")
    archive(cat, store, run, b"derived text", "http://a.gov.cn/gone.pdf", parent_id=gone, kind="text")
    store.delete(content_key(hashlib.sha256(b"deleted later").hexdigest()))
    store.put(content_key(hashlib.sha256(b"bytes that rot").hexdigest()), b"bytes that ROT")

    repaired = fsck(cat, store, repair=True)
    assert repaired.owed == 2 and repaired.remaining == []
    owed = {o["url"]: o["reason"] for o in cat.owed(site_id="s")}
    assert owed == {"http://a.gov.cn/gone.pdf": "missing", "http://a.gov.cn/rot.pdf": "corrupt"}
    lines = repaired.lines()
    assert any(line.startswith("corrupt: ") and "owed to the next crawl" in line for line in lines)


def test_fsck_names_the_key_the_capture_ids_and_their_urls(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    first = archive(cat, store, run, b"shared bytes", "http://a.gov.cn/2023.pdf")
    second = archive(cat, store, run, b"shared bytes", "http://b.gov.cn/copy-of-2023.pdf")
    key = content_key(hashlib.sha256(b"shared bytes").hexdigest())
    store.put(key, b"shared BYTES")
    report = fsck(cat, store)
    [line] = report.lines()
    assert line.startswith(f"corrupt: {key}: ")
    assert f"capture {first} http://a.gov.cn/2023.pdf" in line
    assert f"capture {second} http://b.gov.cn/copy-of-2023.pdf" in line
    [problem] = report.as_dict()["problems"]
    assert problem["captures"] == [{"id": first, "url": "http://a.gov.cn/2023.pdf"},
                                   {"id": second, "url": "http://b.gov.cn/copy-of-2023.pdf"}]
    assert key in report.summary() or "1 corrupt" in report.summary()


def _warc(store, key: str, urls: list[str]) -> dict[str, int]:
    """A WARC file of one response record per URL, as the crawler writes them (one gzip member
    per record); url -> the record's offset."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = BytesIO()
    writer = WARCWriter(buf, gzip=True)
    offsets = {}
    for url in urls:
        body = f"body of {url}".encode()
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        offsets[url] = buf.tell()
        writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body),
                                                      length=len(body), http_headers=http))
    store.put(key, buf.getvalue())
    return offsets


def test_fsck_checks_every_capture_s_warc_record(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    urls = [f"http://a.gov.cn/{i}.html" for i in range(4)]
    offsets = _warc(store, "warc/s/run-1/a.warc.gz", urls)
    fine = archive(cat, store, run, b"page 0", urls[0], warc_key="warc/s/run-1/a.warc.gz",
                   warc_offset=offsets[urls[0]])
    bad_offset = archive(cat, store, run, b"page 1", urls[1], warc_key="warc/s/run-1/a.warc.gz",
                         warc_offset=offsets[urls[1]] + 7)
    other_url = archive(cat, store, run, b"page 2", urls[2], warc_key="warc/s/run-1/a.warc.gz",
                        warc_offset=offsets[urls[3]])
    lost = archive(cat, store, run, b"page 3", urls[3], warc_key="warc/s/run-1/never-uploaded.warc.gz",
                   warc_offset=0)

    report = fsck(cat, store)
    assert report.warc_records == 4 and not report.ok
    by_kind = {p.kind: p for p in report.warc}
    assert set(by_kind) == {"warc_missing", "warc_unreadable", "warc_mismatch"}
    assert by_kind["warc_missing"].key == "warc/s/run-1/never-uploaded.warc.gz"
    assert by_kind["warc_missing"].captures == [(lost, urls[3])]
    assert (by_kind["warc_unreadable"].key, by_kind["warc_unreadable"].offset) == \
        ("warc/s/run-1/a.warc.gz", offsets[urls[1]] + 7)
    assert by_kind["warc_unreadable"].captures == [(bad_offset, urls[1])]
    # decided from the whole file's record offsets, not by decompressing from mid-member (which
    # now and then lands on a later record and called this one a mismatch)
    assert "not a record boundary" in by_kind["warc_unreadable"].detail
    assert by_kind["warc_mismatch"].captures == [(other_url, urls[2])]
    assert urls[3] in by_kind["warc_mismatch"].detail
    assert fine not in {i for p in report.problems for i, _ in p.captures}
    text = "\n".join(report.lines())
    assert f"warc/s/run-1/a.warc.gz at offset {offsets[urls[1]] + 7}" in text
    # WARC records cannot be made again: --repair leaves them, and says so.
    assert len(fsck(cat, store, repair=True).remaining) == 3


def test_fsck_truncated_warc_file(cat, store):
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    urls = ["http://a.gov.cn/1.html", "http://a.gov.cn/2.html"]
    offsets = _warc(store, "warc/t.warc.gz", urls)
    whole = store.get("warc/t.warc.gz")
    store.put("warc/t.warc.gz", whole[:offsets[urls[1]] + 20])       # a copy cut short
    archive(cat, store, run, b"one", urls[0], warc_key="warc/t.warc.gz", warc_offset=offsets[urls[0]])
    cut = archive(cat, store, run, b"two", urls[1], warc_key="warc/t.warc.gz", warc_offset=offsets[urls[1]])
    [problem] = fsck(cat, store).problems
    assert (problem.kind, problem.offset, problem.captures) == ("warc_unreadable", offsets[urls[1]],
                                                                [(cut, urls[1])])


def _cli(*args, env=None):
    from tests.harness import nianbao

    return nianbao("fsck", *args, env=env)


def test_cli_fsck_repair_exit_status_is_what_remains(tmp_path, monkeypatch):
    store_dir, cat_url = tmp_path / "objects", f"sqlite:///{tmp_path / 'cat.sqlite'}"
    store = open_store(str(store_dir))
    with Catalogue.open(cat_url) as cat:
        cat.upsert_site(site_id="s", agency="A")
        run = cat.start_run(site_id="s", config_hash=None, software_version=None)
        cap = archive(cat, store, run, b"bytes that rot", "http://a.gov.cn/rot.pdf", kind="attachment")
        archive(cat, store, run, b"fine", "http://a.gov.cn/fine.pdf", kind="attachment",
                warc_key="warc/gone.warc.gz", warc_offset=0)
    key = content_key(hashlib.sha256(b"bytes that rot").hexdigest())
    store.put(key, b"bytes that ROT")
    args = ("--store", str(store_dir), "--catalogue", cat_url)

    plain = _cli(*args)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert f"corrupt: {key}" in plain.stdout and f"capture {cap} http://a.gov.cn/rot.pdf" in plain.stdout
    assert "warc_missing: warc/gone.warc.gz" in plain.stdout
    assert "Traceback" not in plain.stderr

    repaired = _cli("--repair", *args)
    # The corrupt object is quarantined, but the lost WARC file remains: not a success.
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr
    assert store.get(quarantine_key(key, hashlib.sha256(b"bytes that ROT").hexdigest())) == b"bytes that ROT"
    assert not store.exists(key)

    as_json = _cli("--format", "json", *args)
    import json
    doc = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and doc["remaining"] >= 1
    assert {p["kind"] for p in doc["problems"]} >= {"warc_missing"}


def test_cli_fsck_clean_archive_exits_0(tmp_path):
    store_dir, cat_url = tmp_path / "objects", f"sqlite:///{tmp_path / 'cat.sqlite'}"
    store = open_store(str(store_dir))
    with Catalogue.open(cat_url) as cat:
        cat.upsert_site(site_id="s", agency="A")
        run = cat.start_run(site_id="s", config_hash=None, software_version=None)
        archive(cat, store, run, b"fine", "http://a.gov.cn/fine.pdf")
    orphan, _, _ = put_content(store, b"never catalogued")
    args = ("--store", str(store_dir), "--catalogue", cat_url)
    assert _cli(*args).returncode == 1                    # an orphan is a problem until registered
    repaired = _cli("--repair", *args)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"orphan: {orphan}" in repaired.stdout and "registered" in repaired.stdout
    assert _cli(*args).returncode == 0


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

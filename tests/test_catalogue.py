"""The catalogue on SQLite and on a real PostgreSQL, including concurrent writers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from storage import db
from storage.catalogue import (
    Catalogue,
    CatalogueUnavailable,
    CatalogueURLError,
    CatalogueValueError,
    UnknownRecord,
)

SHA_A = "a" * 64
SHA_B = "b" * 64
CST = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def catalogue_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def cat(catalogue_url):
    with Catalogue.open(catalogue_url) as c:
        c.upsert_site(site_id="gd-gov", agency="广东省人民政府", kind="government",
                      region_name="广东省", region_code="440000", first_year=2008)
        yield c


def _capture(cat, run_id, *, url="https://x.gov.cn/a.pdf", sha=SHA_A, report_id=None, **kw):
    cat.record_blob(sha256=sha, size=3, storage_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}",
                    content_type="application/pdf")
    return cat.add_capture(run_id=run_id, site_id="gd-gov", url=url, sha256=sha, size=3,
                           storage_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", report_id=report_id,
                           kind=kw.pop("kind", "attachment"), **kw)


def test_migrations_from_empty_database(catalogue_url):
    cat = Catalogue.open(catalogue_url)
    with cat.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert {"site", "crawl_run", "report", "blob", "capture", "url_state", "change",
            "coverage_mark", "figure_extraction", "report_figure", "alembic_version"} <= tables
    assert version == "0005"
    Catalogue.open(catalogue_url).close()  # a second upgrade is a no-op
    cat.close()


def test_migrations_match_the_models(catalogue_url):
    """An autogenerate against the migrated database finds nothing left to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    cat = Catalogue.open(catalogue_url)
    with cat.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    cat.close()
    assert diff == []


def test_open_without_migrate_leaves_database_empty(tmp_path):
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}", migrate=False)
    with cat.engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []


def test_sqlite_pragmas(tmp_path):
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with cat.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://x/y"])
def test_bad_catalogue_url(url):
    with pytest.raises(CatalogueURLError, match="catalogue|database URL"):
        Catalogue.open(url)


def test_timestamps_round_trip_as_aware_utc(cat):
    seen = datetime(2024, 3, 1, 9, 30, tzinfo=CST)
    rid, _ = cat.upsert_report(site_id="gd-gov", agency="A", year=2023, title="t", url="u", seen_at=seen)
    (report,) = cat.reports()
    assert report.first_seen == seen
    assert report.first_seen.utcoffset() == timedelta(0)
    assert report.first_seen.hour == 1  # 09:30 in Beijing is 01:30 UTC
    run = cat.runs()[0] if cat.runs() else None
    assert run is None
    assert cat.sites()[0].created_at.tzinfo is not None


def test_naive_datetime_is_refused(cat):
    with pytest.raises(CatalogueValueError, match="naive datetime"):
        cat.upsert_report(site_id="gd-gov", agency="A", year=2023, title="t", url="u",
                          seen_at=datetime(2024, 1, 1))


def test_run_lifecycle_counts_from_captures(cat):
    run = cat.start_run(site_id="gd-gov", config_hash="h1", software_version="0.1.0")
    r1, created1 = cat.upsert_report(site_id="gd-gov", agency="A", year=2022, title="2022年报", url="u1")
    r2, created2 = cat.upsert_report(site_id="gd-gov", agency="A", year=2023, title="2023年报", url="u2")
    assert created1 and created2
    _capture(cat, run, url="u1", sha=SHA_A, report_id=r1, is_report=True)
    _capture(cat, run, url="u2", sha=SHA_B, report_id=r2, is_report=True)
    cat.finish_run(run_id=run, outcome="ok", stats={"at": datetime.now(timezone.utc)},
                   errors={"timeout": 2}, pages=10, bytes=6)
    run2 = cat.start_run(site_id="gd-gov", config_hash="h1", software_version="0.1.0")
    _capture(cat, run2, url="u1", sha=SHA_A, report_id=r1, is_report=True)   # same bytes
    _capture(cat, run2, url="u2", sha=SHA_A, report_id=r2, is_report=True)   # new bytes
    done = cat.finish_run(run_id=run2, outcome="partial", stats={}, errors={})
    assert (done.new_reports, done.changed_reports, done.unchanged_reports) == (0, 1, 1)
    runs = cat.runs(site_id="gd-gov")
    assert [r.id for r in runs] == [run2, run]
    first = runs[1]
    assert (first.outcome, first.pages, first.bytes, first.new_reports) == ("ok", 10, 6, 2)
    assert first.errors == {"timeout": 2}
    assert isinstance(first.stats["at"], str)
    assert first.finished_at >= first.started_at
    versions = {r.url: r.versions for r in cat.reports()}
    assert versions == {"u1": 1, "u2": 2}
    assert [c.change for c in cat.captures(run_id=run2)] == ["unchanged", "changed"]
    assert len(cat.captures(report_id=r2)) == 2


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda c: c.upsert_site(site_id="x", agency="A", kind="ministry"), "kind='ministry'"),
        (lambda c: c.finish_run(run_id=1, outcome="done"), "outcome='done'"),
        (lambda c: c.finish_run(run_id=999, outcome="ok"), "no crawl run 999"),
        (lambda c: c.start_run(site_id="nope", config_hash=None, software_version=None), "no site 'nope'"),
        (lambda c: c.add_capture(site_id="gd-gov", url="u", sha256=SHA_A, size=1, storage_key="k",
                                 colour="red"), "unknown fields \\['colour'\\]"),
        (lambda c: c.add_capture(site_id="gd-gov", url="u"), "missing fields"),
        (lambda c: c.add_capture(site_id="gd-gov", url="u", sha256=SHA_A, size=1, storage_key="k",
                                 kind="video"), "kind='video'"),
        (lambda c: c.set_url_state(url="u", colour="red"), "unknown fields"),
        (lambda c: c.set_coverage_mark(agency="A", year=2020, state="done"), "state='done'"),
        (lambda c: c.changes_since(cursor=0, limit=0), "limit must be positive"),
    ],
)
def test_bad_arguments_are_named(cat, call, message):
    with pytest.raises((CatalogueValueError, UnknownRecord), match=message):
        call(cat)


def test_capture_needs_its_blob_first(cat):
    run = cat.start_run(site_id="gd-gov", config_hash=None, software_version=None)
    with pytest.raises(sa.exc.IntegrityError):
        cat.add_capture(run_id=run, site_id="gd-gov", url="u", sha256=SHA_B, size=1, storage_key="k")


def test_mark_missing_and_revival(cat):
    r1, _ = cat.upsert_report(site_id="gd-gov", agency="A", year=2021, title="t", url="u1")
    r2, _ = cat.upsert_report(site_id="gd-gov", agency="A", year=2022, title="t", url="u2")
    cat.set_url_state(url="u2", etag='"e"')
    at = datetime(2025, 1, 2, tzinfo=timezone.utc)
    assert cat.mark_missing(site_id="gd-gov", seen_urls={"u1"}, at=at) == [r2]
    assert cat.mark_missing(site_id="gd-gov", seen_urls={"u1"}, at=at) == []  # already removed
    removed = {r.url: r.removed_at for r in cat.reports()}
    assert removed == {"u1": None, "u2": at}
    assert cat.get_url_state(url="u2").missing_since == at
    rid, created = cat.upsert_report(site_id="gd-gov", agency="A", year=2022, title=None, url="u2")
    assert (rid, created) == (r2, False)
    report = next(r for r in cat.reports() if r.id == r2)
    assert report.removed_at is None and report.title == "t"  # a missing title keeps the old one
    actions = [(c["entity"], c["entity_id"], c["action"]) for c in cat.changes_since(cursor=0, limit=100)[0]]
    assert actions == [("report", r1, "created"), ("report", r2, "created"),
                       ("report", r2, "removed"), ("report", r2, "restored")]


def test_url_state_merges(cat):
    assert cat.get_url_state(url="u") is None
    cat.set_url_state(url="u", site_id="gd-gov", etag='"1"', last_status=200)
    cat.set_url_state(url="u", last_modified="Wed, 01 Jan 2025 00:00:00 GMT")
    state = cat.url_state(url="u")
    assert (state.etag, state.last_status, state.last_modified) == ('"1"', 200, "Wed, 01 Jan 2025 00:00:00 GMT")


def test_capture_refreshes_url_state(cat):
    run = cat.start_run(site_id="gd-gov", config_hash=None, software_version=None)
    _capture(cat, run, url="https://x/a.pdf", etag='"v1"', status=200)
    state = cat.get_url_state(url="https://x/a.pdf")
    assert (state.etag, state.sha256, state.last_status) == ('"v1"', SHA_A, 200)


def test_export_rows(cat, tmp_path):
    from storage.objects import open_store

    run = cat.start_run(site_id="gd-gov", config_hash=None, software_version=None)
    rid, _ = cat.upsert_report(site_id="gd-gov", agency="广州市人民政府", year=2023, title="2023年报", url="u")
    parent = _capture(cat, run, url="u", report_id=rid, is_report=True, kind="page", source_page="https://x/list")
    _capture(cat, run, url="u", sha=SHA_B, report_id=rid, parent_id=parent, kind="screenshot", rendered=True)
    store = open_store(str(tmp_path / "objects"))
    rows = cat.export_rows(store=store)
    assert [r["kind"] for r in rows] == ["page", "screenshot"]
    page = rows[0]
    assert {k: page[k] for k in ("url", "source_page", "sha256", "agency", "year", "title", "site_id",
                                 "crawl_run_id", "is_report", "rendered")} == {
        "url": "u", "source_page": "https://x/list", "sha256": SHA_A, "agency": "广州市人民政府",
        "year": 2023, "title": "2023年报", "site_id": "gd-gov", "crawl_run_id": run,
        "is_report": True, "rendered": False}
    assert page["storage_uri"] == store.uri(page["storage_key"])
    assert rows[1]["parent_id"] == parent
    assert cat.export_rows()[0]["storage_uri"] is None


def test_coverage_marks(cat):
    cat.set_coverage_mark(agency="某县档案局", year=2019, who="alice", why="merged in 2018")
    cat.set_coverage_mark(agency="某县档案局", year=2019, who="bob", why="confirmed")
    (mark,) = cat.coverage_marks()
    assert (mark.who, mark.why, mark.state) == ("bob", "confirmed", "not_applicable")
    assert cat.clear_coverage_mark(agency="某县档案局", year=2019)
    assert cat.coverage_marks() == []


def test_concurrent_record_blob_and_upsert_report(cat):
    """Many workers archiving the same bytes and the same report: no crash, one row."""
    workers = 8
    barrier = threading.Barrier(workers)

    def work(_):
        barrier.wait()
        cat.record_blob(sha256=SHA_A, size=3, storage_key="k", content_type=None)
        return cat.upsert_report(site_id="gd-gov", agency="A", year=2023, title="t", url="same-url")

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(work, range(workers)))
    assert len({rid for rid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(cat.blobs()) == 1
    assert len(cat.reports()) == 1


def test_change_feed_paging_under_concurrent_writers(cat):
    """A reader paging the feed while two threads write sees every change exactly once, in order."""
    writers, per_writer = 3, 40
    done = threading.Event()
    seen: list[int] = []
    cat.record_blob(sha256=SHA_A, size=3, storage_key="k", content_type=None)
    run = cat.start_run(site_id="gd-gov", config_hash=None, software_version=None)

    def writer(n):
        for i in range(per_writer):
            rid, _ = cat.upsert_report(site_id="gd-gov", agency="A", year=2000 + i, title="t", url=f"w{n}-{i}")
            cat.add_capture(run_id=run, site_id="gd-gov", url=f"w{n}-{i}", sha256=SHA_A, size=3,
                            storage_key="k", report_id=rid, is_report=True)

    def reader():
        cursor = 0
        while True:
            finished = done.is_set()  # read the flag before the page, so the last page is complete
            rows, cursor = cat.changes_since(cursor=cursor, limit=7)
            seen.extend(r["id"] for r in rows)
            if finished and not rows:
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    r.join(timeout=60)
    assert not r.is_alive()
    everything, _ = cat.changes_since(cursor=0, limit=10_000)
    assert len(everything) == writers * per_writer * 2
    assert seen == [c["id"] for c in everything]  # nothing skipped, nothing repeated, in order


def test_locked_sqlite_becomes_catalogue_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(db, "RETRY_ATTEMPTS", 2)
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    cat = Catalogue.open(url)
    blocker = sa.create_engine(url, connect_args={"isolation_level": None})
    with blocker.connect() as conn:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        with pytest.raises(CatalogueUnavailable, match=r"record_blob after 2 attempts.*locked"):
            cat.record_blob(sha256=SHA_A, size=1, storage_key="k", content_type=None)
        conn.exec_driver_sql("ROLLBACK")
    cat.record_blob(sha256=SHA_A, size=1, storage_key="k", content_type=None)  # free again
    assert len(cat.blobs()) == 1


def test_unreachable_postgresql_becomes_catalogue_unavailable(monkeypatch):
    import socket

    monkeypatch.setattr(db, "RETRY_ATTEMPTS", 2)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(CatalogueUnavailable, match="after 2 attempts"):
        Catalogue.open(f"postgresql://nobody:secret@127.0.0.1:{port}/nianbao")


def test_unavailable_message_hides_password(monkeypatch):
    monkeypatch.setattr(db, "RETRY_ATTEMPTS", 1)
    with pytest.raises(CatalogueUnavailable) as info:
        Catalogue.open("postgresql://nobody:hunter2@127.0.0.1:1/nianbao")
    assert "hunter2" not in str(info.value)


def test_archive_records_blob_report_capture_and_redirect_state_at_once(cat):
    run_id = cat.start_run(site_id="gd-gov", config_hash=None, software_version="t")
    key = f"sha256/aa/aa/{SHA_A}"
    capture_id, report_id = cat.archive(
        blob=dict(sha256=SHA_A, size=3, storage_key=key, content_type="application/pdf"),
        report=dict(site_id="gd-gov", agency="广东省人民政府", year=2019, title="年报",
                    url="https://x.gov.cn/nb.html"),
        redirect_state=dict(url="https://x.gov.cn/attach/a.pdf", site_id="gd-gov", etag='"e"',
                            sha256=SHA_A, last_status=200),
        capture=dict(run_id=run_id, site_id="gd-gov", kind="attachment", url="https://x.gov.cn/dl?id=1",
                     final_url="https://x.gov.cn/attach/a.pdf", sha256=SHA_A, size=3, storage_key=key,
                     etag='"e"', status=200, is_report=True))
    capture = cat.capture(capture_id=capture_id)
    assert capture.report_id == report_id and capture.change == "new"
    assert [b.sha256 for b in cat.blobs()] == [SHA_A]
    assert cat.url_state(url="https://x.gov.cn/attach/a.pdf").report_id == report_id
    assert cat.url_state(url="https://x.gov.cn/dl?id=1").etag == '"e"'
    # The same bytes again: no blob given, an unchanged capture of the same report.
    again, same_report = cat.archive(
        report=dict(site_id="gd-gov", agency="广东省人民政府", year=2019, title="年报",
                    url="https://x.gov.cn/nb.html"),
        capture=dict(run_id=run_id, site_id="gd-gov", kind="attachment", url="https://x.gov.cn/dl?id=1",
                     sha256=SHA_A, size=3, storage_key=key, is_report=True))
    assert same_report == report_id and cat.capture(capture_id=again).change == "unchanged"


def test_archive_is_all_or_nothing(cat):
    """A capture the database refuses (no such run) leaves no report and no blob behind."""
    with pytest.raises(sa.exc.IntegrityError):
        cat.archive(
            blob=dict(sha256=SHA_B, size=3, storage_key=f"sha256/bb/bb/{SHA_B}"),
            report=dict(site_id="gd-gov", agency="广东省人民政府", year=2020, title="年报",
                        url="https://x.gov.cn/nb2.html"),
            capture=dict(run_id=987654, site_id="gd-gov", kind="page", url="https://x.gov.cn/nb2.html",
                         sha256=SHA_B, size=3, storage_key=f"sha256/bb/bb/{SHA_B}", is_report=True))
    assert cat.reports() == [] and cat.blobs() == []


def test_url_state_counts_unchanged_revalidations_in_a_row(cat):
    run_id = cat.start_run(site_id="gd-gov", config_hash=None, software_version="t")
    url = "https://x.gov.cn/a.pdf"
    seen = []
    for sha in (SHA_A, SHA_A, SHA_A, SHA_B, SHA_B):
        _capture(cat, run_id, url=url, sha=sha)
        seen.append(cat.url_state(url=url).unchanged_checks)
    assert seen == [0, 1, 2, 0, 1]     # new, unchanged, unchanged, changed (reset), unchanged


def test_threads_opening_a_new_catalogue_at_once_all_succeed(tmp_path):
    """The sites of one harvest open their runs in parallel threads: the first migration of a
    fresh SQLite file must not fail the others."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    barrier = threading.Barrier(6)

    def open_one(_):
        barrier.wait()
        cat = Catalogue.open(url)
        cat.close()
        return True

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(open_one, range(6)))


def test_threads_archiving_at_once_share_transactions_and_a_refused_file_fails_alone(cat):
    """Group commit on a real database: files archived by many threads at once go in shared
    transactions; the one the database refuses (no such run) fails alone, and its neighbours
    in the same transaction are recorded all the same."""
    run_id = cat.start_run(site_id="gd-gov", config_hash=None, software_version="t")
    group = cat._archiving
    original, held = group.run_batch, threading.Event()
    sizes = []

    def run_batch(jobs):
        sizes.append(len(jobs))
        if len(sizes) == 1:
            held.wait(10)            # the first transaction is slow: the other threads queue
        return original(jobs)

    group.run_batch = run_batch

    def one(i):
        sha = f"{i:064x}"
        try:
            cat.archive(blob=dict(sha256=sha, size=1, storage_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}"),
                        capture=dict(run_id=987654 if i == 5 else run_id, site_id="gd-gov", kind="page",
                                     url=f"https://x.gov.cn/{i}.html", sha256=sha, size=1,
                                     storage_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}"))
            return "ok"
        except sa.exc.IntegrityError:
            return "refused"

    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(one, 0)]
        while not sizes:
            time.sleep(0.005)
        futures += [pool.submit(one, i) for i in range(1, 12)]
        while len(group._queue) < 11:
            time.sleep(0.005)
        held.set()
        results = [f.result(30) for f in futures]
    assert results == ["ok"] * 5 + ["refused"] + ["ok"] * 6
    assert sizes[:2] == [1, 11]
    assert sorted(c.url for c in cat.captures(run_id=run_id)) == sorted(
        f"https://x.gov.cn/{i}.html" for i in range(12) if i != 5)
    assert f"{5:064x}" not in {b.sha256 for b in cat.blobs()}


def test_the_sites_of_a_process_share_one_catalogue_per_url(tmp_path):
    url_a, url_b = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: Catalogue.shared(url_a if i % 2 else url_b), range(16)))
    assert len({id(c) for c in got[1::2]}) == 1 and len({id(c) for c in got[0::2]}) == 1
    assert got[0] is not got[1] and got[1].url.endswith("a.sqlite")
    got[1].upsert_site(site_id="s", agency="某局")
    assert [s.id for s in Catalogue.shared(url_a).sites()] == ["s"]

"""The JSON feed for parsers and the token gate, over real HTTP (uvicorn on loopback),
on SQLite and on PostgreSQL."""
from __future__ import annotations

import hashlib
import threading

import httpx
import pytest

from crawler.filenames import filename_from_disposition
from crawler.renditions import render_texts
from crawler.web import create_app
from crawler.web.security import content_disposition, token_matches
from storage.catalogue import Catalogue
from storage.objects import open_store, put_content
from tests.web_server import running

TOKEN = "t0ken-for-tests"
HTML = "<html><head><title>2023年政府信息公开工作年度报告</title></head><body><h1>某局2023年政府信息公开工作年度报告</h1><p>主动公开政府信息 44 条。</p></body></html>".encode()


@pytest.fixture
def catalogue_url(request, tmp_path):
    """SQLite unless a test asks for both (the feed's ordering is the database's business;
    the token gate and the headers are the app's)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("pg_url")


both_databases = pytest.mark.parametrize("catalogue_url", ["sqlite", "postgresql"], indirect=True)


def add_file(cat, store, *, run_id, site_id="s1", agency="某局", year=2023, url, data, ctype, filename=None):
    key, sha, size = put_content(store, data, content_type=ctype)
    cat.record_blob(sha256=sha, size=size, storage_key=key, content_type=ctype)
    rid, _ = cat.upsert_report(site_id=site_id, agency=agency, year=year, title=f"{year}年报", url=url)
    return cat.add_capture(run_id=run_id, site_id=site_id, report_id=rid, url=url, final_url=url, status=200,
                           sha256=sha, size=size, storage_key=key, content_type=ctype, filename=filename,
                           kind="attachment", is_report=True)


@pytest.fixture
def archive(catalogue_url, tmp_path):
    cat = Catalogue.open(catalogue_url)
    store = open_store((tmp_path / "objects").as_uri())
    cat.upsert_site(site_id="s1", agency="某局", kind="department", first_year=2020)
    run_id = cat.start_run(site_id="s1", config_hash=None, software_version="test")
    yield cat, store, run_id
    cat.close()


@pytest.fixture
def client(archive):
    cat, store, _ = archive
    with running(create_app(catalogue=cat, store=store, token=TOKEN)) as url:
        with httpx.Client(base_url=url, timeout=30) as c:
            yield c


@both_databases
def test_change_feed_pages_through_concurrent_writers_without_gaps_or_repeats(archive, client, catalogue_url):
    cat, store, run_id = archive
    writers, per_writer = 3, 25
    done = threading.Event()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        own = Catalogue(catalogue_url)   # its own engine, like another crawler process
        try:
            for i in range(per_writer):
                add_file(own, store, run_id=run_id, url=f"http://x.gov.cn/w{n}/{i}.html",
                         data=f"writer {n} file {i}".encode(), ctype="text/html")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    threading.Thread(target=lambda: ([t.join() for t in threads], done.set())).start()
    seen: list[int] = []
    cursor = 0
    read_while_writing = 0
    while True:
        finished = done.is_set()   # read before the request: an empty page after this is final
        page = client.get("/api/changes", params={"cursor": cursor, "limit": 7}).json()
        seen.extend(c["id"] for c in page["changes"])
        read_while_writing += bool(page["changes"]) and not finished
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if finished and not page["changes"]:
            break
    assert not errors, errors
    assert read_while_writing > 1   # the reader really raced the writers
    everything, _ = cat.changes_since(cursor=0, limit=100_000)
    assert len(everything) == writers * per_writer * 2   # report created + capture new, per file
    assert seen == [c["id"] for c in everything]          # nothing skipped, nothing repeated, in order


@both_databases
def test_reports_captures_raw_and_text(archive, client):
    cat, store, run_id = archive
    name = "惠东区2023年政府信息公开工作年度报告.html"
    cid = add_file(cat, store, run_id=run_id, url="http://x.gov.cn/nb/2023.html", data=HTML,
                   ctype="text/html; charset=utf-8", filename=name)
    reports = client.get("/api/reports", params={"site": "s1"}).json()
    assert [r["year"] for r in reports] == [2023]
    assert [c["id"] for c in reports[0]["captures"]] == [cid]
    assert client.get("/api/reports", params={"year": 2019}).json() == []

    meta = client.get(f"/api/captures/{cid}").json()
    assert meta["sha256"] == hashlib.sha256(HTML).hexdigest()
    assert "storage_key" not in meta   # clients address bytes by capture id only
    raw = client.get(f"/api/captures/{cid}/raw")
    assert raw.status_code == 200 and raw.content == HTML
    assert raw.headers["content-type"].startswith("text/html")
    assert raw.headers["content-disposition"].startswith("attachment;")
    assert filename_from_disposition(raw.headers["content-disposition"]) == name
    assert "sandbox" in raw.headers["content-security-policy"]   # archived HTML never scripts our origin
    assert raw.headers["x-content-type-options"] == "nosniff"

    assert client.get(f"/api/captures/{cid}/text").status_code == 404   # no rendition yet
    assert render_texts(cat, store) == 1
    text = client.get(f"/api/captures/{cid}/text")
    assert text.status_code == 200 and "主动公开政府信息 44 条" in text.text
    assert text.headers["content-type"].startswith("text/plain")
    children = client.get(f"/api/captures/{cid}").json()["children"]
    assert [c["kind"] for c in children] == ["text"]


def test_openapi_documents_the_feed(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/changes", "/api/reports", "/api/captures/{capture_id}", "/api/captures/{capture_id}/raw",
              "/api/captures/{capture_id}/text", "/api/marks"):
        assert p in paths, p


@pytest.mark.parametrize("limit,status", [(0, 422), (1001, 422), (-1, 422), (1000, 200)])
def test_change_feed_limit_is_bounded(client, limit, status):
    assert client.get("/api/changes", params={"cursor": 0, "limit": limit}).status_code == status


MARK = {"agency": "某局", "year": 2020, "who": "档案员", "why": "机构2021年设立"}


@pytest.mark.parametrize("method,path,kwargs", [
    ("POST", "/api/marks", {"json": MARK}),
    ("DELETE", "/api/marks", {"params": {"agency": "某局", "year": 2020}}),
    ("POST", "/api/crawl", {"json": {"sites": ["s1"]}}),
    ("POST", "/marks", {"data": {**MARK, "site": "s1"}}),
])
@pytest.mark.parametrize("headers", [{}, {"X-Nianbao-Token": "wrong"}, {"Authorization": "Bearer wrong"},
                                     {"X-Nianbao-Token": TOKEN[:-1]}, {"X-Nianbao-Token": ""}])
def test_state_changes_refuse_without_the_right_token(archive, client, method, path, kwargs, headers):
    cat = archive[0]
    cat.set_coverage_mark(agency="某局", year=2020, who="a", why="b")
    before = [(m.agency, m.year, m.who) for m in cat.coverage_marks()]
    r = client.request(method, path, headers=headers, follow_redirects=False, **kwargs)
    assert r.status_code == 403
    assert [(m.agency, m.year, m.who) for m in cat.coverage_marks()] == before
    assert [r.outcome for r in cat.runs()] == ["running"]   # no crawl started


def test_right_token_changes_state(archive, client):
    cat = archive[0]
    r = client.post("/api/marks", json=MARK, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert [(m.agency, m.year, m.who, m.why) for m in cat.coverage_marks()] == [
        ("某局", 2020, "档案员", "机构2021年设立")]
    r = client.post("/marks", data={**MARK, "site": "s1", "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303
    assert client.delete("/api/marks", params={"agency": "某局", "year": 2020},
                         headers={"X-Nianbao-Token": TOKEN}).status_code == 200
    assert cat.coverage_marks() == []
    # A crawl of a site the configuration does not know is refused even with the token.
    assert client.post("/api/crawl", json={"sites": ["../../etc"]}, headers={"X-Nianbao-Token": TOKEN},
                       ).status_code in (404, 409)


def test_without_a_configured_token_the_ui_is_read_only(archive):
    cat, store, _ = archive
    with running(create_app(catalogue=cat, store=store, token=None)) as url:
        r = httpx.post(url + "/api/marks", json=MARK, headers={"X-Nianbao-Token": ""})
        assert r.status_code == 403 and "read-only" in r.text
        assert httpx.get(url + "/").status_code == 200


def test_a_bad_storage_key_in_the_catalogue_is_not_followed(archive, client):
    cat, store, run_id = archive
    sha = "0" * 64
    cat.record_blob(sha256=sha, size=5, storage_key="../../../etc/passwd")
    cid = cat.add_capture(run_id=run_id, site_id="s1", url="http://x.gov.cn/evil", sha256=sha, size=5,
                          storage_key="../../../etc/passwd", kind="attachment")
    r = client.get(f"/api/captures/{cid}/raw")
    assert r.status_code == 500 and b"root:" not in r.content


def test_missing_bytes_answer_410(archive, client):
    cat, store, run_id = archive
    cid = add_file(cat, store, run_id=run_id, url="http://x.gov.cn/gone.pdf", data=b"%PDF-1.4 gone", ctype="application/pdf")
    store.delete(cat.captures()[-1].storage_key)
    assert client.get(f"/api/captures/{cid}/raw").status_code == 410


@pytest.mark.parametrize("configured,given,ok", [
    ("abc", "abc", True), ("abc", "abd", False), ("abc", "ab", False), ("abc", "", False),
    ("abc", None, False), (None, "abc", False), ("", "", False), ("令牌", "令牌", True),
])
def test_token_matches(configured, given, ok):
    assert token_matches(configured, given) is ok


@pytest.mark.parametrize("name,ascii_part,star_part", [
    ("2023年报告.pdf", 'filename="2023___.pdf"', "filename*=UTF-8''2023%E5%B9%B4%E6%8A%A5%E5%91%8A.pdf"),
    ("../../etc/passwd", 'filename="passwd"', "filename*=UTF-8''passwd"),
    ('a"b\r\nX-Evil: 1.pdf', 'filename="a_bX-Evil_ 1.pdf"', None),
    ("report.pdf", 'filename="report.pdf"', "filename*=UTF-8''report.pdf"),
])
def test_content_disposition(name, ascii_part, star_part):
    value = content_disposition(name)
    assert "\r" not in value and "\n" not in value
    assert ascii_part in value
    if star_part:
        assert star_part in value


def test_change_feed_names_the_publisher_of_each_report_and_file(archive, client):
    cat, store, run_id = archive
    add_file(cat, store, run_id=run_id, url="http://x.gov.cn/a.pdf", data=b"%PDF-1.4 a\n%%EOF", ctype="application/pdf")
    changes = client.get("/api/changes", params={"cursor": 0, "limit": 100}).json()["changes"]
    mine = [c for c in changes if c["entity"] in ("report", "capture")]
    assert mine and all(c["publisher_id"] is not None and c["publisher"] == "某局" for c in mine), mine
    assert all(c["printed"] == "某局" for c in mine)

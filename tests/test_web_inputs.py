"""The web UI and API against a small hand-made archive under real uvicorn: bytes are served only
when they hash right, and every bad input is a 4xx (never a 500), for the forms and the API alike.

No crawl here (tests/test_web.py has one): one site, a few captures, and damage done by hand.
"""
from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from storage.catalogue import Catalogue
from storage.objects import content_key, open_store, put_content
from tests.web_server import running

TOKEN = "correct horse battery staple"
AGENCY = "江阴区科学技术局"
BIG = 2**64


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web-inputs")
    store = open_store(str(tmp / "objects"))
    cat = Catalogue.open(f"sqlite:///{tmp / 'catalogue.sqlite'}")
    cat.upsert_site(site_id="jiangyin-kjj", agency=AGENCY)
    run = cat.start_run(site_id="jiangyin-kjj", config_hash=None, software_version=None)
    report, _ = cat.upsert_report(site_id="jiangyin-kjj", agency=AGENCY, year=2022, title="2022年报",
                                  url="http://kjj.jiangyin.gov.cn/2022.html", seen_at=None)
    ids = {}

    def add(name: str, data: bytes) -> int:
        key, sha, size = put_content(store, data, content_type="application/pdf")
        cat.record_blob(sha256=sha, size=size, storage_key=key, content_type="application/pdf")
        ids[name] = cat.add_capture(run_id=run, site_id="jiangyin-kjj", report_id=report, kind="attachment",
                                    url=f"http://kjj.jiangyin.gov.cn/{name}.pdf", sha256=sha, size=size,
                                    storage_key=key, content_type="application/pdf", filename=f"{name}.pdf")
        return ids[name]

    add("good", b"%PDF-1.4 the 2022 report")
    add("rotten", b"%PDF-1.4 the 2021 report")
    add("big", os.urandom(300_000))
    add("big-rotten", big := os.urandom(300_000))
    # Damage as a disk or a bad restore does it: same size, other bytes, under the same key.
    store.put(content_key(hashlib.sha256(b"%PDF-1.4 the 2021 report").hexdigest()), b"%PDF-1.4 the 2O21 report")
    store.put(content_key(hashlib.sha256(big).hexdigest()), big[:-1] + bytes([big[-1] ^ 1]))
    yield cat, store, ids
    cat.close()


@pytest.fixture(scope="module")
def client(archive):
    from crawler.web import create_app

    cat, store, _ = archive
    app = create_app(catalogue=cat, store=store, token=TOKEN)
    with running(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        yield c


AUTH = {"X-Nianbao-Token": TOKEN}


@pytest.mark.parametrize("prefix", ["/api/captures", "/captures"])
def test_good_bytes_are_served_with_their_hash(client, archive, prefix):
    _, _, ids = archive
    r = client.get(f"{prefix}/{ids['good']}/raw")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 the 2022 report"
    assert r.headers["X-Nianbao-SHA256"] == hashlib.sha256(r.content).hexdigest()


@pytest.mark.parametrize("prefix", ["/api/captures", "/captures"])
def test_corrupted_bytes_are_refused(client, archive, prefix):
    _, _, ids = archive
    r = client.get(f"{prefix}/{ids['rotten']}/raw")
    assert r.status_code == 502, r.text
    assert b"2O21" not in r.content and "sha256" in r.json()["detail"]


def test_objects_above_the_memory_bound_are_verified_through_a_temp_file(client, archive, monkeypatch):
    from crawler.web import app as web_app

    monkeypatch.setattr(web_app, "VERIFY_IN_MEMORY", 64 * 1024)
    _, store, ids = archive
    good = client.get(f"/api/captures/{ids['big']}/raw")
    assert good.status_code == 200 and len(good.content) == 300_000
    assert hashlib.sha256(good.content).hexdigest() == good.headers["X-Nianbao-SHA256"]
    assert client.get(f"/captures/{ids['big-rotten']}/raw").status_code == 502


@pytest.mark.parametrize("path", [
    f"/api/captures/{BIG}", f"/api/captures/{BIG}/raw", f"/api/captures/{BIG}/text",
    f"/captures/{BIG}", f"/captures/{BIG}/raw", f"/captures/{10**40}/raw",
    f"/api/changes?cursor={BIG}", f"/api/changes?cursor={10**40}", "/api/changes?cursor=-1",
    "/api/captures/0", "/api/captures/-3", f"/api/changes?limit={BIG}",
    f"/api/captures/{2**63 - 1}",                       # the largest id: not found, not an error
    f"/runs?limit={BIG}", f"/runs?limit=-{BIG}",
])
def test_huge_ids_and_cursors_are_4xx(client, path):
    r = client.get(path)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


def _form(client, **fields):
    data = {"agency": AGENCY, "year": "2015", "who": "档案员", "why": "机构尚未设立", "token": TOKEN,
            "site": "jiangyin-kjj", **fields}
    return client.post("/marks", data=data, follow_redirects=False)


def _api(client, **fields):
    body = {"agency": AGENCY, "year": 2015, "who": "档案员", "why": "机构尚未设立", **fields}
    return client.post("/api/marks", json=body, headers=AUTH)


@pytest.mark.parametrize("fields", [
    {"year": -5}, {"year": 99999}, {"year": 1989}, {"year": BIG},
    {"who": "x" * 100_000}, {"who": "x" * 201}, {"why": "y" * 2001}, {"agency": "a" * 201},
    {"agency": "不存在的机关"}, {"who": ""},
])
def test_bad_marks_are_refused_by_the_form_and_the_api_alike(client, archive, fields):
    cat, _, _ = archive
    form = _form(client, **{k: str(v) for k, v in fields.items()})
    api = _api(client, **fields)
    assert 400 <= form.status_code < 500, (fields, form.status_code)
    assert 400 <= api.status_code < 500, (fields, api.status_code)
    assert cat.coverage_marks() == []


def test_good_marks_pass_both(client, archive):
    cat, _, _ = archive
    assert _form(client).status_code == 303
    assert _api(client, year=2016).status_code == 200
    assert {m.year for m in cat.coverage_marks()} == {2015, 2016}
    assert client.delete("/api/marks", params={"agency": AGENCY, "year": -5}, headers=AUTH).status_code == 422
    for year in (2015, 2016):
        assert client.delete("/api/marks", params={"agency": AGENCY, "year": year}, headers=AUTH).status_code == 200
    assert cat.coverage_marks() == []


def test_mark_form_for_an_unknown_site_is_refused(client):
    assert _form(client, site="no-such-site").status_code == 422


@pytest.mark.parametrize("path,status", [
    ("/api/reports?year=-5", 422), ("/api/reports?year=99999", 422), (f"/api/reports?year={BIG}", 422),
    ("/api/reports?site=no-such-site", 404), ("/api/reports?agency=不存在的机关", 404),
    ("/api/coverage?site=no-such-site", 404), ("/?site=no-such-site", 404),
    ("/coverage.svg?site=no-such-site", 404), ("/runs?site=no-such-site", 404),
    (f"/?region={'r' * 1000}", 422), (f"/agency?site=jiangyin-kjj&name={'n' * 1000}", 422),
])
def test_bad_filters_are_4xx(client, path, status):
    assert client.get(path).status_code == status


def test_good_filters_still_answer(client):
    assert [r["year"] for r in client.get("/api/reports", params={"site": "jiangyin-kjj", "year": 2022}).json()] == [2022]
    assert client.get("/api/reports", params={"agency": AGENCY}).status_code == 200
    assert client.get("/", params={"site": "jiangyin-kjj"}).status_code == 200
    assert client.get("/api/changes", params={"cursor": 2**63 - 1}).json()["changes"] == []

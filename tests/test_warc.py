"""WARC archival: records validated by warcio, locations read back, revisits, rolling files,
WACZ export, replay through a real pywb, and a real Scrapy crawl through the middleware."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.objects import open_store
from storage.warc import (WarcWriter, decode_content_encoding, payload_sha256_hex, read_location,
                          read_record, sha256_digest)

VENV_BIN = Path(sys.executable).parent
T0 = datetime(2020, 5, 1, 8, 30, 0, tzinfo=timezone.utc)

PAGE = "<html><head><title>2019年政府信息公开工作年度报告</title></head><body>报告正文</body></html>".encode("utf-8")
# Incompressible, so a stored copy is plain to see in record lengths.
PDF = b"%PDF-1.4\n" + b"".join(hashlib.sha512(str(i).encode()).digest() for i in range(200)) + b"\n%%EOF\n"


def _writer(store, **kw) -> WarcWriter:
    kw.setdefault("site_id", "taicang")
    kw.setdefault("run_id", 7)
    kw.setdefault("config_hash", "abcd1234abcd1234")
    kw.setdefault("software", "nianbao/test")
    return WarcWriter(store, **kw)


def _exchange(w: WarcWriter, url: str, body: bytes, *, at: datetime = T0, status: int = 200,
              ctype: str = "text/html; charset=utf-8", **kw):
    return w.record_exchange(
        url=url, method="GET", request_headers=[("User-Agent", "nianbao-test"), ("Accept", "*/*")],
        request_body=b"", status=status, reason=None,
        response_headers=[("Content-Type", ctype), ("Content-Length", str(len(body)))],
        body=body, ip="127.0.0.1", fetched_at=at, **kw)


def _records(store, key):
    """Every record of a stored WARC file with digests checked: [(type, uri, headers, payload)]."""
    out = []
    with store.open(key) as fh:
        it = ArchiveIterator(fh, check_digests="raise")
        for rec in it:
            payload = rec.raw_stream.read()
            out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"), rec.rec_headers, payload))
            assert rec.digest_checker.passed is not False, rec.digest_checker.problems
    return out


@pytest.fixture
def store(tmp_path):
    return open_store((tmp_path / "objects").as_uri())


# --- one file, read back ----------------------------------------------------------------

def test_every_location_reads_back_its_record(store):
    w = _writer(store)
    pages = {f"http://example.gov.cn/xxgk/{i}.html": PAGE + str(i).encode() for i in range(5)}
    locs = {url: _exchange(w, url, body) for url, body in pages.items()}
    locs["http://example.gov.cn/a.pdf"] = _exchange(w, "http://example.gov.cn/a.pdf", PDF, ctype="application/pdf")
    pages["http://example.gov.cn/a.pdf"] = PDF
    keys = w.close()

    assert len(keys) == 1 and keys[0].startswith("warc/taicang/7/") and keys[0].endswith("-00001.warc.gz")
    raw = store.get(keys[0])
    for url, loc in locs.items():
        assert loc.key == keys[0] and not loc.revisit
        assert loc.payload_sha256 == hashlib.sha256(pages[url]).hexdigest()
        # The (offset, length) slice is exactly one gzip member holding one record.
        member = raw[loc.offset:loc.offset + loc.length]
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(member)
        assert d.eof and not d.unused_data
        rec, payload = read_location(store, loc)
        assert rec.rec_type == "response"
        assert rec.rec_headers.get_header("WARC-Target-URI") == url
        assert rec.rec_headers.protocol == "WARC/1.1"
        assert payload == pages[url]
        assert payload_sha256_hex(rec) == loc.payload_sha256
        # Also from a stream that cannot seek, as an S3 body is.
        rec2, payload2 = read_record(_ForwardOnly(raw), loc.offset)
        assert payload2 == payload and rec2.rec_headers == rec.rec_headers


class _ForwardOnly:
    def __init__(self, data: bytes):
        self._b = BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._b.read(n)


def test_file_validates_with_warcio_and_pairs_requests(store):
    w = _writer(store)
    _exchange(w, "http://example.gov.cn/1.html", PAGE)
    _exchange(w, "http://example.gov.cn/2.html", PAGE + b"2")
    [key] = w.close()

    records = _records(store, key)
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "response", "request"]
    info = records[0][3].decode()
    assert "software: nianbao/test" in info and "nianbao-site-id: taicang" in info
    assert "nianbao-run-id: 7" in info and "nianbao-site-config-hash: abcd1234abcd1234" in info
    for resp, req in ((records[1], records[2]), (records[3], records[4])):
        assert req[2].get_header("WARC-Concurrent-To") == resp[2].get_header("WARC-Record-ID")
        assert req[1] == resp[1]
        assert resp[2].get_header("WARC-Payload-Digest").startswith("sha256:")
        assert resp[2].get_header("WARC-Block-Digest").startswith("sha256:")
        assert resp[2].get_header("WARC-IP-Address") == "127.0.0.1"
        assert resp[2].get_header("WARC-Date") == "2020-05-01T08:30:00Z"
    assert records[2][3] == b""
    assert records[2][2].get_header("Content-Type") == "application/http; msgtype=request"

    # warcio's own checker agrees (it exits non-zero on a digest mismatch).
    local = store.uri(key).removeprefix("file://")
    done = subprocess.run([str(VENV_BIN / "warcio"), "check", "-v", local], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "digest pass" in done.stdout


def test_checker_catches_a_corrupted_payload(store, tmp_path):
    """The validation above can fail: flip a payload byte and warcio check reports it."""
    w = _writer(store)
    _exchange(w, "http://example.gov.cn/1.html", PAGE)
    [key] = w.close()
    recs = gzip.decompress(store.get(key)).replace("报告正文".encode(), "报告正反".encode())
    bad = tmp_path / "bad.warc"
    bad.write_bytes(recs)
    done = subprocess.run([str(VENV_BIN / "warcio"), "check", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0 and "digest failed" in done.stdout


def test_request_record_holds_method_target_and_host(store):
    w = _writer(store)
    w.record_exchange(url="http://example.gov.cn/search?q=年报", method="post",
                      request_headers=[("Content-Type", "application/x-www-form-urlencoded")],
                      request_body=b"q=1", status=302, reason="Found",
                      response_headers=[("Location", "/r.html")], body=b"", fetched_at=T0)
    [key] = w.close()
    _, resp, req = _records(store, key)
    assert req[2].get_header("Content-Type") == "application/http; msgtype=request"
    with store.open(key) as fh:
        recs = list(ArchiveIterator(fh))
    # http_headers of a request: verb and target in the status line, Host added as sent.
    assert recs[2].http_headers.protocol == "POST"
    assert recs[2].http_headers.get_header("Host") == "example.gov.cn"
    assert recs[1].http_headers.get_statuscode() == "302"
    assert req[3] == b"q=1"


# --- revisits ---------------------------------------------------------------------------

def test_identical_payload_becomes_a_revisit(store):
    w = _writer(store)
    first = _exchange(w, "http://example.gov.cn/a.pdf", PDF, ctype="application/pdf")
    again = _exchange(w, "http://example.gov.cn/mirror/a.pdf", PDF, ctype="application/pdf",
                      at=T0 + timedelta(minutes=1))
    # Empty bodies (redirects) are never revisits.
    e1 = _exchange(w, "http://example.gov.cn/r1", b"", status=301)
    e2 = _exchange(w, "http://example.gov.cn/r2", b"", status=301)
    [key] = w.close()

    assert not first.revisit and again.revisit and not e1.revisit and not e2.revisit
    assert again.payload_sha256 == first.payload_sha256 == hashlib.sha256(PDF).hexdigest()
    with store.open(key) as fh:
        rec, payload = read_record(fh, again.offset)
    assert rec.rec_type == "revisit"
    assert rec.rec_headers.get_header("WARC-Profile") == \
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert rec.rec_headers.get_header("WARC-Refers-To-Target-URI") == "http://example.gov.cn/a.pdf"
    assert rec.rec_headers.get_header("WARC-Refers-To-Date") == "2020-05-01T08:30:00Z"
    assert rec.rec_headers.get_header("WARC-Payload-Digest") == sha256_digest(PDF)
    assert payload == b""
    # Stored once: the PDF bytes appear in exactly one record.
    assert gzip.decompress(store.get(key)).count(PDF) == 1
    assert again.length < first.length / 4


def test_lookup_finds_payloads_already_in_the_archive(store):
    asked = []

    def lookup(sha):
        asked.append(sha)
        return ("http://old.example.gov.cn/a.pdf", T0 - timedelta(days=365)) if sha == hashlib.sha256(PDF).hexdigest() else None

    w = _writer(store, lookup=lookup)
    loc = _exchange(w, "http://example.gov.cn/a.pdf", PDF, ctype="application/pdf")
    other = _exchange(w, "http://example.gov.cn/b.html", PAGE)
    w.close()
    assert loc.revisit and not other.revisit and len(asked) == 2
    with store.open(loc.key) as fh:
        rec, _ = read_record(fh, loc.offset)
    assert rec.rec_headers.get_header("WARC-Refers-To-Target-URI") == "http://old.example.gov.cn/a.pdf"
    assert rec.rec_headers.get_header("WARC-Refers-To-Date") == "2019-05-02T08:30:00Z"


# --- rolling ----------------------------------------------------------------------------

def test_rolls_into_several_files_each_with_warcinfo(store):
    w = _writer(store, max_bytes=3000)
    locs = [_exchange(w, f"http://example.gov.cn/{i}.bin", hashlib.sha512(str(i).encode()).digest() * 40,
                      ctype="application/octet-stream") for i in range(8)]
    keys = w.close()

    assert len(keys) >= 3 and keys == sorted(set(keys))
    assert sorted(store.keys("warc/taicang/7/")) == sorted(keys)
    assert [k.rsplit("-", 1)[1] for k in keys] == [f"{i:05d}.warc.gz" for i in range(1, len(keys) + 1)]
    assert {loc.key for loc in locs} == set(keys)
    seen_responses = 0
    for key in keys:
        records = _records(store, key)
        assert records[0][0] == "warcinfo"
        assert sum(r[0] == "warcinfo" for r in records) == 1
        assert f"WARC-Filename: {key.rsplit('/', 1)[1]}" in str(records[0][2])
        seen_responses += sum(r[0] == "response" for r in records)
    assert seen_responses == 8
    for key in keys[:-1]:                         # every file but the last was closed for size
        assert store.size(key) >= 3000
    for loc in locs:
        with store.open(loc.key) as fh:
            rec, payload = read_record(fh, loc.offset)
        assert hashlib.sha256(payload).hexdigest() == loc.payload_sha256 == payload_sha256_hex(rec)
    with pytest.raises(RuntimeError):
        _exchange(w, "http://example.gov.cn/late.html", PAGE)


def test_no_file_when_nothing_written(store):
    assert _writer(store).close() == []
    assert list(store.keys("warc/")) == []


# --- rendered, encodings, digests ---------------------------------------------------------

def test_rendered_exchange_gets_a_metadata_record(store):
    w = _writer(store)
    loc = _exchange(w, "http://example.gov.cn/js.html", PAGE, rendered=True, browser="chromium 131.0")
    [key] = w.close()
    records = _records(store, key)
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "metadata"]
    meta = records[3]
    assert meta[2].get_header("WARC-Refers-To") == records[1][2].get_header("WARC-Record-ID")
    assert b"rendered-by: chromium 131.0" in meta[3]
    assert not loc.revisit


def test_decode_content_encoding():
    gz = gzip.compress(PAGE)
    headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", str(len(gz)))]
    h, body, note = decode_content_encoding(headers, gz)
    assert body == PAGE and "gzip" in note
    assert ("Content-Length", str(len(PAGE))) in h and all(k != "Content-Encoding" for k, _ in h)
    # Two gzip members, raw deflate, zlib deflate.
    assert decode_content_encoding([("Content-Encoding", "gzip")], gz + gzip.compress(b"more"))[1] == PAGE + b"more"
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    assert decode_content_encoding([("Content-Encoding", "deflate")], raw.compress(PAGE) + raw.flush())[1] == PAGE
    assert decode_content_encoding([("content-encoding", "deflate")], zlib.compress(PAGE))[1] == PAGE
    # Unknown coding, broken data, over the limit: left as transferred.
    for hdrs, data, limit in (([("Content-Encoding", "compress")], b"xx", 0),
                              ([("Content-Encoding", "gzip")], b"not gzip", 0),
                              ([("Content-Encoding", "gzip")], gzip.compress(b"0" * 100000), 1000)):
        assert decode_content_encoding(hdrs, data, max_size=limit) == (hdrs, data, None)
    assert decode_content_encoding([("Content-Type", "text/plain")], b"x") == ([("Content-Type", "text/plain")], b"x", None)


def test_transfer_encoding_dropped_with_a_note(store):
    w = _writer(store)
    w.record_exchange(url="http://example.gov.cn/c.html", method="GET", request_headers=[], request_body=b"",
                      status=200, reason="OK", response_headers=[("Transfer-Encoding", "chunked")],
                      body=PAGE, fetched_at=T0, notes=["payload decoded from Content-Encoding: gzip"])
    [key] = w.close()
    with store.open(key) as fh:
        recs = [(r, r.content_stream().read()) for r in ArchiveIterator(fh)]
    rec, content = recs[1]
    assert content == PAGE                        # not mistaken for chunked data
    assert rec.http_headers.get_header("Transfer-Encoding") is None
    assert "Transfer-Encoding header removed" in rec.rec_headers.get_header("WARC-Nianbao-Note")
    assert "Content-Encoding: gzip" in rec.rec_headers.get_header("WARC-Nianbao-Note")


def test_payload_sha256_hex_reads_base32_and_hex():
    class R:
        def __init__(self, v):
            from warcio.statusandheaders import StatusAndHeaders
            self.rec_headers = StatusAndHeaders("", [("WARC-Payload-Digest", v)] if v else [], protocol="WARC/1.1")
    sha = hashlib.sha256(PAGE).hexdigest()
    assert payload_sha256_hex(R(sha256_digest(PAGE))) == sha
    assert payload_sha256_hex(R("sha256:" + sha.upper())) == sha
    assert payload_sha256_hex(R("sha1:AAAA")) is None
    assert payload_sha256_hex(R(None)) is None


def test_naive_fetch_time_is_refused(store):
    w = _writer(store)
    with pytest.raises(ValueError):
        _exchange(w, "http://example.gov.cn/x", PAGE, at=datetime(2020, 1, 1))
    w.close()


# --- WACZ -------------------------------------------------------------------------------

def test_export_wacz_packages_the_warcs(store, tmp_path):
    from storage.wacz import export_wacz, warc_keys

    w = _writer(store, max_bytes=2000)
    for i in range(4):
        _exchange(w, f"http://example.gov.cn/{i}.html", PAGE + hashlib.sha512(str(i).encode()).digest() * 20)
    keys = w.close()
    assert warc_keys(store, site_id="taicang") == keys == warc_keys(store, site_id="taicang", run_id=7)
    assert warc_keys(store, site_id="taicang", run_id=8) == []

    out = export_wacz(store, keys=keys, output=tmp_path / "out" / "taicang.wacz", title="太仓 run 7")
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        package = json.loads(z.read("datapackage.json"))
        archived = [n for n in names if n.startswith("archive/")]
        assert len(archived) == len(keys)
        for name in archived:
            assert any(z.read(name) == store.get(k) for k in keys)
        assert any(n.startswith("indexes/") for n in names)
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()]
    assert pages[0]["format"] == "json-pages-1.0"
    assert sorted(p["url"] for p in pages[1:]) == [f"http://example.gov.cn/{i}.html" for i in range(4)]
    assert all(p["ts"] == "2020-05-01T08:30:00Z" for p in pages[1:]), pages
    assert package["title"] == "太仓 run 7"
    by_path = {r["path"]: r for r in package["resources"]}
    for name in archived:
        with zipfile.ZipFile(out) as z:
            assert by_path[name]["hash"] == "sha256:" + hashlib.sha256(z.read(name)).hexdigest()
    with pytest.raises(ValueError):
        export_wacz(store, keys=[], output=tmp_path / "empty.wacz", title="x")


# --- replay through pywb ------------------------------------------------------------------

def _pywb_bin() -> Path | None:
    """pywb pins redis<3 and an old cryptography, so it lives in its own venv (.venv-pywb)."""
    import os
    import shutil
    for candidate in (os.environ.get("NIANBAO_PYWB_BIN"), str(Path(__file__).parents[1] / ".venv-pywb" / "bin"),
                      str(Path(shutil.which("wayback") or "/nonexistent").parent)):
        if candidate and (Path(candidate) / "wayback").exists() and (Path(candidate) / "wb-manager").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def pywb_bin():
    import os
    found = _pywb_bin()
    if found is None:
        msg = "pywb not installed: python -m venv .venv-pywb && .venv-pywb/bin/pip install 'pywb>=2.8,<2.11'"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return found


@pytest.mark.timeout(120)
def test_pywb_replays_archived_bytes_from_the_wacz(store, tmp_path, pywb_bin):
    import time
    from storage.wacz import export_wacz

    article = "<html><head><meta charset=utf-8><title>太仓市2019年政府信息公开工作年度报告</title></head>" \
              "<body><h1>太仓市2019年政府信息公开工作年度报告</h1><p>一、总体情况</p></body></html>"
    article = article.encode("utf-8")
    w = _writer(store, max_bytes=4000)
    _exchange(w, "http://example.gov.cn/xxgk/2020/page.html", article)
    _exchange(w, "http://example.gov.cn/xxgk/a.pdf", PDF, ctype="application/pdf")
    mirror = _exchange(w, "http://example.gov.cn/mirror/a.pdf", PDF, ctype="application/pdf",
                       at=T0 + timedelta(hours=1))
    assert mirror.revisit
    keys = w.close()
    wacz = export_wacz(store, keys=keys, output=tmp_path / "site.wacz", title="replay test")

    root = tmp_path / "pywb"
    root.mkdir()
    for args in (["init", "nianbao"], ["add", "--unpack-wacz", "nianbao", str(wacz)]):
        done = subprocess.run([str(pywb_bin / "wb-manager"), *args], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    server = subprocess.Popen([str(pywb_bin / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}/nianbao"
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode(errors="replace")
                assert time.monotonic() < deadline, "pywb did not start"
                time.sleep(0.3)
        status, headers, body = _get(f"{base}/20200501083000id_/http://example.gov.cn/xxgk/2020/page.html")
        assert status == 200 and body == article
        # The revisit replays the original payload.
        status, _, body = _get(f"{base}/20200501093000id_/http://example.gov.cn/mirror/a.pdf")
        assert status == 200 and body == PDF
        # And something never archived is not invented.
        status, _, _ = _get(f"{base}/20200501083000id_/http://example.gov.cn/never.html")
        assert status == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- a real Scrapy crawl through the middleware -------------------------------------------

SITE_FILES = {
    "/index.html": (b'<html><body><a href="/report.html">2019\xe5\xb9\xb4\xe6\x8a\xa5</a> <a href="/old">old</a>'
                    b' <a href="/a.pdf">pdf</a> <a href="/copy/a.pdf">copy</a></body></html>', "text/html"),
    "/report.html": (PAGE, "text/html; charset=utf-8"),
    "/a.pdf": (PDF, "application/pdf"),
    "/copy/a.pdf": (PDF, "application/pdf"),
}


def _serve_site():
    """A tiny site on 127.0.0.1: gzip when asked, a redirect, the same PDF under two URLs."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/old":
                self.send_response(301)
                self.send_header("Location", "/report.html")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path not in SITE_FILES:
                self.send_error(404)
                return
            body, ctype = SITE_FILES[self.path]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            if "gzip" in self.headers.get("Accept-Encoding", "") and ctype.startswith("text/"):
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _crawl_main(start_url: str, store_url: str, out: str) -> None:
    """Run in a subprocess (a Twisted reactor starts once per process): crawl, note what the
    spider saw and where the middleware put it."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.siteconfig import parse_site

    seen = []

    class Spider(scrapy.Spider):
        name = "warctest"

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.site = parse_site({"id": "local", "agency": "测试", "start_urls": [start_url]})
            self.run_id = 42

        async def start(self):
            yield scrapy.Request(start_url)

        def parse(self, response):
            seen.append({"url": response.url, "status": response.status,
                         "sha256": hashlib.sha256(response.body).hexdigest(),
                         "redirects": response.meta.get("redirect_urls", []),
                         "warc": response.meta.get("nianbao_warc")})
            if response.url.endswith("index.html"):
                yield from response.follow_all(css="a", callback=self.parse)

    process = CrawlerProcess({
        "NIANBAO_WARC": True, "NIANBAO_STORE": store_url, "ROBOTSTXT_OBEY": True,
        "DOWNLOADER_MIDDLEWARES": {"crawler.warcmiddleware.WarcMiddleware": 950},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
    })
    crawler = process.create_crawler(Spider)
    process.crawl(crawler)
    process.start()
    Path(out).write_text(json.dumps({"seen": seen, "stats": {k: v for k, v in crawler.stats.get_stats().items()
                                                             if k.startswith("nianbao/")}}))


@pytest.mark.timeout(120)
def test_scrapy_crawl_writes_every_exchange(store, tmp_path):
    server = _serve_site()
    host = f"127.0.0.1:{server.server_address[1]}"
    out = tmp_path / "seen.json"
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from tests.test_warc import _crawl_main; _crawl_main(*sys.argv[1:])",
             f"http://{host}/index.html", store.url, str(out)],
            cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=100)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    seen, stats = result["seen"], result["stats"]
    assert stats.get("nianbao/warc/errors") is None, done.stderr[-3000:]
    assert stats.get("nianbao/warc/files") == 1, (stats, done.stderr[-3000:])

    [key] = list(store.keys("warc/local/42/"))
    records = _records(store, key)
    assert records[0][0] == "warcinfo" and b"nianbao-site-id: local" in records[0][3]
    responses = {}
    for rtype, uri, headers, payload in records[1:]:
        if rtype in ("response", "revisit"):
            responses[uri] = (rtype, headers, payload)
    requests = [uri for rtype, uri, _, _ in records if rtype == "request"]
    # One request per response, robots.txt (a 404) and the redirect included.
    assert sorted(requests) == sorted(responses)
    base = f"http://{host}"
    assert set(responses) == {f"{base}/robots.txt", f"{base}/index.html", f"{base}/report.html",
                              f"{base}/old", f"{base}/a.pdf", f"{base}/copy/a.pdf"}
    assert responses[f"{base}/old"][1].get_header("WARC-Type") == "response"
    assert sorted(r for r, *_ in responses.values()).count("revisit") == 1

    # What the spider got is what the WARC holds, at the location the middleware gave it.
    by_url = {s["url"]: s for s in seen}
    assert set(by_url) == {f"{base}/index.html", f"{base}/report.html", f"{base}/a.pdf", f"{base}/copy/a.pdf"}
    assert by_url[f"{base}/report.html"]["sha256"] == hashlib.sha256(PAGE).hexdigest()
    for s in seen:
        loc = s["warc"]
        assert loc["key"] == key and loc["payload_sha256"] == s["sha256"]
        rec, payload = read_location(store, loc)
        assert payload_sha256_hex(rec) == s["sha256"]
        if not loc["revisit"]:
            assert hashlib.sha256(payload).hexdigest() == s["sha256"]
            assert rec.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    # The gzip-encoded page was archived decoded, and says so.
    _, headers, payload = responses[f"{base}/index.html"]
    assert payload == SITE_FILES["/index.html"][0]
    assert "Content-Encoding: gzip" in headers.get_header("WARC-Nianbao-Note")


# --- the middleware in process ------------------------------------------------------------

def _mw_crawler(settings: dict, spider=None):
    from scrapy.utils.test import get_crawler
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = spider
    return crawler


def _site_spider(run_id=5):
    import scrapy

    from crawler.siteconfig import parse_site
    spider = scrapy.Spider(name="s")
    spider.site = parse_site({"id": "mw-site", "agency": "测试", "start_urls": ["http://example.gov.cn/"]})
    if run_id is not None:
        spider.run_id = run_id
    return spider


def test_middleware_is_off_unless_asked():
    from scrapy.exceptions import NotConfigured

    from crawler.warcmiddleware import WarcMiddleware
    for settings in ({}, {"NIANBAO_WARC": False}):
        with pytest.raises(NotConfigured):
            WarcMiddleware.from_crawler(_mw_crawler(settings))


def test_middleware_records_a_rendered_page_without_our_secrets(store):
    from scrapy.http import HtmlResponse, Request

    from crawler.warcmiddleware import WarcMiddleware
    spider = _site_spider(run_id=None)            # no ArchivePipeline: run 0
    crawler = _mw_crawler({"NIANBAO_WARC": True, "NIANBAO_STORE": store.url}, spider)
    mw = WarcMiddleware.from_crawler(crawler)
    request = Request("http://example.gov.cn/js.html", meta={"playwright": True, "nianbao_browser": "chromium 131"},
                      headers={"Proxy-Authorization": "Basic c2VjcmV0", "Accept-Language": "zh-CN"})
    # The browser hands back a decoded document while the headers still say gzip.
    response = HtmlResponse(request.url, status=200, body=PAGE, request=request, flags=["playwright"],
                            headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    assert mw.process_response(request, response) is response
    cached = HtmlResponse("http://example.gov.cn/c.html", body=b"x", flags=["cached"],
                          request=Request("http://example.gov.cn/c.html"))
    mw.process_response(cached.request, cached)
    mw.spider_closed(spider, "finished")

    loc = request.meta["nianbao_warc"]
    assert loc["key"].startswith("warc/mw-site/0/") and loc["revisit"] is False
    assert "nianbao_warc" not in cached.request.meta
    records = _records(store, loc["key"])
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "metadata"]
    assert b"rendered-by: chromium 131" in records[3][3]
    assert records[1][3] == PAGE
    assert "browser-rendered" in records[1][2].get_header("WARC-Nianbao-Note")
    with store.open(loc["key"]) as fh:
        recs = list(ArchiveIterator(fh))
    assert recs[1].http_headers.get_header("Content-Encoding") is None
    assert recs[2].http_headers.get_header("Proxy-Authorization") is None
    assert recs[2].http_headers.get_header("Accept-Language") == "zh-CN"
    assert crawler.stats.get_value("nianbao/warc/files") == 1
    assert crawler.stats.get_value("nianbao/warc/responses") == 1


def test_middleware_failure_never_breaks_the_crawl(store, caplog):
    import scrapy
    from scrapy.http import Request, Response

    from crawler.warcmiddleware import WarcMiddleware
    broken = scrapy.Spider(name="no-site")        # no .site: every write fails
    crawler = _mw_crawler({"NIANBAO_WARC": True, "NIANBAO_STORE": store.url}, broken)
    mw = WarcMiddleware.from_crawler(crawler)
    for i in range(3):
        request = Request(f"http://example.gov.cn/{i}", meta={"nianbao_warc": {"key": "stale, from a redirect"}})
        response = Response(request.url, body=b"ok", request=request)
        assert mw.process_response(request, response) is response
        assert "nianbao_warc" not in request.meta
    mw.spider_closed(broken, "finished")
    assert crawler.stats.get_value("nianbao/warc/errors") == 3
    assert sum("WARC write" in r.getMessage() for r in caplog.records) == 1
    assert list(store.keys("warc/")) == []


def test_failed_upload_keeps_the_local_warc(tmp_path):
    root = tmp_path / "objects"
    root.mkdir()
    (root / "warc").write_bytes(b"a file where the warc/ directory should be")
    store = open_store(root.as_uri())
    spool = tmp_path / "spool"
    spool.mkdir()
    w = _writer(store, tmp_dir=spool)
    _exchange(w, "http://example.gov.cn/1.html", PAGE)
    with pytest.raises(OSError) as exc:
        w.close()
    [kept] = list(spool.iterdir())
    assert str(kept) in str(exc.value)
    with open(kept, "rb") as fh:
        types = [r.rec_type for r in ArchiveIterator(fh, check_digests="raise")]
    assert types == ["warcinfo", "response", "request"]


def test_uploaded_files_leave_no_local_copies(store, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    w = _writer(store, tmp_dir=spool, max_bytes=1000)
    for i in range(3):
        _exchange(w, f"http://example.gov.cn/{i}.pdf", PDF + bytes([i]), ctype="application/pdf")
        assert len(list(spool.iterdir())) == 0     # each passed max_bytes: uploaded at once
    assert len(w.close()) == 3


def test_warcs_in_s3_read_back_and_export(s3_url, tmp_path):
    """Against SeaweedFS: uploads through boto3, reads at offsets from a non-seekable S3 body."""
    from storage.wacz import export_wacz, warc_keys

    s3 = open_store(s3_url)
    w = _writer(s3, max_bytes=5000)
    locs = [_exchange(w, f"http://example.gov.cn/{i}.pdf", PDF + bytes([i]), ctype="application/pdf")
            for i in range(3)]
    keys = w.close()
    assert warc_keys(s3, site_id="taicang", run_id=7) == keys and len(keys) == 3
    for i, loc in enumerate(locs):
        rec, payload = read_location(s3, loc)
        assert payload == PDF + bytes([i]) and payload_sha256_hex(rec) == loc.payload_sha256
    out = export_wacz(s3, keys=keys, output=tmp_path / "s3.wacz", title="s3")
    with zipfile.ZipFile(out) as z:
        assert len([n for n in z.namelist() if n.startswith("archive/")]) == 3

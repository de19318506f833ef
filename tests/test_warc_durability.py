"""WARC records survive their writer: spooled beside the archive, fsynced before a capture can
name them, uploaded on every way out, and recovered by the next start after a SIGKILL or a store
that stayed down (storage/warcspool.py, storage/warc.py, crawler/warcmiddleware.py)."""
from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import simulator
from crawler import env
from storage.objects import open_store
from storage.warc import WarcUploadError, WarcWriter, read_location
from storage.warcspool import complete_length, key_from_spool_name, recover_spool, spool_name
from tests.harness import REPO, nianbao, write_sites

T0 = datetime(2020, 5, 1, 8, 30, tzinfo=timezone.utc)
PAGE = "<html><head><title>2019年政府信息公开工作年度报告</title></head><body>正文</body></html>".encode()


def _writer(store, spool, **kw) -> WarcWriter:
    return WarcWriter(store, site_id="taicang", run_id=7, config_hash="abcd", software="nianbao/test",
                      spool_dir=spool, **kw)


def _exchange(w: WarcWriter, url: str, body: bytes):
    return w.record_exchange(url=url, method="GET", request_headers=[("Accept", "*/*")], request_body=b"",
                             status=200, reason=None, response_headers=[("Content-Type", "text/html")],
                             body=body, fetched_at=T0)


# --- (a) a writer SIGKILLed mid-file ------------------------------------------------------

CHILD = """
import json, sys, time
from datetime import datetime, timezone
from storage.objects import open_store
from tests.test_warc_durability import _exchange, _writer
store = open_store(sys.argv[1])
w = _writer(store, sys.argv[2])
for i in range(int(sys.argv[3])):
    url = f"http://example.gov.cn/{i}.html"
    loc = _exchange(w, url, b"<html>%d</html>" % i * 50)
    w.sync(loc)                      # what the middleware waits for before the spider sees it
    print(json.dumps({"url": url, "key": loc.key, "offset": loc.offset, "length": loc.length}), flush=True)
print("ready", flush=True)
time.sleep(600)
"""


def _kill_writer_mid_file(store_url: str, spool: Path, n: int = 20) -> list[dict]:
    """Run a writer in a child, let it write n synced exchanges, SIGKILL it; return the
    locations it handed out (what captures would name)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, store_url, str(spool), str(n)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    locs = []
    try:
        for line in proc.stdout:
            if line.strip() == "ready":
                break
            locs.append(json.loads(line))
        assert len(locs) == n, proc.stderr.read() if proc.poll() is not None else "child stopped early"
        # While the writer lives, a recovery leaves its file alone (the writer's flock).
        live = recover_spool(open_store(store_url), spool)
        assert live.busy == [locs[0]["key"]] and not live.uploaded
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return locs


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["file", "s3"])
def test_sigkilled_writer_is_recovered_and_every_named_record_reads(backend, tmp_path, request):
    data = tmp_path / "data"
    if backend == "s3":
        store_url = request.getfixturevalue("s3_url")
        request.getfixturevalue("monkeypatch").setenv("NIANBAO_DATA", str(data))  # an S3 store's spool root
        spool = spool_root = env.warc_spool_dir(store_url)
        assert str(spool).startswith(str(data.resolve()))
    else:
        store_url = (data / "objects").as_uri()
        spool = env.warc_spool_dir(store_url)
        spool_root = data / "spool"
    # Beside the archive, never in the system temp directory.
    assert spool.resolve().is_relative_to(spool_root.resolve())
    locs = _kill_writer_mid_file(store_url, spool)
    store = open_store(store_url)
    key = locs[0]["key"]
    assert {loc["key"] for loc in locs} == {key}
    assert not store.exists(key)                     # before recovery the captures point nowhere
    [left] = list(spool.iterdir())
    assert key_from_spool_name(left.name) == key     # the name says which key it becomes
    # The write the kill interrupted: half of a next record's gzip member.
    torn = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(4000))
    with open(left, "ab") as fh:
        fh.write(torn[: len(torn) // 2])

    result = recover_spool(store, spool)
    assert result.uploaded == [key] and result.cut == {key: len(torn) // 2} and not result.failed
    assert list(spool.iterdir()) == []
    for loc in locs:
        rec, payload = read_location(store, loc)
        assert rec.rec_headers.get_header("WARC-Target-URI") == loc["url"]
        assert payload == b"<html>%d</html>" % int(loc["url"].rsplit("/", 1)[1].split(".")[0]) * 50
    # Idempotent: nothing left, nothing done.
    assert not recover_spool(store, spool)


def test_complete_length_stops_at_the_last_whole_member(tmp_path):
    members = [gzip.compress(b"record %d " % i * 100) for i in range(3)]
    path = tmp_path / "f"
    path.write_bytes(b"".join(members) + members[0][:7])
    with open(path, "rb") as fh:
        assert complete_length(fh) == sum(map(len, members))
    path.write_bytes(b"".join(members) + b"\0" * 4096)       # zeroes after a power loss
    with open(path, "rb") as fh:
        assert complete_length(fh) == sum(map(len, members))
    path.write_bytes(members[0][:-1])
    with open(path, "rb") as fh:
        assert complete_length(fh) == 0


# --- (b) a store down at close ------------------------------------------------------------

def _blocked_store(tmp_path) -> tuple:
    """A filesystem store whose warc/ directory cannot be made (a file stands in its place)."""
    root = tmp_path / "data" / "objects"
    root.mkdir(parents=True)
    (root / "warc").write_bytes(b"in the way")
    return open_store(root.as_uri()), root / "warc"


def test_store_down_at_close_keeps_the_spool_and_the_next_start_uploads_it(tmp_path, caplog):
    from tests.test_warc import _mw_crawler, _site_spider
    from crawler.warcmiddleware import WarcMiddleware
    from scrapy.http import HtmlResponse, Request

    store, blocker = _blocked_store(tmp_path)
    spider = _site_spider(run_id=3)
    mw = WarcMiddleware.from_crawler(_mw_crawler({"NIANBAO_WARC": True, "NIANBAO_STORE": store.url}, spider))
    mw.spider_opened(spider)
    request = Request("http://example.gov.cn/report.html")
    response = HtmlResponse(request.url, body=PAGE, request=request, headers={"Content-Type": "text/html"})
    assert mw.process_response(request, response) is response
    loc = request.meta["nianbao_warc"]
    with caplog.at_level(logging.ERROR):
        mw.spider_closed(spider, "finished")
    # One line, no traceback; the file is still there, next to the archive.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None and "\n" not in errors[0].getMessage()
    assert "kept in" in errors[0].getMessage()
    assert mw.stats.get_value("nianbao/warc/upload_failed") == 1
    spool = mw.spool_dir
    assert spool.is_relative_to(tmp_path / "data" / "spool")
    assert [p.name for p in spool.iterdir()] == [spool_name(loc["key"])]

    blocker.unlink()                                   # the store is back
    spider2 = _site_spider(run_id=4)
    mw2 = WarcMiddleware.from_crawler(_mw_crawler({"NIANBAO_WARC": True, "NIANBAO_STORE": store.url}, spider2))
    mw2.spider_opened(spider2)
    assert mw2.stats.get_value("nianbao/warc/recovered") == 1
    assert list(spool.iterdir()) == []
    rec, payload = read_location(store, loc)
    assert rec.rec_headers.get_header("WARC-Target-URI") == request.url and payload == PAGE


def test_writer_close_failure_is_one_line_and_keeps_the_file(tmp_path):
    store, blocker = _blocked_store(tmp_path)
    spool = tmp_path / "data" / "spool" / "x"
    w = _writer(store, spool, max_bytes=500)             # every exchange rolls: uploads fail mid-crawl too
    locs = [_exchange(w, f"http://example.gov.cn/{i}.html", PAGE * 3) for i in range(3)]
    with pytest.raises(WarcUploadError) as exc:
        w.close()
    assert "\n" not in str(exc.value) and "3 WARC file(s)" in str(exc.value)
    assert len(list(spool.iterdir())) == 3
    blocker.unlink()
    assert len(recover_spool(store, spool).uploaded) == 3
    for i, loc in enumerate(locs):
        assert read_location(store, loc)[0].rec_headers.get_header("WARC-Target-URI").endswith(f"/{i}.html")


class _Forwarder:
    """A TCP forwarder in front of SeaweedFS's S3 port, stopped and restarted on the same port:
    an S3 endpoint that goes down and comes back (the session's SeaweedFS is shared)."""

    def __init__(self, target: str):
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = None
        self.open: set[socket.socket] = set()

    def start(self):
        target, live = self.target, self.open

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(target)
                live.update((self.request, upstream))
                pipes = [threading.Thread(target=_pipe, args=(a, b), daemon=True)
                         for a, b in ((self.request, upstream), (upstream, self.request))]
                for t in pipes:
                    t.start()
                for t in pipes:
                    t.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        for s in list(self.open):          # kept-alive connections go down with it
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.open.clear()


def _pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.mark.timeout(120)
def test_s3_down_at_close_then_back_at_next_start(s3_url, s3_env, tmp_path, monkeypatch):
    forwarder = _Forwarder(s3_env.endpoint).start()
    url = s3_url.replace(s3_env.endpoint, f"http://127.0.0.1:{forwarder.port}")
    monkeypatch.setenv("NIANBAO_SPOOL", str(tmp_path / "spool"))
    spool = env.warc_spool_dir(url)
    store = open_store(url)
    w = _writer(store, spool)
    locs = [_exchange(w, f"http://example.gov.cn/{i}.html", PAGE + bytes([i])) for i in range(5)]
    forwarder.stop()
    with pytest.raises(WarcUploadError):
        w.close()
    assert [key_from_spool_name(p.name) for p in spool.iterdir()] == [locs[0].key]
    failed = recover_spool(store, spool)                  # still down: kept, one line, no raise
    assert list(failed.failed) == [locs[0].key] and "\n" not in failed.failed[locs[0].key]
    forwarder.start()
    try:
        assert recover_spool(open_store(url), env.warc_spool_dir(url)).uploaded == [locs[0].key]
        for i, loc in enumerate(locs):
            rec, payload = read_location(store, loc)
            assert payload == PAGE + bytes([i])
    finally:
        forwarder.stop()


# --- (c) a real crawl SIGKILLed, then run again ------------------------------------------

def _captures(catalogue_url: str) -> list[tuple]:
    path = catalogue_url.removeprefix("sqlite:///")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT url, final_url, warc_key, warc_offset FROM capture").fetchall()
    except sqlite3.Error:
        return []


@pytest.mark.timeout(600)
def test_crawl_sigkilled_mid_run_then_rerun_every_capture_names_a_stored_record(tmp_path):
    world = simulator.World(seed=0, size="tiny")
    data = tmp_path / "data"
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static", "trs"},
                overrides={"politeness": {"delay": 0.05, "concurrency": 1}})
    with simulator.serve(world) as server:
        args = ["crawl", "--all", "--sites-dir", str(sites), "--proxy", server.proxy_url, "--render", "never",
                "--catalogue", catalogue_url, "--store", store_url]
        proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 180
            while sum(1 for c in _captures(catalogue_url) if c[2]) < 10:
                assert proc.poll() is None, "the crawl finished before it could be killed"
                assert time.monotonic() < deadline, "no captures within 180 s"
                time.sleep(0.3)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        store = open_store(store_url)
        spool = env.warc_spool_dir(store_url)
        killed = [c for c in _captures(catalogue_url) if c[2]]
        # Cut short: the records its captures name are in the spool beside the archive, not in the store.
        assert spool.is_relative_to(data / "spool") and any(spool.iterdir())
        assert any(not store.exists(key) for _, _, key, _ in killed)
        rerun = nianbao(*args, timeout=500)
    # The resumed run pays what the killed one owed (storage/owed.py) and ends whole.
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "Traceback" not in rerun.stderr
    captures = [c for c in _captures(catalogue_url) if c[2]]
    assert len(captures) > len(killed) and set(killed) <= set(captures)
    for url, final_url, key, offset in captures:
        assert store.exists(key), f"capture of {url} names {key}, not in the store"
        rec, _ = read_location(store, {"key": key, "offset": offset})
        assert rec.rec_headers.get_header("WARC-Target-URI") in (url, final_url)
        assert rec.rec_type in ("response", "revisit")
    assert not any(spool.iterdir()) if spool.exists() else True


# --- the other ways out: an exception out of the program, a double Ctrl-C -------------------

def test_writer_left_open_by_an_exception_is_uploaded_at_exit(tmp_path):
    store_url = (tmp_path / "data" / "objects").as_uri()
    spool = env.warc_spool_dir(store_url)
    code = ("import sys\nfrom storage.objects import open_store\n"
            "from tests.test_warc_durability import _exchange, _writer\n"
            "w = _writer(open_store(sys.argv[1]), sys.argv[2])\n"
            "print(_exchange(w, 'http://example.gov.cn/x.html', b'x' * 999).key, flush=True)\n"
            "raise RuntimeError('the crawl blew up')\n")
    done = subprocess.run([sys.executable, "-c", code, store_url, str(spool)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "the crawl blew up" in done.stderr
    key = done.stdout.strip()
    assert open_store(store_url).exists(key) and list(spool.iterdir()) == []


@pytest.mark.timeout(300)
def test_crawl_stopped_by_a_double_ctrl_c_leaves_every_capture_readable(tmp_path):
    world = simulator.World(seed=0, size="tiny")
    data = tmp_path / "data"
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static", "trs"},
                overrides={"politeness": {"delay": 0.05, "concurrency": 1}})
    with simulator.serve(world) as server:
        args = ["crawl", "--all", "--sites-dir", str(sites), "--proxy", server.proxy_url, "--render", "never",
                "--catalogue", catalogue_url, "--store", store_url]
        proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 180
            while sum(1 for c in _captures(catalogue_url) if c[2]) < 10:
                assert proc.poll() is None, "the crawl finished before it could be stopped"
                assert time.monotonic() < deadline, "no captures within 180 s"
                time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            time.sleep(0.02)
            proc.send_signal(signal.SIGINT)              # the impatient second one: forced stop
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    captures = [c for c in _captures(catalogue_url) if c[2]]
    store = open_store(store_url)
    assert captures
    for url, final_url, key, offset in captures:
        assert store.exists(key), f"capture of {url} names {key}, not in the store\n{stderr[-2000:]}"
        rec, _ = read_location(store, {"key": key, "offset": offset})
        assert rec.rec_headers.get_header("WARC-Target-URI") in (url, final_url)
    spool = env.warc_spool_dir(store_url)
    assert not spool.exists() or list(spool.iterdir()) == []

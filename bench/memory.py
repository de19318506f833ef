"""Peak memory (RSS) of one worker whose frontier holds 100,000 URLs.

A loopback portal's start page links 100,000 disclosure pages; every other page stalls, so the
downloader stays full and the spider's requests wait in the scheduler. `nianbao crawl` runs in a
subprocess with a probe extension (bench.probe) that samples the scheduler's length and the
process's RSS, writes them down once the frontier is full, and closes the spider.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
FRONTIER = 100_000
TARGET_MB = 300


def _start_page(n: int) -> bytes:
    rows = b"".join(b'<li><a href="/xxgk/p%d.html">\xe4\xbf\xa1\xe6\x81\xaf\xe5\x85\xac\xe5\xbc\x80 %d</a></li>' % (i, i)
                    for i in range(n))   # 信息公开 N: worth following for the focused crawl
    return b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>list</title></head><body><ul>" + rows + b"</ul></body></html>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/":
            body = self.server.page
        elif self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        else:
            self.server.release.wait(120)     # stall: the downloader stays full, the frontier waits
            body = b"<html><body>x</body></html>"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True    # the measured crawler has closed: expected


def run(frontier: int = FRONTIER) -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.page = _start_page(frontier)
    server.release = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-mem-"))
    sites = tmp / "sites"
    sites.mkdir()
    site = {"id": "frontier", "agency": "测试市人民政府", "start_urls": [f"http://{host}/"], "allowed_hosts": [host],
            "render": "never", "politeness": {"delay": 0, "concurrency": 2},
            "budget": {"max_pages": frontier * 2, "max_depth": 3}}
    (sites / "frontier.yaml").write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    out = tmp / "probe.json"
    code = (
        "import runpy, sys\n"
        "import crawler.settings as s\n"
        "s.EXTENSIONS = dict(s.EXTENSIONS, **{'bench.probe.FrontierProbe': 900})\n"
        f"s.BENCH_PROBE_OUT = {str(out)!r}\n"
        f"s.BENCH_PROBE_FRONTIER = {frontier}\n"
        "sys.argv = ['nianbao', 'crawl', '--all', '--sites-dir', %r, '--catalogue', %r, '--store', %r]\n"
        "runpy.run_module('crawler.cli', run_name='__main__')\n"
    ) % (str(sites), f"sqlite:///{tmp / 'catalogue.sqlite'}", (tmp / "objects").as_uri())
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 900
        while proc.poll() is None and time.monotonic() < deadline:
            if out.exists():
                server.release.set()         # measured: let the stalled downloads finish so it can close
            time.sleep(0.5)
        _, stderr = proc.communicate(timeout=120)
    finally:
        server.release.set()
        if proc.poll() is None:
            proc.kill()
        server.shutdown()
    if not out.exists():
        raise RuntimeError(f"the probe wrote nothing: {stderr[-2000:]}")
    probe = json.loads(out.read_text())
    peak = probe["peak_rss_mb"]
    return {"frontier": probe["frontier"], "peak_rss_mb": peak, "idle_rss_mb": probe["idle_rss_mb"],
            "rss_with_full_frontier_mb": probe["rss_mb"],
            "per_queued_request_kb": round((probe["rss_mb"] - probe["idle_rss_mb"]) * 1024 / max(1, probe["frontier"]), 2),
            "target_mb": TARGET_MB, "ratio": round(peak / TARGET_MB, 3), "seconds_to_fill": probe["seconds"]}

"""Peak memory (RSS) of one worker whose frontier holds 100,000 URLs.

A loopback portal's start page links 10 list pages of 10,000 disclosure pages each (the crawler reads
at most crawler.cms.page.MAX_LINKS_PER_PAGE links a page); every other page stalls, so the
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


LISTS = 10      # the frontier comes from 10 list pages: crawler.cms caps the links read per page


def _page(links: list[tuple[str, str]]) -> bytes:
    rows = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>list</title></head><body><ul>{rows}</ul></body></html>".encode()


def _pages(n: int) -> dict[str, bytes]:
    """The start page links LISTS list pages; list K links n/LISTS disclosure pages (信息公开 K-I),
    all worth following for the focused crawl."""
    per = n // LISTS
    pages = {"/": _page([(f"/list/{k}.html", f"信息公开目录 {k}") for k in range(LISTS)])}
    for k in range(LISTS):
        pages[f"/list/{k}.html"] = _page([(f"/xxgk/{k}/p{i}.html", f"信息公开 {k}-{i}") for i in range(per)])
    return pages


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path in self.server.pages:
            body = self.server.pages[self.path]
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
    server.pages = _pages(frontier)
    server.release = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-mem-"))
    sites = tmp / "sites"
    sites.mkdir()
    site = {"id": "frontier", "agency": "测试市人民政府", "start_urls": [f"http://{host}/"], "allowed_hosts": [host],
            "render": "never", "politeness": {"delay": 0, "concurrency": 4},
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
    # A worker is the crawl process and its archiving process (crawler/archiving.py): both count.
    archiver = probe.get("children_rss_mb", 0.0)
    peak = round(probe["peak_rss_mb"] + archiver, 1)
    return {"frontier": probe["frontier"], "peak_rss_mb": peak, "crawl_process_peak_rss_mb": probe["peak_rss_mb"],
            "archiving_process_rss_mb": archiver, "pss_both_processes_mb": probe.get("pss_total_mb"),
            "idle_rss_mb": probe["idle_rss_mb"],
            "rss_with_full_frontier_mb": probe["rss_mb"],
            "per_queued_request_kb": round((probe["rss_mb"] - probe["idle_rss_mb"]) * 1024 / max(1, probe["frontier"]), 2),
            "target_mb": TARGET_MB, "ratio": round(peak / TARGET_MB, 3), "seconds_to_fill": probe["seconds"]}

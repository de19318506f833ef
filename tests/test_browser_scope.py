"""Scope holds in the browser too: a page drawn in real Chromium (headless, `--render always`)
whose script fetches another port, whose <img> points at the cloud metadata address, which
jumps by `location=` to another port, and whose image and rendered page redirect (HTTP 302) to
another port. None of it reaches a server (both servers count their hits); the aborts are
counted in the run's stats."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storage.catalogue import Catalogue
from tests.hostile_server import AGENCY, TITLE, run_crawl


class _Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages      # path -> callable(server) -> (status, headers, body)
        self.hits: list[str] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        maker = self.server.pages.get(self.path.split("?")[0])
        status, headers, body = maker() if maker else (404, [], b"<html><title>404</title></html>")
        self.send_response(status)
        for k, v in [("Content-Type", "text/html; charset=utf-8"), *headers]:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _html(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1>{body}</body></html>").encode()


@pytest.fixture(scope="module")
def servers():
    with _Counting({}) as foreign, _Counting({}) as site:
        far = f"http://127.0.0.1:{foreign.port}"
        foreign.pages.update({p: (lambda: (200, [], _html("foreign", "<p>x</p>")))
                              for p in ("/xhr", "/jump", "/img.png", "/page")})
        site.pages.update({
            "/": lambda: (200, [], _html("政府信息公开年报", (
                f'<ul><li><a href="/2019.html">{TITLE}</a></li>'
                '<li><a href="/moved.html">2018年度报告</a></li></ul>'
                '<img src="http://169.254.169.254/latest/meta-data/iam.png">'
                '<img src="/redirect.png"><script src="/redirect.js"></script>'
                f'<script>fetch("{far}/xhr").catch(function(){{}});'
                f'setTimeout(function(){{ location = "{far}/jump"; }}, 300);</script>'))),
            "/2019.html": lambda: (200, [], _html(TITLE, "<p>根据《中华人民共和国政府信息公开条例》，现公布本年度报告。</p>")),
            "/redirect.png": lambda: (302, [("Location", f"{far}/img.png")], b""),
            "/redirect.js": lambda: (302, [("Location", f"{far}/img.png")], b""),
            "/moved.html": lambda: (302, [("Location", f"{far}/page")], b""),
        })
        yield site, foreign


def test_rendered_page_reaches_no_foreign_server(servers, tmp_path):
    site, foreign = servers
    result = run_crawl(["--start-url", f"http://127.0.0.1:{site.port}/", "--agency", AGENCY,
                        "--allow", f"127.0.0.1:{site.port}", "--render", "always"],
                       tmp_path / "data", timeout=150)
    assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    run = Catalogue.open(result.catalogue_url).runs(limit=1)[0]
    stats = run.stats or {}
    assert stats.get("playwright/browser_count"), sorted(stats)      # it did render, in Chromium
    assert "/" in site.hits
    assert foreign.hits == [], foreign.hits
    # the metadata <img>, the script's fetch and the location= jump, each aborted and counted
    scoped = {k: v for k, v in stats.items() if "scope" in k}
    assert stats.get("nianbao/browser_off_scope", 0) >= 3, scoped
    assert stats.get("nianbao/browser_off_scope/address", 0) >= 1, scoped
    # the script's 302 and the rendered page's 302: hops no page route sees, refused by the proxy
    assert stats.get("nianbao/browser_off_scope/unrouted", 0) >= 2, scoped
    assert "/moved.html" in site.hits and "/redirect.js" in site.hits
    # images are requisites, not asked for unless the site wants them (crawler/browsergate.py)
    assert "/redirect.png" not in site.hits and stats.get("nianbao/browser/blocked/requisite", 0) >= 1
    # what is in scope still flows through the proxy: the report page is archived
    cat = Catalogue.open(result.catalogue_url)
    assert f"http://127.0.0.1:{site.port}/2019.html" in {r.url for r in cat.reports() if r.year == 2019}


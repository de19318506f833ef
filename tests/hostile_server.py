"""A loopback server of hostile answers, one case per path prefix, for tests/test_hostile.py.

Every case starts at `/<case>/`: a list page linking one report page `/<case>/2019.html`, whose
attachment `/<case>/report.pdf` is where most of the hostility lives. Page-level cases (bad
encodings, a million links, a Hanweb datastore) are hostile in the start page itself.

`run_crawl` runs `nianbao crawl --start-url` in a subprocess that reports its own peak RSS, so a
test can bound memory as well as time.
"""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AGENCY = "测试市人民政府"
TITLE = "测试市人民政府2019年政府信息公开工作年度报告"
PDF = b"%PDF-1.4\n% a small stand-in report\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOMB_EXPANDED = 1 << 30          # the gzip bomb inflates to 1 GiB
MILLION = 1_000_000


def _page(title: str, body: str, charset: str = "utf-8") -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
            f"<body><h1>{title}</h1>{body}</body></html>").encode(charset, "strict")


def start_page(case: str) -> bytes:
    return _page("政府信息公开年报", f'<ul><li><a href="/{case}/2019.html">{TITLE}</a></li></ul>')


def report_page(case: str, attachments: list[str] | None = None) -> bytes:
    links = "".join(f'<p><a href="{a}">附件：{TITLE}.pdf</a></p>'
                    for a in (attachments or [f"/{case}/report.pdf"]))
    return _page(TITLE, f"<p>根据《中华人民共和国政府信息公开条例》，现公布本年度报告。</p>{links}")


def postback_page(case: str) -> bytes:
    """A WebForms list whose every post-back answers 500 (a view state the server refuses)."""
    pager = "".join(f"<a href=\"javascript:__doPostBack('ctl00$Main$Pager','{n}')\">{n}</a> " for n in range(2, 40))
    return _page("政府信息公开年报", f'<form method="post" action="/{case}/" id="aspnetForm">'
                 '<input type="hidden" name="__VIEWSTATE" value="bad" />'
                 f'<ul><li><a href="/{case}/2019.html">{TITLE}</a></li></ul><div class="pager">{pager}</div></form>')


def options_page(case: str) -> bytes:
    """A picker with a thousand options, each a GET of the same list."""
    options = "".join(f'<option value="{i}">{i}</option>' for i in range(1000))
    return _page("政府信息公开年报", f'<form action="/{case}/" method="get"><select name="year">{options}</select></form>'
                 f'<ul><li><a href="/{case}/2019.html">{TITLE}</a></li></ul>')


def scripts_page(case: str) -> bytes:
    """Rows whose handlers call a function that calls itself, or loops forever."""
    rows = "".join(f'<li><a href="javascript:void(0)" onclick="{fn}({i})">第{i}项</a></li>'
                   for i in range(30) for fn in ("again", "forever"))
    return _page("政府信息公开年报", f'<ul><li><a href="/{case}/2019.html">{TITLE}</a></li>{rows}</ul>'
                 "<script>function again(n){ return again(n + 1); } function forever(n){ while (true) {} }</script>")


def _gzip_bomb() -> bytes:
    """1 GiB of zeros in about 1 MB of gzip, built by streaming so building it stays cheap."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        block = bytes(1 << 20)
        for _ in range(BOMB_EXPANDED >> 20):
            gz.write(block)
    return out.getvalue()


def bad_gbk_page() -> bytes:
    # Valid GBK around byte pairs GBK has no character for, and a lone lead byte at the end.
    good = report_page("bad_gbk").decode("utf-8").replace("utf-8", "gbk").encode("gbk")
    return good.replace(b"</h1>", b"\x81\x20\xff\xfe\x80</h1>") + b"\x81"


def bad_utf8_page() -> bytes:
    good = report_page("bad_utf8")
    # An invalid continuation, an encoded surrogate, an overlong slash and a truncated sequence.
    return good.replace(b"</h1>", b"\xc3\x28\xed\xa0\x80\xc0\xaf</h1>") + b"\xe4\xb8"


def million_links_page() -> bytes:
    """A million links nobody should follow, then the one that matters."""
    parts = [b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>\xe5\x88\x97\xe8\xa1\xa8</title>"
             b"</head><body><ul>"]
    # Not bare numbers: "1".."999" read as pager links, and following 3,000 of them is a budget test.
    parts.extend(b'<li><a href="/million_links/n/%d.html">\xe6\x9d\xa1\xe7\x9b\xae %d</a></li>' % (i, i)
                 for i in range(MILLION))
    parts.append(f'<li><a href="/million_links/2019.html">{TITLE}</a></li></ul></body></html>'.encode())
    return b"".join(parts)


LAUGHS_DTD = ('<?xml version="1.0"?><!DOCTYPE datastore [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
              + "]>")


def laughs_page() -> bytes:
    """A Hanweb column whose datastore carries a billion-laughs DTD and a huge <totalrecord>."""
    record = f'<record><![CDATA[<li><a href="/laughs/2019.html">{TITLE}</a><span>2020-05-01</span></li>]]></record>'
    script = (f'<script type="text/xml">{LAUGHS_DTD}<datastore><nextgroup><![CDATA[<a href="/module/jpage/'
              f'dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=1&unitid=1&webname=x&permissiontype=0">'
              f']]></nextgroup><recordset>{record}&lol9;</recordset></datastore></script>')
    return _page("政府信息公开年报", f'<div id="1">{script}</div>')


def laughs_dataproxy() -> bytes:
    return (f"{LAUGHS_DTD}<datastore><totalrecord>999999999999</totalrecord><recordset>"
            f"<record><![CDATA[<li>&lol9;</li>]]></record></recordset></datastore>").encode()


HOSTILE_NAMES = [
    b'attachment; filename="../../../../tmp/nianbao-escape\x01\x1b.pdf"',
    b"attachment; filename*=UTF-8''..%2F..%2Fevil%0A%0D%00name.pdf",
    b'attachment; filename="..\\..\\windows\\system32\\con.pdf"',
]

CASES = ["gzip_bomb", "endless", "lying_length", "trickle", "bad_gbk", "bad_utf8", "million_links",
         "laughs", "filenames", "postback500", "options", "scripts", "redirect_metadata", "redirect_port",
         "redirect_relative", "private_name"]

# private_name: the report file sits on a sibling host whose name resolves to an internal address
# (split DNS: oa.x.gov.cn -> 10.1.2.3). FakeResolver answers 127.0.0.1 for every *.hostile.test.
PRIVATE_NAME_HOST = "files.hostile.test"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "HostileServer"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        self.server.hits.append(self.path)
        case, _, rest = path.strip("/").partition("/")
        try:
            self._route(case, rest)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True    # the crawler gave up on us: that is the point

    def _send(self, body: bytes, *, ctype="text/html; charset=utf-8", status=200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, case: str, rest: str):
        if case == "robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", ctype="text/plain")
        if rest == "" and case in CASES:
            special = {"bad_gbk": (bad_gbk_page, "text/html; charset=gbk"),
                       "bad_utf8": (bad_utf8_page, "text/html; charset=utf-8"),
                       "million_links": (self.server.million_links, "text/html; charset=utf-8"),
                       "laughs": (laughs_page, "text/html; charset=utf-8")}.get(case)
            if special:
                maker, ctype = special
                return self._send(maker(), ctype=ctype)
            if case == "postback500":
                if self.command == "POST":
                    return self._send(_page("Server Error", "<p>Validation of viewstate MAC failed.</p>"), status=500)
                return self._send(postback_page(case))
            if case in ("options", "scripts"):
                return self._send((options_page if case == "options" else scripts_page)(case))
            return self._send(start_page(case))
        if rest == "2019.html" and case in CASES:
            if case == "filenames":
                return self._send(report_page(case, [f"/filenames/downfile.jsp?id={i}"
                                                     for i in range(len(HOSTILE_NAMES))]))
            if case == "private_name":
                port = self.server.server_address[1]
                return self._send(report_page(case, [f"http://{PRIVATE_NAME_HOST}:{port}/private_name/report.pdf"]))
            return self._send(report_page(case))
        if case == "module" or rest.startswith("module/"):
            return self._send(laughs_dataproxy(), ctype="text/xml; charset=utf-8")
        if rest == "report.pdf":
            return getattr(self, f"_file_{case}", self._file_plain)()
        return self._send(_page("页面不存在", "<p>页面不存在</p>"), status=404)

    def _file_redirect_metadata(self):
        return self._send(b"", status=302, headers=[("Location", "http://169.254.169.254/latest/meta-data/")])

    def _file_redirect_port(self):
        host = self.headers.get("Host", "127.0.0.1").split(":")[0]
        return self._send(b"", status=302, headers=[("Location", f"http://{host}:1/report.pdf")])

    def _file_redirect_relative(self):
        return self._send(b"", status=302, headers=[("Location", "//files.example.invalid/report.pdf")])

    def _file_plain(self):
        self._send(PDF, ctype="application/pdf")

    def _file_gzip_bomb(self):
        self._send(self.server.bomb, ctype="application/pdf", headers=[("Content-Encoding", "gzip")])

    def _file_endless(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (1 << 16, b"\0" * (1 << 16))
        deadline = time.monotonic() + 600       # endless for any crawl; not for a leaked thread
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            self.wfile.write(chunk)

    def _file_lying_length(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(PDF)
        self.wfile.flush()
        self.close_connection = True             # 1,000,000 promised, a few dozen sent

    def _file_trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(PDF)))
        self.end_headers()
        for byte in PDF:
            if self.server.stopping.wait(1.0):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


class _RawHandler(_Handler):
    """Writes the Content-Disposition bytes as given: raw control bytes, raw GBK, whatever."""

    def _route(self, case: str, rest: str):
        if case == "filenames" and rest.startswith("downfile.jsp"):
            i = int(self.path.rsplit("=", 1)[1])
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Disposition: "
                    + HOSTILE_NAMES[i] + b"\r\nContent-Length: %d\r\n\r\n" % len(PDF))
            self.wfile.write(head + PDF)
            return
        super()._route(case, rest)


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.hits: list[str] = []
        self.stopping = threading.Event()
        self._bomb: bytes | None = None
        self._million: bytes | None = None

    @property
    def bomb(self) -> bytes:
        if self._bomb is None:
            self._bomb = _gzip_bomb()
        return self._bomb

    def million_links(self) -> bytes:
        if self._million is None:
            self._million = million_links_page()
        return self._million

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def url(self, case: str) -> str:
        return f"http://{self.host}/{case}/"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True, name="hostile").start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.shutdown()
        self.server_close()


def _fake_resolver():
    from scrapy.resolver import CachingThreadedResolver
    from twisted.internet import defer

    class FakeResolver(CachingThreadedResolver):
        """Scrapy's resolver, except that every *.hostile.test name is 127.0.0.1 (no DNS in tests)."""

        def getHostByName(self, name, timeout=()):
            if name.endswith(".hostile.test"):
                return defer.succeed("127.0.0.1")
            return super().getHostByName(name, timeout)

    return FakeResolver


def __getattr__(name):      # tests.hostile_server.FakeResolver, Scrapy imported only when asked
    if name == "FakeResolver":
        return _fake_resolver()
    raise AttributeError(name)


# ---- running a crawl and measuring its peak memory --------------------------------------

_WRAPPER = """
import importlib, resource, runpy, sys
patches = {patches!r}
for k, v in patches.items():
    module, _, attr = k.rpartition(".")
    setattr(importlib.import_module(module or "crawler.settings"), attr, v)
sys.argv = ["nianbao"] + {args!r}
try:
    runpy.run_module("crawler.cli", run_name="__main__")
finally:
    # VmHWM: this process image's own peak. ru_maxrss would also count the pytest process it was
    # forked from (Linux keeps the parent's high-water mark across fork and exec), so a test
    # session that once grew large made every later crawl look large.
    try:
        peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write("\\nPEAK_RSS_KB=%d\\n" % peak)
"""


def crawl_env(extra: dict | None = None) -> dict:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def wrapper_command(args: list[str], patches: dict | None = None) -> list[str]:
    """The command line of a measured `nianbao ARGS` (for Popen, when a test must act mid-run)."""
    return [sys.executable, "-c", _WRAPPER.format(patches=patches or {}, args=args)]


@dataclass
class Crawl:
    proc: subprocess.CompletedProcess
    peak_rss_mb: float
    catalogue_url: str
    store_url: str


def run_crawl(args: list[str], data: Path, *, patches: dict | None = None, timeout: float = 180,
              env: dict | None = None, catalogue_url: str | None = None, store_url: str | None = None) -> Crawl:
    """`nianbao crawl ARGS --catalogue --store` under DATA, with PATCHES applied first: a bare
    name is a Scrapy setting in crawler.settings (as a deployment's settings would set it), a
    dotted name any module attribute (storage.db.SQLITE_BUSY_TIMEOUT_MS)."""
    catalogue_url = catalogue_url or f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = store_url or (data / "objects").as_uri()
    full = ["crawl", *args, "--catalogue", catalogue_url, "--store", store_url]
    code = _WRAPPER.format(patches=patches or {}, args=full)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env=crawl_env(env), timeout=timeout)
    peak = 0.0
    for line in proc.stderr.splitlines():
        if line.startswith("PEAK_RSS_KB="):
            peak = int(line.split("=", 1)[1]) / 1024
    return Crawl(proc, peak, catalogue_url, store_url)

"""The crawl path meets a DOCX bomb: `nianbao crawl --start-url` archives it, and neither the
spider's type check nor the text rendition made after the crawl inflates it (crawler/inflate.py).
Measured against a crawl of the same site serving a plain DOCX: before the fix the bomb's crawl
peaked some 570 MB higher."""
from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storage.catalogue import Catalogue
from tests import bombs
from tests.hostile_server import AGENCY, report_page, run_crawl, start_page

EXTRA_MB = 100
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _plain_docx() -> bytes:
    import docx
    d = docx.Document()
    d.add_paragraph("测试市人民政府2019年政府信息公开工作年度报告")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        case, _, rest = self.path.split("?")[0].strip("/").partition("/")
        if case == "robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif rest == "":
            body, ctype = start_page(case), "text/html; charset=utf-8"
        elif rest == "2019.html":
            body, ctype = report_page(case, [f"/{case}/report.docx"]), "text/html; charset=utf-8"
        elif rest == "report.docx":
            body, ctype = self.server.files[case], DOCX
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.files = {"plain": _plain_docx(), "bomb": bombs.zip_bomb("docx", size=300 * bombs.MB)}
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _crawl(server, tmp_path, case):
    host = f"127.0.0.1:{server.server_address[1]}"
    result = run_crawl(["--start-url", f"http://{host}/{case}/", "--agency", AGENCY, "--allow", host,
                        "--render", "never"], tmp_path / case, timeout=240)
    assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    assert "Traceback" not in result.proc.stderr, result.proc.stderr[-3000:]
    return result


def test_docx_bomb_in_a_crawl_is_archived_without_being_inflated(server, tmp_path):
    plain = _crawl(server, tmp_path, "plain")
    bomb = _crawl(server, tmp_path, "bomb")
    cat = Catalogue.open(bomb.catalogue_url)
    files = [c for c in cat.captures() if c.url.endswith("report.docx")]
    assert files and files[0].size == len(server.files["bomb"])      # archived as served: nothing lost
    assert not [c for c in cat.captures() if c.kind == "text" and c.parent_id == files[0].id]
    assert bomb.peak_rss_mb < plain.peak_rss_mb + EXTRA_MB, (plain.peak_rss_mb, bomb.peak_rss_mb)

"""A render taken before the page drew itself gets a second, longer look (crawler.render:
SECOND_LOOKS), in Chromium, end to end.

The pattern: a script-only portal (an app shell, its menu and its article drawn from JSON APIs one
after the other) whose article API answers late, because the host's turn came late or the machine
is loaded. The first render is taken when its quiet wait runs out, showing the empty shell; before
the second look, that page's reports were never seen, and the run said "ok". Here the article
API's first answer is held past the (shortened) quiet wait; later answers come at once.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler import env
from storage.catalogue import Catalogue
from tests.hostile_server import AGENCY, PDF, TITLE, run_crawl

pytestmark = pytest.mark.skipif(env.chromium_path() is None, reason="no Chromium here")

SETTLE_MS = 2500       # the first look's quiet wait, shortened for the test
LATE_S = 4.0           # the article API's first answer comes this late

SHELL = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>测试市人民政府门户网站</title></head>'
         '<body><div id="app"></div><script src="/app.js"></script></body></html>').encode()
LIST = [{"id": 5, "title": "测试市人民政府关于开展春季植树活动的通知"}, {"id": 7, "title": TITLE},
        {"id": 9, "title": "测试市2020年第一季度经济运行情况"}]
APP = """
(function(){
function get(u, cb){var x=new XMLHttpRequest();x.open('GET',u,true);x.onload=function(){cb(JSON.parse(x.responseText));};x.send();}
var app=document.getElementById('app');
get('/api/menu', function(menu){
  if(location.pathname.indexOf('/detail')===0){
    get('/api/detail'+location.search, function(d){
      app.innerHTML='<h1>'+d.title+'</h1><div>'+d.body+'</div><a href="'+d.file+'">'+d.title+'.pdf</a>';});
  } else {
    get('/api/list', function(items){var s='<nav>'+menu.join(' ')+'</nav><ul>';
      items.forEach(function(it){s+='<li><a href="/detail.html?id='+it.id+'">'+it.title+'</a></li>';});
      app.innerHTML=s+'</ul>';});
  }
});
})();
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        self.server.paths.append(self.path)
        ctype = "application/json; charset=utf-8"
        if path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif path in ("/", "/detail.html"):
            body, ctype = SHELL, "text/html; charset=utf-8"
        elif path == "/app.js":
            body, ctype = APP.encode(), "application/javascript"
        elif path == "/api/menu":
            body = json.dumps(["首页", "政府信息公开"], ensure_ascii=False).encode()
        elif path == "/api/list":
            body = json.dumps(LIST, ensure_ascii=False).encode()
        elif path == "/api/detail" and query != "id=7":
            body = json.dumps({"title": "通知", "body": "各单位：" + "请按时参加。" * 60, "file": "/files/notice.pdf"},
                              ensure_ascii=False).encode()
        elif path == "/api/detail":
            with self.server.lock:
                first = not self.server.detail_asked
                self.server.detail_asked = True
            if first:
                time.sleep(LATE_S)
            body = json.dumps({"title": TITLE, "body": "根据《中华人民共和国政府信息公开条例》，现公布本年度报告。",
                               "file": "/files/2019.pdf"}, ensure_ascii=False).encode()
        elif path == "/files/2019.pdf":
            body, ctype = PDF, "application/pdf"
        else:
            body, ctype = b"", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.paths, srv.lock, srv.detail_asked = [], threading.Lock(), False
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _crawl(server, tmp_path, patches: dict):
    host = f"127.0.0.1:{server.server_address[1]}"
    result = run_crawl(["--start-url", f"http://{host}/", "--agency", AGENCY, "--allow", host],
                       tmp_path, timeout=300, patches={"crawler.rendering.SETTLE_TIMEOUT_MS": SETTLE_MS, **patches})
    assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    assert "Traceback" not in result.proc.stderr, result.proc.stderr[-3000:]
    catalogue = Catalogue.open(result.catalogue_url)
    stats = catalogue.runs(limit=1)[0].stats or {}
    years = sorted(r.year for r in catalogue.reports())
    return years, stats


def test_a_render_taken_too_early_is_looked_at_again(server, tmp_path):
    years, stats = _crawl(server, tmp_path, {})
    assert years == [2019], (years, stats)
    assert stats.get("nianbao/render/second_looks") == 1, stats
    assert stats.get("nianbao/render/second_look_found_more") == 1, stats
    assert "/files/2019.pdf" in server.paths
    # the late answer was asked for twice: once by each look, and by nobody else
    assert server.paths.count("/api/detail?id=7") == 2


def test_without_second_looks_the_early_render_misses_the_report(server, tmp_path):
    """The control: with no second looks the same crawl knows the report only by its link text
    and never fetches its file (so the test above tests the second look, not the timing)."""
    years, stats = _crawl(server, tmp_path, {"crawler.render.SECOND_LOOKS": 0})
    assert not stats.get("nianbao/render/second_looks"), stats
    assert "/files/2019.pdf" not in server.paths

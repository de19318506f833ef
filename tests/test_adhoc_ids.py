"""An ad hoc crawl's site id comes from its start URL (host, port, path), unless `--id` names it.

One portal often hosts many agencies, each under its own column. Two `nianbao crawl --start-url`
runs on one host used to share a site id (the host): the second marked the first one's reports
removed and took over its agency.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.siteconfig import ConfigError, adhoc_id, adhoc_site
from storage.catalogue import Catalogue
from tests.harness import nianbao
from tests.hostile_server import PDF, report_page, run_crawl, start_page


class _Columns(BaseHTTPRequestHandler):
    """/<column>/ lists /<column>/2019.html, which links /<column>/report.pdf; columns never link each other."""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        column, _, rest = self.path.split("?")[0].strip("/").partition("/")
        pages = {"": (start_page(column), "text/html; charset=utf-8"),
                 "2019.html": (report_page(column), "text/html; charset=utf-8"),
                 "report.pdf": (PDF, "application/pdf")}
        if column == "robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif rest in pages:
            body, ctype = pages[rest]
        else:
            body, ctype = b"", "text/html"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def portal():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Columns)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_two_columns_of_one_host_are_two_sites(portal, tmp_path):
    data = tmp_path / "data"
    catalogue, store = f"sqlite:///{data / 'catalogue.sqlite'}", (data / "objects").as_uri()
    for column, agency in (("jiaoyu", "某市教育局"), ("caizheng", "某市财政局")):
        result = run_crawl(["--start-url", f"http://{portal}/{column}/", "--agency", agency, "--allow", portal,
                            "--render", "never"], data, catalogue_url=catalogue, store_url=store, timeout=240)
        assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    cat = Catalogue.open(catalogue)
    port = portal.rsplit(":", 1)[1]
    sites = {s.id: s.agency for s in cat.sites()}
    assert sites == {f"127-0-0-1-{port}-jiaoyu": "某市教育局", f"127-0-0-1-{port}-caizheng": "某市财政局"}
    for site_id in sites:
        reports = cat.reports(site_id=site_id)
        column = site_id.rsplit("-", 1)[1]
        assert reports and all(f"/{column}/" in r.url and r.removed_at is None for r in reports), reports


def test_id_option_names_the_site_and_is_validated(tmp_path):
    proc = nianbao("crawl", "--start-url", "http://127.0.0.1:1/", "--agency", "某局", "--id", "Not An Id",
                   "--catalogue", f"sqlite:///{tmp_path / 'c.sqlite'}", "--store", (tmp_path / "o").as_uri())
    assert proc.returncode == 2 and "id" in proc.stderr and "Traceback" not in proc.stderr
    proc = nianbao("crawl", "--id", "x", "--all")
    assert proc.returncode == 2 and "--start-url" in proc.stderr
    assert adhoc_site(start_url="http://www.x.gov.cn/col/", agency="某局", site_id="x-gov").id == "x-gov"


@pytest.mark.parametrize("url,site_id", [
    ("http://www.x.gov.cn/", "www-x-gov-cn"),                                 # the id earlier versions gave
    ("https://www.x.gov.cn", "www-x-gov-cn"),
    ("http://www.x.gov.cn:80/index.html", "www-x-gov-cn"),
    ("http://www.x.gov.cn/col/col123/index.html", "www-x-gov-cn-col-col123"),
    ("http://www.x.gov.cn/col/col123/", "www-x-gov-cn-col-col123"),
    ("http://WWW.X.gov.cn:8080/xxgk/nb.jsp?columnid=7", "www-x-gov-cn-8080-xxgk-nb-jsp-columnid-7"),
    ("http://127.0.0.1:8080/", "127-0-0-1-8080"),
])
def test_adhoc_id_is_a_readable_slug_of_host_port_and_path(url, site_id):
    assert adhoc_id(url) == site_id
    assert adhoc_site(start_url=url, agency="某局").id == site_id


def test_long_start_urls_stay_valid_and_apart():
    a = adhoc_id("http://www.x.gov.cn/" + "column/" * 20 + "a.html")
    b = adhoc_id("http://www.x.gov.cn/" + "column/" * 20 + "b.html")
    assert a != b and len(a) <= 64 and a.startswith("www-x-gov-cn-column-column")
    adhoc_site(start_url="http://www.x.gov.cn/" + "column/" * 20 + "a.html", agency="某局")   # validates
    with pytest.raises(ConfigError):
        adhoc_site(start_url="http://www.x.gov.cn/", agency="某局", site_id="UPPER")

"""Self-test of the simulated portals over real HTTP: each family behaves as designed, and the truth
matches what is served."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request

import pytest

from simulator import World, WorldError, serve


# -- helpers ------------------------------------------------------------------------------------------------------
def solve_ruishu(page: str) -> str:
    """Evaluate the 412 challenge the way its script does (reversed hex, arithmetic, base 36)."""
    arr = re.search(r"\[([^\]]+)\]\.map", page).group(1)
    a, b, c = (int(s.strip('"')[::-1], 16) for s in arr.split(","))
    d = int(re.search(r"\+0x1d3\)\^(\d+);", page).group(1))
    n = ((a * b) % c + 0x1D3) ^ d
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return "FSSBBIl1UgzbN7N80T=" + out


def solve_jsl(page: str) -> str:
    chars = "".join(chr(int(b) + int(x) * int(y)) for b, x, y in re.findall(r"fromCharCode\((\d+)\+(\d+)\*(\d+)\)", page))
    return "__jsl_clearance_s=1700000000.000|0|" + chars


class Client:
    """urllib through the simulator's proxy, solving the anti-bot challenges like a browser would."""

    def __init__(self, server):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
        self.cookies: dict[str, str] = {}

    def get(self, url: str, *, headers=None, data=None, solve=True, retry_503=True):
        host = urllib.parse.urlsplit(url).hostname
        hdrs = dict(headers or {})
        if host in self.cookies:
            hdrs["Cookie"] = self.cookies[host]
        try:
            r = self.opener.open(urllib.request.Request(url, data=data, headers=hdrs), timeout=30)
            return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            body = e.read()
            if solve and e.code in (412, 521):
                page = body.decode()
                self.cookies[host] = solve_ruishu(page) if e.code == 412 else solve_jsl(page)
                return self.get(url, headers=headers, data=data, solve=False)
            if retry_503 and e.code == 503:
                return self.get(url, headers=headers, data=data, retry_503=False)
            return e.code, dict(e.headers), body


@pytest.fixture(scope="module")
def world():
    return World(seed=0, size="tiny", big_file_size=300_000)


@pytest.fixture(scope="module")
def server(world):
    with serve(world) as s:
        yield s


@pytest.fixture()
def client(server):
    return Client(server)


def portal(world, family):
    return next(p for p in world.portals if p.family == family)


# -- the world ----------------------------------------------------------------------------------------------------
def test_tiny_world_has_one_portal_per_family(world):
    families = [p.family for p in world.portals]
    assert sorted(families) == sorted({"hanweb", "trs", "gkmlpt", "trsapi", "ruishu", "jiasule", "xxgk", "fanti", "static"})
    for p in world.portals:
        assert re.fullmatch(r"\d{6}", p.region_code)
        assert all(h.endswith(".gov.cn") for h in p.hosts)
        assert p.kind == ("government" if p.agency.endswith("人民政府") else "department")


def test_world_is_deterministic_from_seed():
    a, b, c = World(seed=3, size="small"), World(seed=3, size="small"), World(seed=4, size="small")
    assert [t.sha256 for t in a.truth] == [t.sha256 for t in b.truth]
    assert [p.site_id for p in a.portals] != [p.site_id for p in c.portals]


@pytest.mark.parametrize("kwargs", [{"size": "huge"}, {"size": 0}, {"size": True}, {"epoch": 2},
                                    {"news_per_portal": (5, 2)}, {"news_per_portal": (-1, 3)}])
def test_bad_world_arguments_are_refused(kwargs):
    with pytest.raises(WorldError):
        World(**kwargs)


def test_busy_portals_carry_the_news_asked_for_and_the_same_reports():
    quiet, busy = World(seed=1, size=8), World(seed=1, size=8, news_per_portal=(400, 600))
    assert all(400 <= busy.news_count(p) <= 600 for p in busy.portals)
    assert all(quiet.news_count(p) <= 150 for p in quiet.portals)
    assert [(t.site_id, t.year, t.sha256) for t in busy.truth] == [(t.site_id, t.year, t.sha256) for t in quiet.truth]


def test_truth_spans_years_with_gaps_and_excludes_lookalikes(world):
    years = {t.year for t in world.truth}
    assert min(years) <= 2010 and max(years) >= 2024
    truth_urls = {t.page_url for t in world.truth} | {u for t in world.truth for u in t.file_urls}
    assert world.lookalikes and not (world.lookalikes & truth_urls)
    assert not (world.disallowed & truth_urls)


def test_site_configs_shape(world):
    cfg = world.site_configs()[0]
    assert set(cfg) == {"id", "agency", "region", "kind", "start_urls", "allowed_hosts", "first_year", "hints"}
    assert cfg["hints"]["cms"] == world.portals[0].family


def test_large_world_constructs_fast_and_small():
    tracemalloc.start()
    t0 = time.perf_counter()
    w = World(seed=0, size="large")
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(w.portals) >= 200
    assert len({h for p in w.portals for h in p.hosts}) == sum(len(p.hosts) for p in w.portals)
    assert elapsed < 2.0 and peak < 30 * 2**20


# -- truth against the wire ---------------------------------------------------------------------------------------
def test_truth_sha256_equals_served_bytes(world, client):
    checked = 0
    for report in world.truth:
        for url, digest in report.sha256.items():
            status, _, body = client.get(url)
            assert status == 200, url
            assert hashlib.sha256(body).hexdigest() == digest, url
            checked += 1
    assert checked >= len(world.truth)


def test_pdf_text_is_extractable(world, client):
    import pypdf

    report = next(t for t in world.truth if t.file_urls and t.file_urls[0].endswith(".pdf") and "图片版" not in t.title)
    _, _, body = client.get(report.file_urls[0])
    text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert str(report.year) in text and "政府信息公开" in text


def test_docx_and_xlsx_open(world, client):
    import docx
    import openpyxl

    urls = [u for t in world.truth for u in t.file_urls]
    _, _, d = client.get(next(u for u in urls if u.endswith(".docx")))
    assert docx.Document(io.BytesIO(d)).paragraphs[0].text
    _, _, x = client.get(next(u for u in urls if u.endswith(".xlsx")))
    assert openpyxl.load_workbook(io.BytesIO(x)).active["A2"].value == "统计指标"


# -- routing ------------------------------------------------------------------------------------------------------
def test_direct_host_header_and_unknown_host(world, server, client):
    p = portal(world, "static")
    direct = urllib.request.urlopen(server.url_for(p.start_url)).read()
    req = urllib.request.Request(f"{server.proxy_url}/", headers={"Host": p.hosts[0]})
    assert urllib.request.urlopen(req).read() == direct
    status, _, _ = client.get("http://www.nowhere-at-all.gov.cn/")
    assert status == 502
    status, _, _ = client.get(world.traps["dead_link"] + "xxgk/index.html")
    assert status == 502
    assert server.requests[-1][3] == 502 and server.stats.by_host[p.hosts[0]] >= 2


# -- anti-bot -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family,status", [("ruishu", 412), ("jiasule", 521)])
def test_antibot_challenge_then_pass(world, client, family, status):
    p = portal(world, family)
    code, _, body = client.get(p.start_url, solve=False)
    assert code == status and b"document.cookie" in body
    wrong = {"Cookie": "FSSBBIl1UgzbN7N80T=abc; __jsl_clearance_s=1|0|x"}
    assert client.get(p.start_url, headers=wrong, solve=False)[0] == status
    assert client.get(p.start_url)[0] == 200               # solves the challenge
    att = next(u for t in world.truth if t.site_id == p.site_id for u in t.file_urls)
    assert client.get(att, solve=False)[0] == 200          # the cookie opens every path
    assert client.get(p.start_url.rstrip("/") + "/robots.txt", solve=False)[0] in (200, 404)


@pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
@pytest.mark.parametrize("family,status", [("ruishu", 412), ("jiasule", 521)])
def test_antibot_script_really_computes_the_cookie(world, client, family, status):
    """Run the challenge script in node with a fake document: it yields exactly the cookie we accept."""
    p = portal(world, family)
    _, _, body = client.get(p.start_url, solve=False)
    script = re.search(rb"<script[^>]*>(.*?)</script>", body, re.S).group(1).decode()
    js = ("var document={set cookie(v){console.log(v.split(';')[0])}};"
          "var location={reload:function(){},pathname:'/',search:''};" + script)
    out = subprocess.run(["node", "-e", js], capture_output=True, text=True, timeout=30).stdout.strip()
    expected = solve_ruishu(body.decode()) if status == 412 else solve_jsl(body.decode())
    assert out == expected
    assert client.get(p.start_url, headers={"Cookie": out}, solve=False)[0] == 200


# -- families -----------------------------------------------------------------------------------------------------
def test_trs_is_gbk_on_the_wire_with_script_pagination(world, client):
    p = portal(world, "trs")
    col = world.site(p.site_id).columns[-1]     # the news column has several pages
    status, headers, body = client.get(col.url)
    assert status == 200
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert re.search(r'createPageHTML\(countPage, currentPage, "index", "html"\)', text)
    pages = int(re.search(r"var countPage = (\d+);", text).group(1))
    assert pages >= 2 and "下一页" not in text
    status, _, second = client.get(col.url.replace("index.html", "index_1.html"))
    assert status == 200 and second != body
    art = re.search(r'href="(\./\d{6}/t\d{8}_\d+\.html)"', text).group(1)
    assert client.get(urllib.parse.urljoin(col.url, art))[0] == 200


def test_hanweb_dataproxy_pages_the_rest(world, client):
    p = portal(world, "hanweb")
    site = world.site(p.site_id)
    col = site.columns[-1]
    _, _, body = client.get(col.url)
    text = body.decode()
    embedded = re.findall(r"<record><!\[CDATA\[.*?href=\"([^\"]+)\"", text, re.S)
    per_page = int(re.search(r"perPage: (\d+)", text).group(1))
    proxy = re.search(r"proxyUrl: '([^']+)'", text).group(1)
    form = dict(re.findall(r"(\w+):'?([^,'}]*)'?", re.search(r"ajaxParam: \{(.*?)\}", text).group(1)))
    assert set(form) >= {"col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype"}
    assert len(embedded) == per_page
    host = urllib.parse.urlsplit(col.url).hostname
    url = f"http://{host}{proxy}?startrecord={per_page + 1}&endrecord={per_page * 3}&perpage={per_page}"
    status, _, xml = client.get(url, data=urllib.parse.urlencode(form).encode())
    assert status == 200
    total = int(re.search(rb"<totalrecord>(\d+)</totalrecord>", xml).group(1))
    rest = re.findall(rb'href="([^"]+)"', xml)
    assert total == len(site.visible(col.docs)) and len(embedded) + len(rest) == total
    assert not set(embedded) & {r.decode() for r in rest}


def test_hanweb_downfile_redirects_with_gbk_filename(world, client, server):
    p = portal(world, "hanweb")
    att = next(u for t in world.truth if t.site_id == p.site_id for u in t.file_urls)
    assert "downfile.jsp" in att
    status, headers, _ = client.get(att)
    assert status == 200
    raw = headers["Content-Disposition"].encode("latin-1")
    assert "年" in raw.decode("gbk")
    assert any(r[2].startswith("/attach/0/") for r in server.requests)


def test_gkmlpt_lists_and_articles_come_from_json(world, client):
    p = portal(world, "gkmlpt")
    _, _, shell = client.get(f"http://{p.hosts[0]}/gkmlpt/index")
    sid = re.search(rb"SID: '(\d+)'", shell).group(1).decode()
    cat = re.search(rb'"id": (\d+)', shell).group(1).decode()
    assert b"<li" not in shell
    import json
    _, _, data = client.get(f"http://{p.hosts[0]}/gkmlpt/api/all/{cat}?page=1&sid={sid}")
    listing = json.loads(data)
    assert listing["total"] >= 1 and listing["articles"][0]["title"]
    _, _, bad = client.get(f"http://{p.hosts[0]}/gkmlpt/api/all/{cat}?page=1&sid=0")
    assert json.loads(bad)["articles"] == []
    # The 全真版 PDF: its URL is in the truth but appears literally in no served text.
    fv = [t for t in world.truth if t.site_id == p.site_id and t.file_urls and
          b"qzb" in client.get(f"http://{p.hosts[0]}/gkmlpt/api/content/{t.page_url.rsplit('_', 1)[1][:-5]}?sid={sid}")[2]]
    assert len(fv) == 1
    doc_id = fv[0].page_url.rsplit("_", 1)[1][:-5]
    pdf_path = urllib.parse.urlsplit(fv[0].file_urls[0]).path.encode()
    for url in (fv[0].page_url, f"http://{p.hosts[0]}/gkmlpt/api/content/{doc_id}?sid={sid}"):
        assert pdf_path not in client.get(url)[2]


def test_trsapi_list_json(world, client):
    import json
    p = portal(world, "trsapi")
    col = world.site(p.site_id).columns[0]
    _, _, shell = client.get(col.url)
    channel = re.search(rb"channelId: (\d+)", shell).group(1).decode()
    _, _, data = client.get(f"http://{p.hosts[0]}/trsapi/api/list?channelId={channel}&page=1&pageSize=50")
    urls = {a["url"] for a in json.loads(data)["data"]["list"]}
    assert {t.page_url for t in world.truth if t.site_id == p.site_id} <= {u.split("?")[0] for u in urls}


def test_xxgk_reports_belong_to_departments(world, client):
    p = portal(world, "xxgk")
    reports = [t for t in world.truth if t.site_id == p.site_id]
    agencies = {t.agency for t in reports}
    assert len(agencies) >= 3 and p.agency in agencies
    dept = next(t for t in reports if t.agency != p.agency)
    _, _, body = client.get(dept.page_url)
    assert f"发布机构：</td><td>{dept.agency}".encode() in body
    years_by_agency = {a: {t.year for t in reports if t.agency == a} for a in agencies}
    assert len({frozenset(y) for y in years_by_agency.values()}) > 1   # departments differ in years covered


def test_traditional_mirror(world):
    p = portal(world, "fanti")
    titles = [t.title for t in world.truth if t.site_id == p.site_id]
    assert titles and all("報告" in t for t in titles)


# -- quirks -------------------------------------------------------------------------------------------------------
def test_robots_disallows_report_looking_links(world, client):
    p = portal(world, "static")
    _, _, robots = client.get(f"http://{p.hosts[0]}/robots.txt")
    assert b"Disallow: /private/" in robots
    _, _, home = client.get(p.start_url)
    assert any(u.encode() in home for u in world.disallowed)
    assert all(urllib.parse.urlsplit(u).path.startswith("/private/") for u in world.disallowed)


def test_redirect_chain_reaches_the_report(world, server):
    p = portal(world, "static")
    site = world.site(p.site_id)
    doc = next(d for d in site.columns[0].docs if d.listed_url and "/old/" in d.listed_url)
    conn_url = server.url_for(doc.listed_url)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}), NoRedirect)
    hops, url = [], doc.listed_url
    for _ in range(4):
        try:
            opener.open(url)
            break
        except urllib.error.HTTPError as e:
            hops.append(e.code)
            url = urllib.parse.urljoin(url, e.headers["Location"])
    assert hops == [301, 302] and url == doc.url
    assert urllib.request.urlopen(conn_url).status == 200


def test_same_report_under_two_urls(world, client):
    p = portal(world, "static")
    docs = world.site(p.site_id).columns[0].docs
    doc = next(d for d in docs if d.listed_url and "jsessionid" in d.listed_url)
    assert client.get(doc.listed_url)[2] == client.get(doc.url)[2]
    h = portal(world, "hanweb")
    doc = next(d for d in world.site(h.site_id).columns[0].docs if d.listed_url and "from=timeline" in d.listed_url)
    assert client.get(doc.listed_url)[2] == client.get(doc.url)[2]


def test_soft_404(world, client):
    p = portal(world, "fanti")
    status, _, body = client.get(f"http://{p.hosts[0]}/no/such/page.html")
    assert status == 200 and "页面不存在".encode() in body


def test_flaky_page_fails_once(world):
    with serve(world) as s:
        url = world.traps["flaky"]
        c = Client(s)
        assert c.get(url, retry_503=False)[0] == 503
        assert c.get(url, retry_503=False)[0] == 200


def test_infinite_calendar_and_oversized_file(world, client):
    status, _, body = client.get(world.traps["calendar"] + "index.html?date=2099-12")
    assert status == 200 and b"date=2100-01" in body
    p = portal(world, "static")
    big = re.search(rb'href="(http://[^"]+/download/big/[^"]+)"', client.get(p.start_url)[2]).group(1).decode()
    status, headers, body = client.get(big)
    assert status == 200 and int(headers["Content-Length"]) == len(body) == 300_000


@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_conditional_requests_get_304(world, client, header):
    report = next(t for t in world.truth if t.site_id == portal(world, "static").site_id and t.file_urls)
    status, headers, _ = client.get(report.file_urls[0])
    value = headers["ETag"] if header == "If-None-Match" else headers["Last-Modified"]
    assert client.get(report.file_urls[0], headers={header: value})[0] == 304
    if header == "If-None-Match":
        assert client.get(report.file_urls[0], headers={header: '"other"'})[0] == 200


def test_portal_without_validators(world, client):
    p = next(p for p in world.portals if not p.conditional)
    _, headers, _ = client.get(p.start_url)
    assert "ETag" not in headers and "Last-Modified" not in headers


# -- epochs -------------------------------------------------------------------------------------------------------
def test_epoch_one_changes_removes_and_adds(world):
    later = World(seed=0, size="tiny", epoch=1)
    before = {t.page_url: t for t in world.truth}
    after = {t.page_url: t for t in later.truth}
    removed, added = before.keys() - after.keys(), after.keys() - before.keys()
    changed = [u for u in before.keys() & after.keys() if before[u].sha256 != after[u].sha256]
    n = len(before)
    for group in (removed, added, changed):
        assert 0.03 * n <= len(group) <= 0.3 * n
    with serve(later) as s:
        c = Client(s)
        for url in removed:
            status, _, body = c.get(url)
            assert status in (404, 410) or "页面不存在".encode() in body

"""The ad hoc families (simulator/adhoc.py): portals that hide their annual reports from a crawler
pointed at the home page with no configuration.

Two halves:
- simulator-only: each family serves what its docstring claims (postbacks, GBK URLs, <base>, ...),
  and its truth matches the bytes on the wire;
- crawl (one param per family): `nianbao crawl --start-url URL --agency NAME --allow HOST --proxy P`
  exactly as a new user types it (default settings, no site file), then `nianbao export`; every true
  report's primary file must be exported with is_report true and the right year, and no look-alike
  with is_report true. All crawls run at once in a module fixture; the params only read results.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import quote, urljoin

import pytest

from simulator import ADHOC_FAMILIES, World, adhoc_world, serve
from tests.harness import nianbao

CRAWL_TIMEOUT = 900


@pytest.fixture(scope="module")
def world():
    return adhoc_world(seed=0)


@pytest.fixture(scope="module")
def server(world):
    with serve(world) as s:
        yield s


class Client:
    def __init__(self, server):
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))

    def get(self, url: str, data: bytes | None = None, headers: dict | None = None):
        try:
            r = self.opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30)
            return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def text(self, url: str, encoding: str = "utf-8", **kw) -> str:
        status, body = self.get(url, **kw)
        assert status == 200, (url, status)
        return body.decode(encoding)


@pytest.fixture(scope="module")
def client(server):
    return Client(server)


def primary(t) -> str:
    return t.file_urls[0] if t.file_urls else t.page_url


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# -- every family -------------------------------------------------------------------------------------------------
def test_existing_worlds_have_no_adhoc_family():
    for size in ("tiny", "small"):
        assert not {p.family for p in World(seed=0, size=size).portals} & set(ADHOC_FAMILIES)


def test_adhoc_world_is_deterministic():
    a, b = adhoc_world(seed=0), adhoc_world(seed=0)
    assert [(t.site_id, t.year, t.sha256) for t in a.truth] == [(t.site_id, t.year, t.sha256) for t in b.truth]
    assert [t.start_url for t in a.targets] == [t.start_url for t in b.targets]


@pytest.mark.parametrize("family", ADHOC_FAMILIES)
def test_family_truth_shape_and_bytes(world, client, family):
    target = world.target(family)
    truth = world.truth_for(family)
    assert target.start_url.startswith("http://") and target.agency and target.allow
    assert 4 <= len(truth) <= 10
    years = sorted(t.year for t in truth)
    assert len(set(years)) == len(years) and years[-1] - years[0] + 1 > len(years)   # a gap at least
    assert all(t.agency == target.agency for t in truth)
    looks = world.lookalikes_for(family)
    assert len(looks) >= 2 and not looks & {u for t in truth for u in t.sha256}
    assert client.get(target.start_url)[0] == 200
    for t in truth:
        for url, digest in t.sha256.items():
            status, body = client.get(url)
            assert status == 200 and sha(body) == digest, url
            assert len(body) < 300_000
    for url in looks:
        status, body = client.get(url)
        assert status == 200 and len(body) < 300_000, url


# -- family by family ---------------------------------------------------------------------------------------------
def test_frames_hide_reports_behind_onclick(world, client):
    t = world.target("frames")
    home = client.text(t.start_url)
    assert "<frameset" in home and 'src="main.htm"' in home
    main = client.text(urljoin(t.start_url, "/main.htm"))
    assert "<iframe" in main and "onclick=\"sw('nb')\"" in main
    js = client.text(urljoin(t.start_url, "/js/gov_util.js"))
    assert "function qx_op(k)" in js and "'/ShowArt' + '.asp?'" in js
    pane = client.text(urljoin(t.start_url, "/pane/nb.htm"))
    assert 'href="javascript:void(0)"' in pane and "window.open('" in pane and "qx_op('" in pane
    assert "ShowArt.asp" not in re.sub(r'onclick="[^"]*"', "", pane)
    # exactly one report's file is reachable only through ld_fj()
    hidden = [tr for tr in world.truth_for("frames") if tr.file_urls
              and urllib.parse.urlsplit(tr.file_urls[0]).path not in client.text(tr.page_url)]
    assert len(hidden) == 1 and "ld_fj('" in client.text(hidden[0].page_url)


def _hidden_fields(page: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" id="[^"]+" value="([^"]*)"', page))


def test_aspnet_pages_exist_only_as_postbacks(world, client):
    t = world.target("aspnet")
    url = urljoin(t.start_url, "/zwgk/ndbg.aspx")
    page1 = client.text(url)
    assert "__doPostBack('ctl00$ContentPlaceHolder1$ListPager','2')" in page1
    assert client.text(url + "?page=2") == page1                       # GET never pages
    fields = _hidden_fields(page1)
    assert {"__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION", "__EVENTTARGET", "__EVENTARGUMENT"} <= set(fields)
    post = lambda f: client.get(url, data=urllib.parse.urlencode(f).encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    good = dict(fields, __EVENTTARGET="ctl00$ContentPlaceHolder1$ListPager", __EVENTARGUMENT="2")
    status, body = post(good)
    assert status == 200 and body.decode() != page1 and "第2/" in body.decode()
    assert post({k: v for k, v in good.items() if k != "__VIEWSTATE"})[0] == 500
    assert post(dict(good, __VIEWSTATE="x" + good["__VIEWSTATE"][1:]))[0] == 500
    assert post(dict(good, __EVENTVALIDATION="AAAA"))[0] == 500
    listed = set(re.findall(r'Content\.aspx\?id=(\d+)', page1))
    hidden = [tr for tr in world.truth_for("aspnet") if tr.page_url.rsplit("=", 1)[1] not in listed]
    assert hidden                                                         # reports beyond page 1


@pytest.mark.parametrize("family", ["picker_select", "picker_form"])
def test_picker_only_newest_linked_and_base_href(world, client, family):
    t = world.target(family)
    list_url = urljoin(t.start_url, "/portal/gk/nb/index.html")
    page = client.text(list_url)
    assert '<base href="/portal/">' in page and '<base href="/portal/">' in client.text(t.start_url)
    truth = sorted(world.truth_for(family), key=lambda r: r.year)
    linked = set(re.findall(r'<a href="([^"]+)"', page))
    rel = lambda u: u.split("/portal/", 1)[1]
    assert rel(truth[-1].page_url) in linked and not any(rel(r.page_url) in linked for r in truth[:-1])
    some = next(iter(l for l in linked if l.startswith("gk/nb/2")))
    assert client.get(urljoin(list_url, some))[0] == 404                 # joined against the page, not <base>
    assert client.get(urljoin(t.start_url + "portal/", some))[0] == 200
    old = truth[0]
    if family == "picker_select":
        assert 'onchange="location.href=this.value"' in page and f'value="{rel(old.page_url)}"' in page
    else:
        assert '<form class="lnnb" action="gk/nb/list.jsp" method="get">' in page and f'value="{old.year}"' in page
        found = client.text(urljoin(t.start_url, f"/portal/gk/nb/list.jsp?year={old.year}"))
        assert f'href="{rel(old.page_url)}"' in found


def test_gbkurl_needs_gbk_bytes(world, client):
    truth = world.truth_for("gbkurl")
    url = next(u for t in truth for u in t.file_urls)
    assert "%" in url and client.get(url)[0] == 200
    path = urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(url).path).decode("gbk")
    utf8 = urljoin(url, quote(path.encode("utf-8"), safe="/"))
    assert utf8 != url and client.get(utf8)[0] == 404
    pages = [client.get(t.page_url)[1] for t in truth]
    assert all(b"charset=gb2312" in p for p in pages)
    raw = [p for p in pages if re.search(rb'href="/UploadFiles/\xc4\xea\xb1\xa8/', p)]
    assert len(raw) == 1                                                  # raw GBK bytes in the href
    href = re.search(rb'href="(/UploadFiles/[^"]+)"', raw[0]).group(1)
    assert client.get(urljoin(url, quote(href, safe="/")))[0] == 200
    assert client.get(urljoin(url, quote(href.decode("gbk").encode("utf-8"), safe="/")))[0] == 404


def test_scriptlist_plain_html_has_no_list(world, client):
    t = world.target("scriptlist")
    home = client.text(t.start_url)
    node = re.search(r'"/c/(\d+)/index\.shtml"', home).group(1)
    page = client.text(urljoin(t.start_url, f"/c/{node}/index.shtml"))
    assert '<div id="c3"></div>' in page and "XMLHttpRequest" in page
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert len(re.findall(r"<a href=", markup)) <= 1                      # only the header's home link
    data = json.loads(client.text(urljoin(t.start_url, f"/cms/q/list?nid={node}&pg=1")))
    ids = {str(r["k"]) for r in data["data"]["rows"]}
    assert data["data"]["total"] > len(ids) and all("url" not in r for r in data["data"]["rows"])


def test_nocolumn_reports_among_news_pages_deep(world, client):
    t = world.target("nocolumn")
    home = client.text(t.start_url)
    assert "年报" not in home and "年度报告" not in re.sub(r"<ul class=\"latest\">.*?</ul>", "", home, flags=re.S)
    deep = 0
    for col in ("tzgg", "zwgk", "zxxx"):
        n = 1
        while True:
            url = urljoin(t.start_url, f"/{col}/index.html" if n == 1 else f"/{col}/index_{n}.html")
            status, body = client.get(url)
            if status != 200:
                break
            if n >= 2 and any(urllib.parse.urlsplit(r.page_url).path in body.decode() for r in world.truth_for("nocolumn")):
                deep += 1
            n += 1
        assert n > 3
    assert deep >= 1


def _text_of(body: bytes, url: str) -> str:
    if url.endswith(".pdf"):
        import pypdf
        return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    import docx
    return "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)


def test_yearless_links_have_no_year_files_do(world, client):
    t = world.target("yearless")
    page = client.text(urljoin(t.start_url, "/xxgk/ndbg/index.html"))
    captions = re.findall(r'target="_blank">([^<]+)</a>', page)
    assert captions and not any(re.search(r"\d", c) or t.agency in c for c in captions)
    for r in world.truth_for("yearless"):
        text = _text_of(client.get(r.file_urls[0])[1], r.file_urls[0])
        assert f"{r.year}年" in text
    look = [u for u in world.lookalikes_for("yearless")]
    texts = [_text_of(client.get(u)[1], u) for u in look]
    assert any("工作要点" in x for x in texts)


def test_hanwebxxgk_list_is_a_post_fragment(world, client):
    t = world.target("hanwebxxgk")
    home = client.text(t.start_url)
    col = client.text(urljoin(t.start_url, re.search(r'href="(/col/col\d+/index\.html)"', home).group(1)))
    jdid = re.search(r"jdid=(\d+)", col).group(1)
    divid = re.search(r'<div id="(div\d+)">', col).group(1)
    assert "art_" not in col and "/module/xxgk/tree.jsp" in col
    search = urljoin(t.start_url, "/module/xxgk/search.jsp")
    form = lambda **kw: urllib.parse.urlencode(dict({"jdid": jdid, "divid": divid, "area": ""}, **kw)).encode()
    frag = client.text(search, data=form(infotypeId="A0907", currpage="1"))
    assert "共" in frag and "art_" in frag and "searchPage('A0907',2)" in frag
    assert "暂无信息" in client.text(search, data=urllib.parse.urlencode({"infotypeId": "A0907"}).encode())
    allcat = client.text(search, data=form(infotypeId="", currpage="1"))
    assert "art_" in allcat


def test_epoint_list_needs_json_post(world, client):
    t = world.target("epoint")
    api = urljoin(t.start_url, "/inteligentsearch/rest/inteligentSearch/getFullTextData")
    shell = client.text(urljoin(t.start_url, "/xxgk/006/006001/secondPage.html"))
    assert '<ul class="wb-data-item" id="showList"></ul>' in shell and "/xxgk/006/006001/2" not in shell
    assert client.get(api)[0] == 400
    assert client.get(api, data=b"pn=0&rn=6")[0] == 400
    body = lambda pn: json.dumps({"pn": pn, "rn": 6, "condition": [{"fieldName": "categorynum", "equal": "006001"}]}).encode()
    first = json.loads(client.text(api, data=body(0), headers={"Content-Type": "application/json"}))["result"]
    second = json.loads(client.text(api, data=body(6), headers={"Content-Type": "application/json"}))["result"]
    assert first["totalcount"] > 6 and first["records"] and second["records"]
    assert {r["linkurl"] for r in first["records"]}.isdisjoint(r["linkurl"] for r in second["records"])


def test_ilist_pages_by_form_and_clamps(world, client):
    t = world.target("ilist")
    home = client.text(t.start_url)
    first = urljoin(t.start_url, re.search(r'href="(/info/iList\.jsp[^"]+)"', home).group(1).replace("&amp;", "&"))
    page = client.text(first)
    cats = re.findall(r'cat_id=(\d+)&amp;cur_page=1">([^<]+)<', page)
    nb = next(c for c, name in cats if "年报" in name)
    lst = lambda p: client.text(re.sub(r"cat_id=\d+&cur_page=1", f"cat_id={nb}&cur_page={p}", first))
    p1, p2 = lst(1), lst(2)
    assert 'onclick="goPage(2)"' in p1 and '<form name="pageForm" action="iList.jsp" method="get">' in p1
    assert p1 != p2 and lst(99) == lst(int(re.search(r"共(\d+)页", p1).group(1)))


# -- the crawls, as a new user runs them ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawls(world, server, tmp_path_factory):
    root = tmp_path_factory.mktemp("adhoc")

    def one(target):
        data = root / target.family
        data.mkdir()
        cat, store = f"sqlite:///{data / 'catalogue.sqlite'}", (data / "objects").as_uri()
        try:
            proc = nianbao(*target.crawl_args(server.proxy_url), "--catalogue", cat, "--store", store,
                           env={"NIANBAO_DATA": str(data)}, timeout=CRAWL_TIMEOUT)
        except Exception as exc:                      # a hung crawl fails its own param only
            return {"error": repr(exc), "rows": []}
        out = nianbao("export", "--format", "jsonl", "--catalogue", cat, "--store", store, env={"NIANBAO_DATA": str(data)})
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        return {"returncode": proc.returncode, "stderr": proc.stderr[-2000:], "rows": rows}

    with concurrent.futures.ThreadPoolExecutor(len(world.targets)) as pool:
        results = dict(zip([t.family for t in world.targets], pool.map(one, world.targets)))
    return results


@pytest.mark.parametrize("family", ADHOC_FAMILIES)
def test_adhoc_crawl_finds_reports(world, crawls, family):
    result = crawls[family]
    assert "error" not in result, result.get("error")
    assert result["returncode"] == 0, result["stderr"]
    exported = {}
    for row in result["rows"]:
        exported.setdefault(row["sha256"], []).append(row)
    missing = []
    for t in world.truth_for(family):
        digest = t.sha256[primary(t)]
        if not any(r["is_report"] and r["year"] == t.year for r in exported.get(digest, [])):
            missing.append((t.year, primary(t), [(r["is_report"], r["year"]) for r in exported.get(digest, [])]))
    look_hashes = {sha(world.fetch(u).body): u for u in world.lookalikes_for(family)}
    wrongly = [look_hashes[r["sha256"]] for r in result["rows"] if r["is_report"] and r["sha256"] in look_hashes]
    assert not missing and not wrongly, {"missing": missing, "lookalikes_kept": wrongly}

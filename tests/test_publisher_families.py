"""Who published it (issue 16): the simulator's publisher families, and an ad hoc crawl of each.

- `deptdir`: a prefecture's 政府信息公开 platform, the city government and seven departments, every
  title omitting its publisher (「2019年政府信息公开工作年度报告」 in each column); the department is
  known only from a page field, the breadcrumb or the department's column, in five templates.
- `countymix`: a county's one 年报 column mixing the county's, its departments' and its towns'/街道'
  reports under full, short and abbreviated names; the page field gives the full name, sometimes
  run together with the date in one table cell.

Simulator-only tests check what each family claims and that its places are real (they resolve
against crawler/publishers/divisions.py). The crawl tests run `nianbao crawl --start-url URL
--agency NAME --allow HOST --proxy P` with no site file and no hints, then `nianbao export`, and
measure recall and precision of reports and publisher accuracy (the exported publisher against
truth's canonical name), printed on every run (pytest -s shows it).
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from simulator import ADHOC_FAMILIES, PUBLISHER_FAMILIES, adhoc_world, serve
from simulator.places import PLACES
from tests.harness import nianbao

CRAWL_TIMEOUT = 900


@pytest.fixture(scope="module")
def world():
    return adhoc_world(seed=0, families=PUBLISHER_FAMILIES)


@pytest.fixture(scope="module")
def server(world):
    with serve(world) as s:
        yield s


@pytest.fixture(scope="module")
def get(server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))

    def fetch(url: str) -> tuple[int, bytes]:
        try:
            r = opener.open(url, timeout=30)
            return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    return fetch


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def primary(t) -> str:
    return t.file_urls[0] if t.file_urls else t.page_url


def canonical(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc.lower(), p.path, urlencode(sorted(parse_qsl(p.query))), ""))


# -- the families, without the crawler ----------------------------------------------------------------------------
def test_default_adhoc_world_unchanged():
    assert not set(PUBLISHER_FAMILIES) & set(ADHOC_FAMILIES)
    assert {p.family for p in adhoc_world(seed=0).portals} == set(ADHOC_FAMILIES)


def test_places_are_real_divisions():
    from crawler.publishers import divisions
    by_code = divisions.by_code()
    for p in PLACES:
        prov, pref, county = by_code[p.province_code], by_code[p.prefecture_code], by_code[p.county_code]
        assert (prov.name, pref.name, county.name) == (p.province, p.prefecture, p.county)
        assert county.parent == pref.code and pref.parent == prov.code and county.level == "county"
        assert county.short == p.county_short and len(set(p.towns)) == len(p.towns)


@pytest.mark.parametrize("family", PUBLISHER_FAMILIES)
def test_truth_names_canonical_publishers(world, get, family):
    from crawler.publishers import divisions
    by_code = divisions.by_code()
    truth = world.truth_for(family)
    assert len(truth) >= 20
    for t in truth:
        pub = t.publisher
        assert t.agency == pub["name"] and pub["kind"] in ("government", "department", "subdistrict")
        if pub["kind"] == "government" and pub["level"] in ("prefecture", "county"):
            assert pub["name"] == divisions.government_name(by_code[pub["region_code"]])
        if pub["level"] == "township":
            county = by_code[pub["region_code"]]
            assert pub["name"].startswith(county.name) and pub["parent"] == divisions.government_name(county)
            assert pub["name"].endswith("镇人民政府" if pub["kind"] == "government" else "街道办事处")
        if pub["kind"] == "department":
            assert pub["region_code"] is None and pub["parent"].endswith("人民政府")
            assert pub["name"].startswith(pub["parent"][: -len("人民政府")])
    by_year = {}
    for t in truth:
        assert by_year.setdefault((t.agency, t.year), t) is t          # one report per publisher and year
    looks = world.lookalikes_for(family)
    assert len(looks) >= 3 and not looks & {u for t in truth for u in t.sha256}
    for t in truth:
        for url, digest in t.sha256.items():
            status, body = get(url)
            assert status == 200 and sha(body) == digest, url
    for url in looks:
        assert get(url)[0] == 200, url


def test_deptdir_titles_omit_the_department(world, get):
    truth = world.truth_for("deptdir")
    depts = {t.agency for t in truth if t.publisher["kind"] == "department"}
    assert len(depts) >= 6
    city = world.target("deptdir").agency[: -len("人民政府")]
    assert all(city not in t.title and not re.search(r"[局委办]", t.title) for t in truth)
    titles = {}
    for t in truth:
        titles.setdefault((t.title, t.year), set()).add(t.agency)
    assert max(len(v) for v in titles.values()) >= 2                     # one title, two publishers
    # The department is on the article page (field or breadcrumb) or only on its column's page.
    on_page = lambda t: t.agency in get(t.page_url)[1].decode("utf-8")
    assert not all(on_page(t) for t in truth) and sum(map(on_page, truth)) >= len(truth) // 2
    home = get(world.target("deptdir").start_url)[1].decode("utf-8")
    assert all(d in home for d in depts)
    pages = [get(t.page_url)[1].decode("utf-8") for t in truth]
    assert any("发布机构</td>" in p for p in pages) and any("信息来源：" in p for p in pages)
    assert any('name="ContentSource"' in p for p in pages) and any("当前位置：<a href=\"/\">首页</a> /" in p for p in pages)
    # no class name but the platform's header and footer is on every report page
    classes = [set(re.findall(r'class="([^"]+)"', p)) for p in pages]
    assert set.intersection(*classes) <= {"top", "foot"}


def test_countymix_mixes_names(world, get):
    truth = world.truth_for("countymix")
    kinds = {(t.publisher["kind"], t.publisher["level"]) for t in truth}
    assert {("government", "county"), ("department", None), ("government", "township"), ("subdistrict", "township")} <= kinds
    county = world.target("countymix").agency[: -len("人民政府")]
    titled = lambda t: re.match(r"(?:\d{4}年度?)?(.+?)(?:\d{4}年|政府信息公开)", t.title).group(1)
    printed = {(t.agency, titled(t)) for t in truth}
    full = [a for a, n in printed if a == n]
    abbreviated = [n for a, n in printed if n.startswith("县") and n != a]
    bare = [n for a, n in printed if a.startswith(county + n) and "镇" not in n and "街道" not in n and n != a]
    towns = [n for a, n in printed if re.search("镇|街道", a) and not n.startswith(county)]
    place_alone = [n for a, n in printed if a == county + "人民政府" and n in (county, county[:-1])]
    assert full and abbreviated and bare and towns and place_alone, printed
    pages = {t.agency: [] for t in truth}
    for t in truth:
        page = get(t.page_url)[1].decode("utf-8")
        assert t.agency in page                                        # the page field gives the full name
        pages[t.agency].append(page)
    run_together = [p for ps in pages.values() for p in ps if re.search(r"<td>发布机构：[^<]+发布日期：", p)]
    assert run_together


# -- the crawls, as a new user runs them ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawls(world, server, tmp_path_factory):
    root = tmp_path_factory.mktemp("publishers")

    def one(target):
        data = root / target.family
        data.mkdir()
        cat, store = f"sqlite:///{data / 'catalogue.sqlite'}", (data / "objects").as_uri()
        try:
            proc = nianbao(*target.crawl_args(server.proxy_url), "--catalogue", cat, "--store", store,
                           env={"NIANBAO_DATA": str(data)}, timeout=CRAWL_TIMEOUT)
        except Exception as exc:
            return {"error": repr(exc), "rows": []}
        out = nianbao("export", "--format", "jsonl", "--catalogue", cat, "--store", store, env={"NIANBAO_DATA": str(data)})
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        return {"returncode": proc.returncode, "stderr": proc.stderr[-2000:], "rows": rows}

    targets = [world.target(f) for f in PUBLISHER_FAMILIES]
    with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
        return dict(zip(PUBLISHER_FAMILIES, pool.map(one, targets)))


def exported_publisher(row: dict) -> str | None:
    """The publisher an export row names: its canonical name once the export carries one, else agency."""
    pub = row.get("publisher")
    if isinstance(pub, dict) and pub.get("name"):
        return pub["name"]
    return row.get("publisher_name") or row.get("agency")


def measure(world, family: str, rows: list[dict]) -> dict:
    truth = world.truth_for(family)
    by_sha = {}
    for r in rows:
        by_sha.setdefault(r["sha256"], []).append(r)
    found, right, wrong_pub, missing = 0, 0, [], []
    for t in truth:
        hits = [r for r in by_sha.get(t.sha256[primary(t)], []) if r["is_report"] and r["year"] == t.year]
        if not hits:
            missing.append((t.agency, t.year, primary(t)))
            continue
        found += 1
        if exported_publisher(hits[0]) == t.publisher["name"]:
            right += 1
        else:
            wrong_pub.append((t.year, t.publisher["name"], exported_publisher(hits[0])))
    # A report row is right when it is a true report's file or its article page.
    true_shas = {h for t in truth for h in t.sha256.values()}
    true_pages = {canonical(t.page_url) for t in truth}
    claimed = [r for r in rows if r["is_report"]]
    false = [(r["url"], r["title"]) for r in claimed
             if r["sha256"] not in true_shas and canonical(r["final_url"] or r["url"]) not in true_pages]
    return {"recall": found / len(truth), "precision": (len(claimed) - len(false)) / max(1, len(claimed)),
            "publisher_accuracy": right / max(1, found), "missing": missing, "false": false,
            "wrong_publisher": wrong_pub, "reports": len(truth)}


def _result(world, crawls, family) -> dict:
    result = crawls[family]
    assert "error" not in result, result.get("error")
    assert result["returncode"] == 0, result["stderr"]
    m = measure(world, family, result["rows"])
    print(f"\n{family}: {m['reports']} reports, recall {m['recall']:.3f}, precision {m['precision']:.3f}, "
          f"publisher accuracy {m['publisher_accuracy']:.3f} (of the reports found)")
    for year, want, got in m["wrong_publisher"]:
        print(f"  {year} {want} <- {got}")
    return m


@pytest.mark.parametrize("family", ["deptdir", "countymix"])
def test_publisher_family_crawl_finds_every_report(world, crawls, family):
    m = _result(world, crawls, family)
    assert m["recall"] == 1.0 and m["precision"] == 1.0, {"missing": m["missing"], "false": m["false"]}


@pytest.mark.parametrize("family", PUBLISHER_FAMILIES)
def test_publisher_family_crawl_attributes_every_report(world, crawls, family):
    m = _result(world, crawls, family)
    assert m["publisher_accuracy"] == 1.0, m["wrong_publisher"]

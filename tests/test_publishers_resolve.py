"""Who published it (crawler/publishers/): printed names to one publisher, from tables."""
from __future__ import annotations

import pytest

from crawler.attribution import attribute
from crawler.publishers.evidence import Evidence, body_names, field_value, gather, section_name
from crawler.publishers.names import abbreviates, split
from crawler.publishers.resolve import Site, resolve
from tests.shared import SHARED


# ---- short forms with the site's place -------------------------------------------------------
@pytest.mark.parametrize("printed,site,name", [
    ("县住建局", "西岭县人民政府", "西岭县住房和城乡建设局"),
    ("清河市住建局", "清河市人民政府", "清河市住房和城乡建设局"),
    ("市卫健委", "清河市人民政府", "清河市卫生健康委员会"),
    ("县卫健局", "西岭县人民政府", "西岭县卫生健康局"),
    ("县市场监管局", "西岭县人民政府", "西岭县市场监督管理局"),
    ("市人社局", "清河市人民政府", "清河市人力资源和社会保障局"),
    ("市发改委", "清河市人民政府", "清河市发展和改革委员会"),
    ("县发改局", "西岭县人民政府", "西岭县发展和改革局"),
    ("临江市质监局", "临江市质量技术监督局", "临江市质量技术监督局"),
    ("县教体局", "西岭县人民政府", "西岭县教育和体育局"),
    ("县应急局", "西岭县人民政府", "西岭县应急管理局"),
    ("区退役军人局", "鹿城区人民政府", "鹿城区退役军人事务局"),
    ("县政府办", "西岭县人民政府", "西岭县人民政府办公室"),
    ("市财政局", "清河市人民政府", "清河市财政局"),
    ("财政局", "清河市人民政府", "清河市财政局"),                 # a department column's own name
    ("区商务局", "温州市鹿城区财政局", "温州市鹿城区商务局"),       # the place as the site writes it
    ("鹿城区商务局", "温州市鹿城区财政局", "温州市鹿城区商务局"),
    ("湖州市質量技術監督局", "湖州市人民政府", "湖州市质量技术监督局"),  # traditional is simplified
    ("市场监督管理局", "清河市人民政府", "清河市市场监督管理局"),       # 市场 is not the level 市
])
def test_short_forms_with_site_place(printed, site, name):
    got = resolve(printed, Site(site))
    assert got is not None and got.name == name, got


@pytest.mark.parametrize("printed,site", [
    ("区商务局", "清河市人民政府"),   # which district? nothing says: no guess
    ("人民政府", "西岭县人民政府"),
    ("本局", "西岭县人民政府"),
    ("清河市人民政府网", "清河市人民政府"),   # a website, not a publisher
    ("信息公开", "清河市人民政府"),
])
def test_names_that_resolve_to_no_one(printed, site):
    assert resolve(printed, Site(site)) is None


# ---- a place alone is its government; a zone's is its 管理委员会 ---------------------------------
@pytest.mark.parametrize("printed,site,name,kind", [
    ("江阴", None, "江阴市人民政府", "county_government"),
    ("江阴市", None, "江阴市人民政府", "county_government"),
    ("莆田市", None, "莆田市人民政府", "prefecture_government"),
    ("西岭县", "西岭县人民政府", "西岭县人民政府", "county_government"),
    ("鹿鳴縣", "鹿鳴縣人民政府", "鹿鸣县人民政府", "county_government"),
    ("北岸开发区", None, "北岸开发区管理委员会", "zone_committee"),
    ("北岸开发区管委会", "北岸经济开发区管理委员会", "北岸经济开发区管理委员会", "zone_committee"),
    ("北岸开发区", "北岸经济开发区管理委员会", "北岸经济开发区管理委员会", "zone_committee"),
    ("安徽省", None, "安徽省人民政府", "province_government"),
])
def test_place_to_government(printed, site, name, kind):
    got = resolve(printed, Site(site) if site else None)
    assert (got.name, got.kind) == (name, kind), got


def test_region_code_and_parent_from_the_divisions():
    got = resolve("江阴市住建局")
    assert (got.name, got.kind, got.region_code, got.parent) == (
        "江阴市住房和城乡建设局", "department", "320281", "江阴市人民政府")
    gov = resolve("江阴")
    assert (gov.region_code, gov.parent) == ("320281", "无锡市人民政府")


# ---- a town or 街道 named without its county: the site's county's ----------------------------
@pytest.mark.parametrize("printed,site,name,kind,parent", [
    ("青龙镇", "建水县人民政府", "建水县青龙镇人民政府", "township_government", "建水县人民政府"),
    ("青龙镇政府", "建水县人民政府", "建水县青龙镇人民政府", "township_government", "建水县人民政府"),
    ("青龙镇人民政府", "建水县住房和城乡建设局", "建水县青龙镇人民政府", "township_government", "建水县人民政府"),
    ("对坊乡", "宁都县人民政府", "宁都县对坊乡人民政府", "township_government", "宁都县人民政府"),
    ("和平街道", "梅河口市人民政府", "梅河口市和平街道办事处", "subdistrict_office", "梅河口市人民政府"),
    ("和平街道办事处", "梅河口市人民政府", "梅河口市和平街道办事处", "subdistrict_office", "梅河口市人民政府"),
])
def test_town_under_county(printed, site, name, kind, parent):
    got = resolve(printed, Site(site))
    assert (got.name, got.kind, got.parent) == (name, kind, parent), got


# ---- reading names apart ----------------------------------------------------------------------
@pytest.mark.parametrize("name,places,relative,body", [
    ("温州市鹿城区商务局", ("温州市", "鹿城区"), None, "商务局"),
    ("县住建局", (), "县", "住房和城乡建设局"),
    ("清河市住房和城乡建设局", ("清河市",), None, "住房和城乡建设局"),
    ("道县文广新局", ("道县",), None, "文化广电新闻出版局"),
    ("湖州市质量技监局", ("湖州市",), None, "质量技监局"),   # only a whole body is expanded
])
def test_split(name, places, relative, body):
    got = split(name)
    assert (got.places, got.relative, got.body) == (places, relative, body)


def test_abbreviation_of_the_site_name():
    assert abbreviates("北岸开发区管委会", "北岸经济开发区管理委员会")
    assert abbreviates("道县文广新局", "道县文化广电新闻出版局")
    assert not abbreviates("清河市财政局", "清河市人民政府")


# ---- run-together key-value cells ----------------------------------------------------------------
@pytest.mark.parametrize("raw,value", [
    ("发布机构：清河市教育局 发布日期：2019-01-01", "清河市教育局"),
    ("发布机构：清河市教育局发布日期：2019-01-01", "清河市教育局"),
    ("清河市教育局生成日期2019-01-01", "清河市教育局"),
    ("清河市教育局2019-01-01", "清河市教育局"),
    ("信息来源：县政府办 时间：2020年1月5日", "县政府办"),
    ("来源：本网", None),
    ("清河市人民政府网", None),
    ("发布机构：清河市教育局索引号：11330101/2019-00001", "清河市教育局"),
])
def test_run_together_field_cells(raw, value):
    assert field_value(raw) == value


@pytest.mark.parametrize("text,names", [
    ("根据《条例》要求，特编制《清河市财政局2016年政府信息公开工作年度报告》。", ["清河市财政局"]),
    ("根据《中华人民共和国政府信息公开条例》,特向社会公布2019年度青龙镇政府(机关)信息公开年度报告。", ["青龙镇"]),
    ("现公布永嘉县云岭乡人民政府2023年政府信息公开工作年度报告。", ["永嘉县云岭乡人民政府"]),
    ("一、总体情况 2025年,海城市卫生健康局认真贯彻落实《条例》", ["海城市卫生健康局"]),
    ("如对本报告有疑问，请与大冶市自然资源和规划局办公室联系。", ["大冶市自然资源和规划局"]),
    ("2023年,我局严格按照《条例》要求", []),
    # a field's cell beside the next cell's title (a title that omits the place): the cell ends it
    ("发布时间：2020-03-12 发布单位：永定市人民政府 人民政府2019年信息公开年度报告（见附件）", ["永定市人民政府"]),
])
def test_body_names(text, names):
    assert body_names(text) == names


def test_page_text_keeps_table_cells_apart():
    """A page's text, as the spider reads it (crawler.cms.extract): block elements apart, inline
    ones together; the publisher read from it is the field's, not the field's run into the title."""
    from crawler.cms import extract

    html = ("<html><body><table><tr><td>发布单位：永定市人民政府</td><td>人民政府2019年信息公开年度报告</td></tr>"
            "<tr><td><p>第一段</p><p>第二段<br>第三行</p><span>20</span><span>19</span>年</td></tr></table></body></html>")
    text = extract("http://www.x.gov.cn/a.html", html).text
    assert "永定市人民政府 人民政府2019年" in text and "第一段 第二段 第三行" in text and "2019年" in text
    assert body_names(text) == ["永定市人民政府"]


@pytest.mark.parametrize("crumb,heading,title,name", [
    ("首页 > 部门信息公开 > 清河市教育局 > 信息公开年报", "", "", "清河市教育局"),
    ("", "清河市教育局 · 信息公开年报", "", "清河市教育局"),
    ("", "", "徐州市教育局 - 徐州市政府信息公开平台", "徐州市教育局"),
    ("", "政府信息公开年报", "徐州市政府信息公开平台", None),
])
def test_section_name_of_a_listing(crumb, heading, title, name):
    assert section_name(breadcrumb=crumb, heading=heading, title=title) == name


def test_section_of_the_listing_when_the_page_names_no_one():
    # A department column links an article page that names only the platform.
    got = attribute(gather(titles=[], section="徐州市教育局"), "徐州市人民政府")
    assert (got["name"], got["source"]) == ("徐州市教育局", "breadcrumb")
    own = attribute(gather(breadcrumb="首页 > 清河市民政局 > 年报", section="清河市教育局"), CITY)
    assert own["name"] == "清河市民政局"   # the page's own breadcrumb first


# ---- evidence order and conflicts ------------------------------------------------------------
CITY = "清河市人民政府"


@pytest.mark.parametrize("evidence,site,name,source", [
    # the page's own field beats the breadcrumb, title and body
    ([Evidence("page_field", "清河市教育局"), Evidence("breadcrumb", "清河市人民政府"),
      Evidence("title", "清河市")], CITY, "清河市教育局", "page_field"),
    # a department column's breadcrumb when the title names no one
    ([Evidence("breadcrumb", "清河市人力资源和社会保障局")], CITY, "清河市人力资源和社会保障局", "breadcrumb"),
    # the title's short form when nothing stronger speaks
    ([Evidence("title", "市财政局")], CITY, "清河市财政局", "title"),
    ([Evidence("body", "清河市民政局")], CITY, "清河市民政局", "body"),
    # nothing: the site's publisher
    ([], CITY, CITY, "site"),
    ([Evidence("title", "区商务局")], CITY, CITY, "site"),
    # the government's office uploads for others: the title names the author
    ([Evidence("page_field", "县政府办"), Evidence("title", "县住建局")], "西岭县人民政府",
     "西岭县住房和城乡建设局", "title"),
    # the site's own office alone in the field: the government's report
    ([Evidence("page_field", "西岭县人民政府办公室")], "西岭县人民政府", "西岭县人民政府", "site"),
    # ... unless the title names the office too
    ([Evidence("page_field", "西岭县人民政府办公室"), Evidence("title", "县人民政府办公室")], "西岭县人民政府",
     "西岭县人民政府办公室", "page_field"),
    # a breadcrumb naming the portal's government is the site, not the section
    ([Evidence("breadcrumb", "西岭县人民政府"), Evidence("title", "青龙镇")], "西岭县人民政府",
     "西岭县青龙镇人民政府", "title"),
    # a portal filling 来源 with its owner: the department under it the title names
    ([Evidence("page_field", "金台区人民政府"), Evidence("title", "区商务局")], "金台区商务局",
     "金台区商务局", "title"),
    # ... but not a department elsewhere
    ([Evidence("page_field", "金台区人民政府"), Evidence("title", "清河市商务局")], "金台区商务局",
     "金台区人民政府", "page_field"),
    # a department's site in its government's portal: the portal's name is no section
    ([Evidence("breadcrumb", "金台区人民政府")], "金台区商务局", "金台区商务局", "site"),
    # the zone's short name on its own site
    ([Evidence("title", "北岸开发区管委会")], "北岸经济开发区管理委员会", "北岸经济开发区管理委员会", "title"),
])
def test_evidence_order(evidence, site, name, source):
    got = attribute(evidence, site)
    assert (got["name"], got["source"]) == (name, source), got
    assert got["evidence"] == [e.as_dict() for e in evidence]


def test_conflict_recorded_and_stronger_source_kept():
    got = attribute([Evidence("page_field", "清河市教育局"), Evidence("title", "清河市民政局")], CITY)
    assert got["name"] == "清河市教育局"
    assert "清河市民政局" in got["conflict"]
    agree = attribute([Evidence("page_field", "清河市住房和城乡建设局"), Evidence("title", "清河市住建局")], CITY)
    assert agree["conflict"] is None and agree["printed"] == "清河市住房和城乡建设局"


def test_publisher_dict_has_the_contract_fields():
    got = attribute(gather(fields=["发布机构：清河市住建局发布日期：2019-01-01"], titles=["2019年"]), CITY)
    assert set(got) == {"name", "kind", "region_code", "parent", "printed", "source", "evidence", "conflict"}
    assert (got["name"], got["kind"], got["parent"], got["printed"]) == (
        "清河市住房和城乡建设局", "department", "清河市人民政府", "清河市住建局")


# ---- measured on real documents (../shared/real-titles, labelled by hand) ---------------------
_REAL = SHARED / "real-titles" / "titles-dev.tsv"


@pytest.mark.skipif(not _REAL.exists(), reason="../shared/real-titles is not here")
def test_real_documents_publisher(capsys):
    """Each report's publisher from its title (its body's opening where no title was kept), with no
    site to read it in: the labelled publisher or one of its aliases, canonicalised alike."""
    import csv

    from crawler.publishers.names import normal
    from crawler.recognise import classify, extract_agency

    rows = [r for r in csv.DictReader(_REAL.open(encoding="utf-8"), delimiter="\t")
            if r["is_report"] == "1" and r["agency"]]
    right, wrong = 0, []
    for row in rows:
        text = "" if row["title"] else row["text_head"]
        verdict = classify(title=row["title"], text=text, url=row["url"])
        names = [n for n in [extract_agency(row["title"])] if n] or ([verdict.agency] if verdict.agency else [])
        got = attribute(gather(titles=names, body=row["text_head"]), "")
        labels = [row["agency"], *filter(None, row["agency_aliases"].split("|"))]
        want = {normal(x) for x in labels} | {p.name for x in labels if (p := resolve(x))}
        if got["name"] in want:
            right += 1
        else:
            wrong.append((row["id"], got["name"], row["agency"]))
    with capsys.disabled():
        print(f"\nreal-titles publisher accuracy: {right}/{len(rows)} = {right / len(rows):.2f}")
    # The misses name their author only as 我局 / 本级 / 我街道: no site here to say whose.
    assert right / len(rows) >= 0.9, wrong

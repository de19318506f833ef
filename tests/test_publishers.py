"""The registry of publishers in the catalogue: the seed (offline), attribution at archive time,
and an archivist's actions with their undo, from tables."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from crawler.publishers import divisions
from storage.catalogue import Catalogue
from storage.publishers import KIND_BY_LEVEL, PublisherError, kind_of_code, region_prefix, seed_names


@pytest.fixture
def cat(tmp_path):
    c = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    yield c
    c.close()


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'c.sqlite'}"
    with Catalogue.open(url) as c:
        c.load_divisions(divisions=divisions.load(), government_name=divisions.government_name)
    return url


@pytest.mark.parametrize("level,kind", [("province", "province_government"),
                                        ("prefecture", "prefecture_government"),
                                        ("county", "county_government")])
def test_kind_by_level(level, kind):
    assert KIND_BY_LEVEL[level] == kind


@pytest.mark.parametrize("code,kind", [
    ("320000", "province_government"), ("320200", "prefecture_government"), ("320281", "county_government"),
    ("320281100", "township_government"), ("32028", "other"), ("abc123", "other"), (None, "other"),
])
def test_kind_of_code(code, kind):
    assert kind_of_code(code) == kind


@pytest.mark.parametrize("code,prefix", [("320000", "32"), ("320500", "3205"), ("320581", "320581"),
                                         ("3205", "3205")])
def test_region_prefix(code, prefix):
    assert region_prefix(code) == prefix


@dataclass(frozen=True)
class D:
    code: str
    name: str
    level: str
    parent: str | None


def test_seed_names_qualify_shared_names_and_fold_municipalities():
    rows = [D("110000", "北京市", "province", None), D("110100", "北京市", "prefecture", "110000"),
            D("110105", "朝阳区", "county", "110100"), D("220000", "吉林省", "province", None),
            D("220100", "长春市", "prefecture", "220000"), D("220104", "朝阳区", "county", "220100"),
            D("220102", "南关区", "county", "220100")]
    seed = seed_names(rows, divisions.government_name)
    assert "110100" not in seed                                  # the municipality is one government
    assert seed["110105"] == ("北京市朝阳区人民政府", "county_government", "110000")
    assert seed["220104"] == ("长春市朝阳区人民政府", "county_government", "220100")
    assert seed["220102"][0] == "南关区人民政府"                    # a unique name stays as it is


def test_load_divisions_offline_is_complete_and_idempotent(seeded_url):
    with Catalogue.open(seeded_url) as c:
        again = c.load_divisions(divisions=divisions.load(), government_name=divisions.government_name)
        assert again["created"] == 0 and again["updated"] == 0
        govs = c.publishers()
        assert len(govs) == again["governments"] > 3200
        jiangsu = c.publishers(region="320000")
        by_name = {p.name: p for p in jiangsu}
        jy = by_name["江阴市人民政府"]
        assert (jy.kind, jy.region_code) == ("county_government", "320281")
        assert c.publisher(publisher_id=jy.parent_id).name == "无锡市人民政府"
        assert by_name["江苏省人民政府"].kind == "province_government"
        assert {p.region_code[:2] for p in jiangsu} == {"32"}
        assert len(set(p.name for p in govs)) == len(govs)


def _report(cat, site, url, publisher, agency=None):
    rid, _ = cat.upsert_report(site_id=site, agency=agency or (publisher or {}).get("name") or "x",
                               year=2020, title="t", url=url, publisher=publisher)
    return rid


def pub(name, printed, source="page_field", kind="department", code="320281", parent="江阴市人民政府"):
    return {"name": name, "printed": printed, "source": source, "kind": kind, "region_code": code,
            "parent": parent, "evidence": [{"source": source, "text": f"发布机构：{printed}"}], "conflict": None}


ZJJ = "江阴市住房和城乡建设局"


def test_three_spellings_are_one_publisher_with_three_aliases(seeded_url, tmp_path):
    with Catalogue.open(seeded_url) as cat:
        cat.upsert_site(site_id="jy", agency="江阴市人民政府", kind="government", region_code="320281")
        for i, printed in enumerate([ZJJ, "市住建局", "住建局"]):
            _report(cat, "jy", f"http://jy/{i}", pub(ZJJ, printed))
        conflict = _report(cat, "jy", "http://jy/c", dict(pub("江阴市人民政府", "乱码", source="site"),
                                                         conflict="page field and title disagree"))
        site_pub = cat.publisher_by_name(name="江阴市人民政府")
        assert {s.id: s.publisher_id for s in cat.sites()}["jy"] == site_pub.id    # the seeded government
        reports = {r.url: r for r in cat.reports(site_id="jy")}
        zjj = cat.publisher_by_name(name=ZJJ)
        assert {reports[f"http://jy/{i}"].publisher_id for i in range(3)} == {zjj.id}
        assert (zjj.kind, zjj.region_code, zjj.parent_id) == ("department", "320281", site_pub.id)
        aliases = {a.alias: a for a in cat.publisher_aliases(publisher_id=zjj.id)}
        assert set(aliases) == {ZJJ, "市住建局", "住建局"}
        assert aliases["住建局"].source == "page_field" and aliases["住建局"].evidence == "发布机构：住建局"
        assert aliases["住建局"].example_url == "http://jy/2"
        c = next(r for r in reports.values() if r.id == conflict)
        assert c.publisher_id == site_pub.id and c.attribution["conflict"]      # never a made-up name


def test_government_by_region_code_whatever_its_printed_name(seeded_url):
    with Catalogue.open(seeded_url) as cat:
        pid = cat.upsert_publisher(name="朝阳区人民政府", kind="county_government", region_code="220104")
        assert cat.publisher(publisher_id=pid).name == "长春市朝阳区人民政府"


@pytest.fixture
def two(cat):
    """Two publishers for one body (a crawl met it under two names), reports on both."""
    cat.upsert_site(site_id="s", agency="某县人民政府", kind="government", region_code="320281")
    _report(cat, "s", "http://s/a1", pub("某县质量技术监督局", "县质监局"))
    _report(cat, "s", "http://s/a2", pub("某县质量技术监督局", "质监局"))
    _report(cat, "s", "http://s/b1", pub("某县质监局", "某县质监局"))
    a = cat.publisher_by_name(name="某县质监局").id
    b = cat.publisher_by_name(name="某县质量技术监督局").id
    return cat, a, b


def _state(cat):
    return ({r.url: r.publisher_id for r in cat.reports()},
            sorted((x.alias, x.publisher_id, x.source) for x in cat.publisher_aliases()),
            sorted((p.id, p.merged_into_id, p.created_year, p.abolished_year) for p in cat.publishers(include_merged=True)))


@pytest.mark.parametrize("action", ["merge", "split_new", "split_into", "add_alias", "created", "abolished"])
def test_each_action_is_recorded_and_undo_puts_everything_back(two, action):
    cat, a, b = two
    before = _state(cat)
    alias = next(x for x in cat.publisher_aliases(publisher_id=b) if x.alias == "质监局")
    do = {
        "merge": lambda: cat.merge_publishers(source_id=a, into_id=b, who="甲", why="同一机构"),
        "split_new": lambda: cat.split_alias(alias_id=alias.id, into_name="某县质量监督站", kind="other",
                                             who="甲", why="另一机构"),
        "split_into": lambda: cat.split_alias(alias_id=alias.id, into_id=a, who="甲", why="另一机构"),
        "add_alias": lambda: cat.add_alias(publisher_id=a, alias="县质监局", site_id="s", who="甲", why="页面简称"),
        "created": lambda: cat.mark_publisher(publisher_id=a, event="created", year=2015, who="甲", why="新设"),
        "abolished": lambda: cat.mark_publisher(publisher_id=a, event="abolished", year=2019, who="甲", why="机构改革"),
    }[action]
    action_id = do()
    after = _state(cat)
    assert after != before
    recorded = cat.publisher_actions()[0]
    assert (recorded.id, recorded.who, recorded.why) == (action_id, "甲", recorded.why) and recorded.why
    undo = cat.undo_action(action_id=action_id, who="乙", why="弄错了")
    assert _state(cat) == before
    assert cat.publisher_actions()[1].undone_by == undo


def test_merge_moves_reports_and_the_old_name_follows(two):
    cat, a, b = two
    cat.merge_publishers(source_id=a, into_id=b, who="甲", why="同一机构")
    assert {r.url for r in cat.reports() if r.publisher_id == b} == {"http://s/a1", "http://s/a2", "http://s/b1"}
    # A recrawl printing the old name lands on the merged publisher.
    _report(cat, "s", "http://s/b2", pub("某县质监局", "某县质监局"))
    assert {r.url: r.publisher_id for r in cat.reports()}["http://s/b2"] == b
    assert a not in {p.id for p in cat.publishers()}


def test_an_archivists_alias_outlives_recrawls(two):
    cat, a, b = two
    alias = next(x for x in cat.publisher_aliases(publisher_id=b) if x.alias == "质监局")
    cat.split_alias(alias_id=alias.id, into_id=a, who="甲", why="质监局 here is the other one")
    _report(cat, "s", "http://s/a2", pub("某县质量技术监督局", "质监局"))     # seen again
    assert {r.url: r.publisher_id for r in cat.reports()}["http://s/a2"] == a


@pytest.mark.parametrize("case,message", [
    ("self", "into itself"),
    ("twice", "undone already"),
    ("undo_an_undo", "is an undo"),
    ("later_first", "first"),
    ("no_who", "who and why"),
    ("unknown", "no publisher"),
])
def test_refusals(two, case, message):
    cat, a, b = two
    with pytest.raises(PublisherError, match=message):
        if case == "self":
            cat.merge_publishers(source_id=a, into_id=a, who="甲", why="x")
        elif case == "twice":
            act = cat.mark_publisher(publisher_id=a, event="created", year=2015, who="甲", why="x")
            cat.undo_action(action_id=act, who="甲", why="x")
            cat.undo_action(action_id=act, who="甲", why="x")
        elif case == "undo_an_undo":
            act = cat.mark_publisher(publisher_id=a, event="created", year=2015, who="甲", why="x")
            cat.undo_action(action_id=cat.undo_action(action_id=act, who="甲", why="x"), who="甲", why="x")
        elif case == "later_first":
            first = cat.mark_publisher(publisher_id=a, event="created", year=2015, who="甲", why="x")
            cat.merge_publishers(source_id=a, into_id=b, who="甲", why="x")
            cat.undo_action(action_id=first, who="甲", why="x")
        elif case == "no_who":
            cat.merge_publishers(source_id=a, into_id=b, who=" ", why="x")
        elif case == "unknown":
            cat.merge_publishers(source_id=a, into_id=10**9, who="甲", why="x")

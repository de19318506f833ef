"""Recognition of 政府信息公开工作年度报告: accept, reject, year and agency, from real-shaped titles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crawler.recognise import classify, extract_agency, is_soft_404, parse_year, to_simplified
from tests.shared import SHARED

# The five real reports: ../shared/seeds beside the checkout, else the copies the simulator ships.
SEEDS = next((p for p in (SHARED / "seeds",
                          Path(__file__).resolve().parents[1] / "simulator" / "seeds") if p.is_dir()),
             Path("missing-seeds"))
FIXTURES = Path(__file__).parent / "files" / "recognise"

# (title, is_report, year, agency or None, reason prefix)
TITLES = [
    # accepted: the ways real portals title the report
    ("温州市质量技术监督局2018年政府信息公开工作年度报告", True, 2018, "温州市质量技术监督局", "title"),
    ("关于2014年政府信息公开工作的年度报告", True, 2014, None, "title"),
    ("关于2014年度政府信息公开工作年度报告", True, 2014, None, "title"),
    ("区商务局2014年度政府信息公开工作报告", True, 2014, "区商务局", "title"),
    ("地方税务局2013年信息公开年度报告", True, 2013, "地方税务局", "title"),
    ("太倉市人民政府2013年度政府信息公開工作年度報告", True, 2013, "太仓市人民政府", "title"),
    ("湖州市質量技監局2012年政府信息公開工作年度報告", True, 2012, "湖州市质量技监局", "title"),
    ("二〇一八年度政府信息公開工作年度報告", True, 2018, None, "title"),
    ("二○一九年政府信息公开工作年度报告", True, 2019, None, "title"),
    ("杭州市财政局二零一六年政府信息公开工作年度报告", True, 2016, "杭州市财政局", "title"),
    ("北京市朝阳区人民政府2017 年政府信息公开工作年度报告", True, 2017, "北京市朝阳区人民政府", "title"),
    ("2022年度 政府信息公开工作年度报告（图片版）", True, 2022, None, "title"),
    ("南京市教育局2019年政府信息公开工作年度报告（超链版）", True, 2019, "南京市教育局", "title"),
    ("上海市黄浦区2020年政府信息公开工作年度报告（全文）", True, 2020, "上海市黄浦区", "title"),
    ("２０１５年政府信息公开工作年度报告", True, 2015, None, "title"),
    ("…2015年度政府信息公开年报", True, 2015, None, "title"),
    ("深圳市龙岗区卫生健康局2021年政府信息公开年报", True, 2021, "深圳市龙岗区卫生健康局", "title"),
    ("温州市政府信息公开工作年度报告（2016年）", True, 2016, "温州市人民政府", "title"),
    ("2018年温州市质量技术监督局政府信息公开工作年度报告", True, 2018, "温州市质量技术监督局", "title"),
    ("宁波市鄞州区姜山镇2019年度政府信息公开工作年度报告", True, 2019, "宁波市鄞州区姜山镇", "title"),
    ("关于2014年政府信息公开工作的年度报告_太仓市人民政府", True, 2014, None, "title"),
    ("苏州市民政局2013年政府信息公开年度报告 - 苏州市人民政府", True, 2013, "苏州市民政局", "title"),
    ("长沙市国土资源局2012年政府信息公开年度工作报告", True, 2012, "长沙市国土资源局", "title"),
    ("广州市越秀区人民政府2010年政府信息公开工作年度报告.pdf", True, 2010, "广州市越秀区人民政府", "title"),
    ("国家统计局2019年政府信息公开工作年度报告", True, 2019, "国家统计局", "title"),
    ("香港特區政府2019年度政府資訊公開工作年度報告", True, 2019, "香港特区政府", "title"),
    ("市交通运输局2020年政府信息公开和政务公开工作年度报告", True, 2020, "市交通运输局", "title"),
    ("2019政府信息公开工作年度报告", True, 2019, None, "title"),
    ("西湖区2008年政府信息公开工作年度报告 发布日期：2009年3月31日", True, 2008, "西湖区", "title"),
    ("【政府信息公开年报】某局2018年政府信息公开工作年度报告", True, 2018, "某局", "title"),
    ("某局2018年政府信息公开工作年度报告2019-01-30", True, 2018, "某局", "title"),
    ("中共温州市委宣传部2018年政府信息公开工作年度报告", True, 2018, "中共温州市委宣传部", "title"),
    ("宁夏回族自治区民政厅2019年政府信息公开工作年度报告", True, 2019, "宁夏回族自治区民政厅", "title"),
    # rejected: look-alikes that carry the report's words
    ("温州市人民政府办公室关于印发温州市2018年政府信息公开工作年度报告的通知", False, None, None, "lookalike:通知"),
    ("关于做好2018年政府信息公开工作年度报告编制发布工作的通知", False, None, None, "lookalike:通知"),
    ("关于报送2015年度政府信息公开工作年度报告的通知", False, None, None, "lookalike:通知"),
    ("关于编制2019年政府信息公开工作年度报告有关事项的函", False, None, None, "lookalike:通知"),
    ("关于发布2017年政府信息公开工作年度报告的公告", False, None, None, "lookalike:通知"),
    ("国务院办公厅政府信息与政务公开办公室关于印发中华人民共和国政府信息公开工作年度报告格式的通知", False, None, None, "lookalike:通知"),
    ("2019年政务公开工作要点", False, None, None, "lookalike:工作要点"),
    ("2018年政务公开工作要点落实情况", False, None, None, "lookalike:工作要点"),
    ("2016年政府信息公开工作自查报告", False, None, None, "lookalike:自查报告"),
    ("市科技局政府信息公开指南", False, None, None, "lookalike:公开指南"),
    ("2018年政府网站工作年度报表", False, None, None, "lookalike:网站年报"),
    ("温州市人民政府门户网站2019年度工作报表", False, None, None, "lookalike:网站年报"),
    ("2019年度法治政府建设年度报告", False, None, None, "lookalike:法治政府"),
    ("2020年法治政府建设情况报告", False, None, None, "lookalike:法治政府"),
    ("2021年政府工作报告", False, None, None, "lookalike:政府工作报告"),
    ("2018年部门决算公开", False, None, None, "lookalike:预决算"),
    ("市教育局2019年部门预算信息公开", False, None, None, "lookalike:预决算"),
    ("政府信息公开工作年度报告格式", False, None, None, "lookalike:格式"),
    ("新版政府信息公开工作年度报告格式解读", False, None, None, "lookalike:格式"),
    ("图解：2020年政府信息公开工作年度报告", False, None, None, "lookalike:解读"),
    ("一图读懂2021年政府信息公开工作年度报告", False, None, None, "lookalike:解读"),
    ("2019年政府信息公开工作年度报告统计数据", False, None, None, "lookalike:统计数据"),
    ("2018年上半年政府信息公开工作报告", False, None, None, "lookalike:期中"),
    ("2019年度政府信息公开工作年度报告第三方评估结果", False, None, None, "lookalike:评估"),
    ("全市召开2020年政府信息公开工作年度报告编制培训会", False, None, None, "lookalike:会议"),
    ("各部门2018年政府信息公开年度报告汇总", False, None, None, "lookalike:汇总"),
    ("政府信息公开目录", False, None, None, "lookalike:公开目录"),
    # rejected: no year (column pages) or nothing to do with reports
    ("政府信息公开年报", False, None, None, "no-year"),
    ("政府信息公开工作年度报告_政府信息公开_温州市人民政府", False, None, None, "no-year"),
    ("2018年全市国民经济和社会发展统计公报", False, None, None, "not-report"),
    ("关于公布2019年度企业年度报告公示情况的通告", False, None, None, "lookalike:通知"),
    ("温州市人民政府", False, None, None, "not-report"),
    ("", False, None, None, "not-report"),
]


@pytest.mark.parametrize(("title", "is_report", "year", "agency", "reason"), TITLES)
def test_classify_title(title, is_report, year, agency, reason):
    v = classify(title=title)
    assert v.is_report is is_report, v
    assert v.reason.startswith(reason), v
    if is_report:
        assert v.year == year
        assert v.agency == agency


@pytest.mark.parametrize(
    ("s", "year"),
    [
        ("2018年", 2018), ("2018年度", 2018), ("2018 年", 2018), ("二〇一八年", 2018), ("二○一八年度", 2018),
        ("二零一八年", 2018), ("２０１８年", 2018), ("统计期限为：2014年1月1日至2014年12月31日", 2014),
        ("发布日期：2019年3月1日 2018年度报告", 2018), ("2006年", None), ("2999年", None), ("第12345号", None),
        ("report 2016", 2016), ("", None), (f"{dt.date.today().year + 1}年", None),
    ],
)
def test_parse_year(s, year):
    assert parse_year(s) == year


@pytest.mark.parametrize(
    ("s", "agency"),
    [
        ("温州市质量技术监督局2018年政府信息公开工作年度报告", "温州市质量技术监督局"),
        ("关于2014年政府信息公开工作的年度报告", None),
        ("区商务局2014年度政府信息公开工作报告", "区商务局"),
        ("2018年政府信息公开工作年度报告", None),
        ("本局2018年政府信息公开工作年度报告", None),
        ("湖州市質量技監局2012年政府信息公開工作年度報告", "湖州市质量技监局"),
        ("杭州市政府信息公开工作年度报告2015", "杭州市人民政府"),
    ],
)
def test_extract_agency(s, agency):
    assert extract_agency(s) == agency


SEED_EXPECT = {
    "000": (2014, "苏州市太仓质量技术监督局"),
    "001": (2012, "湖州市质量技监局"),
    "002": (2013, "太仓市人民政府"),
    "003": (2014, "区商务局"),
    "004": (2018, "温州市质量技术监督局"),
}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not present")
@pytest.mark.parametrize("prefix", sorted(SEED_EXPECT))
def test_seed_reports_from_text_alone(prefix):
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    v = classify(text=path.read_text(encoding="utf-8"), title="附件1.pdf")
    assert (v.is_report, v.year, v.agency) == (True, *SEED_EXPECT[prefix]), v


def test_year_from_heading_when_title_is_the_column():
    v = classify(title="政府信息公开年报_温州市人民政府", heading="温州市质量技术监督局2018年政府信息公开工作年度报告")
    assert (v.is_report, v.year, v.agency, v.reason) == (True, 2018, "温州市质量技术监督局", "heading")


def test_year_from_period_statement_when_titles_have_none():
    text = "政府信息公开工作年度报告\n根据《中华人民共和国政府信息公开条例》……本报告中所列数据的统计期限自2016年1月1日起至2016年12月31日止。"
    v = classify(title="政府信息公开工作年度报告", text=text)
    assert (v.is_report, v.year) == (True, 2016)


def test_listing_page_is_not_a_report():
    text = "\n".join(f"某局{y}年政府信息公开工作年度报告 {y + 1}-03-01" for y in range(2012, 2020))
    v = classify(title="政府信息公开年报", text=text)
    assert not v.is_report and v.reason == "no-year"


def test_notice_heading_beats_generic_title():
    v = classify(title="通知公告_某市人民政府", heading="关于做好2018年政府信息公开工作年度报告的通知")
    assert not v.is_report and v.reason == "lookalike:通知"


def test_relative_agency_resolved_by_config():
    v = classify(title="区商务局2014年度政府信息公开工作报告", default_agency="温州市鹿城区商务局")
    assert v.agency == "温州市鹿城区商务局"
    v = classify(title="区商务局2014年度政府信息公开工作报告", default_agency="温州市鹿城区财政局")
    assert v.agency == "区商务局"


def test_url_file_name_speaks_when_nothing_else_does():
    url = "http://www.example.gov.cn/module/download/downfile.jsp/%E5%B8%82%E6%B0%91%E6%94%BF%E5%B1%802019%E5%B9%B4%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80%E5%B7%A5%E4%BD%9C%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf"
    v = classify(title="", url=url)
    assert (v.is_report, v.year, v.agency, v.reason) == (True, 2019, "市民政局", "url")


@pytest.mark.parametrize(
    ("title", "text", "soft"),
    [
        ("页面不存在", "", True),
        ("404 Not Found", "nginx", True),
        ("温州市人民政府", "对不起，您访问的页面不存在或已被删除！ 返回首页", True),
        ("信息公开", "该信息已删除", True),
        ("温州市质量技术监督局2018年政府信息公开工作年度报告", "根据《条例》……" * 200, False),
        ("2018年政府信息公开工作年度报告", "共受理申请404件。" + "根据条例，现将情况报告如下。" * 100, False),
        ("政府信息公开年报", "联系电话：0577-88907404 " + "某局2018年政府信息公开工作年度报告\n" * 30, False),
    ],
)
def test_soft_404(title, text, soft):
    assert is_soft_404(title, text) is soft
    if soft:
        assert classify(title=title, text=text).reason == "soft404"


def test_to_simplified():
    assert to_simplified("政府資訊公開年度報告") == "政府资讯公开年度报告"
    assert to_simplified("已是简体") == "已是简体"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_fixture_files(path):
    """Fixture files: first line is 'expect: report YEAR AGENCY|-' or 'expect: reject REASON'."""
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    words = first.split()
    v = classify(text=body)
    if words[1] == "report":
        assert (v.is_report, v.year, v.agency) == (True, int(words[2]), None if words[3] == "-" else words[3]), v
    else:
        assert not v.is_report and v.reason.startswith(words[2]), v


# ---- real documents from real portals (../shared/real-titles, labelled by hand) ----------------

_REAL = SHARED / "real-titles" / "titles-dev.tsv"


@pytest.mark.skipif(not _REAL.exists(), reason="../shared/real-titles is not here")
def test_real_documents_recognised():
    """Each row's title (its body's opening where no title was kept) gets the labelled verdict:
    no look-alike taken for a report, the right year for every report recognised, and at most
    a few reports missed (those whose opening names no year at all)."""
    import csv

    rows = list(csv.DictReader(_REAL.open(encoding="utf-8"), delimiter="\t"))
    false_reports, missed, wrong_year = [], [], []
    for row in rows:
        verdict = classify(title=row["title"], text="" if row["title"] else row["text_head"], url=row["url"])
        is_report = row["is_report"] == "1"
        if verdict.is_report and not is_report:
            false_reports.append((row["id"], row["kind"], row["title"] or row["text_head"][:60]))
        elif is_report and not verdict.is_report:
            missed.append(row["id"])
        elif is_report and verdict.year != int(row["year"]):
            wrong_year.append((row["id"], verdict.year, row["year"]))
    reports = sum(1 for row in rows if row["is_report"] == "1")
    assert not false_reports
    assert not wrong_year
    assert len(missed) <= reports * 0.06, missed

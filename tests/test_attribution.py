import pytest

from crawler.attribution import breadcrumb_agency, resolve_agency

SITE = "某某区人民政府"


@pytest.mark.parametrize("named,publisher,crumb,directory,expected", [
    ("温州市质量技术监督局", None, "", False, "温州市质量技术监督局"),
    ("区商务局", "某某区商务局", "", False, "某某区商务局"),          # short form completed
    (None, None, "", False, SITE),                                   # 关于2014年… : the site's own
    (None, "某某区人民政府办公室", "", False, SITE),                 # publisher alone is not the author
    (None, "某某区教育局", "", True, "某某区教育局"),                 # directory platform: department
    (None, None, "首页 > 部门信息公开 > 某某区财政局 > 政府信息公开年报", True, "某某区财政局"),
    (None, "信息公开", "首页 > 信息公开", True, SITE),
    ("湖州市質量技監局", None, "", False, "湖州市质量技监局"),       # traditional normalised
])
def test_resolve_agency(named, publisher, crumb, directory, expected):
    assert resolve_agency(named=named, publisher=publisher, breadcrumb=crumb, site_agency=SITE,
                          directory=directory) == expected


@pytest.mark.parametrize("crumb,expected", [
    ("首页 > 信息公开 > 市卫生健康委员会 > 年度报告", "市卫生健康委员会"),
    ("当前位置：首页>政府信息公开>政府信息公开年报", None),
    ("", None),
])
def test_breadcrumb_agency(crumb, expected):
    assert breadcrumb_agency(crumb) == expected

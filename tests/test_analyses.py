"""Page analyses: what a parse made of a page, kept so an unchanged page is not parsed again."""
import pytest

from crawler import analyses, cms

PAGE = """<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a></div>
<h1>年度报告</h1><ul><li><a href="t20200131_1.html">某局2019年政府信息公开工作年度报告</a> 2020-01-31</li></ul>
<script>createPageHTML(3, 0, "index", "html");</script></body></html>"""


def test_round_trip_gives_the_same_analysis():
    page = cms.extract("http://www.x.gov.cn/zwgk/nb/index.html", PAGE)
    assert page.links and page.pages         # something to lose
    assert analyses.loads(analyses.dumps(page)) == page


@pytest.mark.parametrize("other", [
    ("b" * 64, "http://www.x.gov.cn/a.html", "text/html"),      # other bytes
    ("a" * 64, "http://www.x.gov.cn/b.html", "text/html"),      # other URL: links resolve differently
    ("a" * 64, "http://www.x.gov.cn/a.html", "text/html; charset=gbk"),  # other decoding
])
def test_key_depends_on_bytes_url_and_content_type(other):
    base = analyses.analysis_key("a" * 64, "http://www.x.gov.cn/a.html", "text/html")
    assert analyses.analysis_key(*other) != base
    assert base.startswith(f"{analyses.PREFIX}/{analyses.VERSION}/")


@pytest.mark.parametrize("data", [b"", b"not json", b"{}", b'{"links": [], "pages": [], "bogus": 1}',
                                  b"\xff\xfe", b"[1, 2]"])
def test_damaged_analysis_is_a_value_error(data):
    with pytest.raises(ValueError):
        analyses.loads(data)

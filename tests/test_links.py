"""Link scoring, attachment detection and canonical URLs, from real portal link shapes."""

from __future__ import annotations

import pytest

from crawler.links import canonical_url, is_attachment, score_link

B = "http://www.wenzhou.gov.cn"

# (anchor text, url, expected band): "report" >= 9, "column" 6..9, "portal" 4.5..6,
# "next" 3..4.5, "org" 0 < s < 3, "neutral" == 0, "skip" < 0
LINKS = [
    ("温州市质量技术监督局2018年政府信息公开工作年度报告", f"{B}/art/2019/1/25/art_1_123.html", "report"),
    ("关于2014年政府信息公开工作的年度报告", f"{B}/a/2015/0301.html", "report"),
    ("二〇一八年度政府信息公開工作年度報告", f"{B}/a/1.html", "report"),
    ("政府信息公开年报", f"{B}/col/col1229.html", "column"),
    ("政府信息公开年度报告", f"{B}/col/col1230.html", "column"),
    ("年度报告", f"{B}/col/col1231.html", "column"),
    ("", f"{B}/xxgk/xxgknb/", "column"),
    ("查看", f"{B}/zfxxgk/zfxxgknb/index.html", "column"),
    ("年报", f"{B}/gk/gknb/", "column"),
    ("", f"{B}/zwgk/ndbg/", "column"),
    ("信息公开", f"{B}/xxgk/", "portal"),
    ("政府信息公开", f"{B}/col/col1.html", "portal"),
    ("政务公开", f"{B}/zwgk/index.html", "portal"),
    ("公开目录", f"{B}/gkml/", "portal"),
    ("", f"{B}/zwgk/gkml/index.shtml", "portal"),
    ("下一页", f"{B}/col/col1229/index_2.html", "next"),
    ("下页", f"{B}/list?page=3", "next"),
    ("尾页", f"{B}/col/col5/index_9.html", "next"),
    ("更多", f"{B}/col/col77.html", "next"),
    ("3", f"{B}/col/col8/index_3.html", "next"),
    ("部门", f"{B}/col/col9.html", "org"),
    ("乡镇街道", f"{B}/col/col10.html", "org"),
    ("机构设置", f"{B}/col/col11.html", "org"),
    ("网站地图", f"{B}/sitemap.html", "neutral"),
    ("新闻动态", f"{B}/news/", "neutral"),
    ("政府网站工作年度报表", f"{B}/col/col12.html", "skip"),
    ("", f"{B}/zfwzndbb/", "skip"),
    ("政府工作报告", f"{B}/col/col13.html", "skip"),
    ("", f"{B}/zfgzbg/index.html", "skip"),
    ("政府信息公开指南", f"{B}/xxgk/gkzn/", "skip"),
    ("依申请公开", f"{B}/xxgk/ysqgk/", "skip"),
    ("政府信息公开申请表", f"{B}/a/apply.html", "skip"),
    ("领导信息", f"{B}/xxgk/ldxx/", "skip"),
    ("关于做好2018年政府信息公开工作年度报告的通知", f"{B}/a/5.html", "skip"),
    ("2019年政务公开工作要点", f"{B}/a/6.html", "skip"),
    ("", f"{B}/css/style.css", "skip"),
    ("", f"{B}/js/jquery.js", "skip"),
    ("", f"{B}/images/logo.png", "skip"),
    ("联系我们", "mailto:xxgk@wenzhou.gov.cn", "skip"),
    ("打开", "javascript:void(0)", "skip"),
    ("5", f"{B}/calendar.jsp?date=2019-05-05", "skip"),
    ("6", f"{B}/list.jsp?rq=20190506", "skip"),
    ("登录", f"{B}/login.jsp", "skip"),
    ("搜索", f"{B}/search/index.html", "skip"),
    ("打印", f"{B}/print.jsp?id=1", "skip"),
    ("分享到微博", f"{B}/share?u=1", "skip"),
]

BANDS = {
    "report": lambda s: s >= 9,
    "column": lambda s: 6 <= s < 9,
    "portal": lambda s: 4.5 <= s < 6,
    "next": lambda s: 3 <= s < 4.5,
    "org": lambda s: 0 < s < 3,
    "neutral": lambda s: s == 0,
    "skip": lambda s: s < 0,
}


@pytest.mark.parametrize(("text", "url", "band"), LINKS)
def test_score_link(text, url, band):
    s = score_link(text=text, url=url)
    assert BANDS[band](s), (text, url, s)


def test_newer_report_slightly_first():
    a = score_link(text="某局2019年政府信息公开工作年度报告", url=f"{B}/a.html")
    b = score_link(text="某局2012年政府信息公开工作年度报告", url=f"{B}/b.html")
    assert a > b > score_link(text="政府信息公开年报", url=f"{B}/c.html")


def test_title_attribute_counts_when_anchor_text_is_truncated():
    assert score_link(text="温州市质量技术监督局2018年政府...", url=f"{B}/a.html",
                      title="温州市质量技术监督局2018年政府信息公开工作年度报告") >= 9


@pytest.mark.parametrize(
    ("url", "ctype", "expected"),
    [
        (f"{B}/files/2019年报.pdf", None, True),
        (f"{B}/a/b.DOC", None, True),
        (f"{B}/a/b.docx?v=1", None, True),
        (f"{B}/a/b.wps", None, True),
        (f"{B}/a/b.et", None, True),
        (f"{B}/a/b.xls", None, True),
        (f"{B}/a/b.xlsx", None, True),
        (f"{B}/a/b.ofd", None, True),
        (f"{B}/a/b.zip", None, True),
        (f"{B}/a/b.rar", None, True),
        (f"{B}/module/download/downfile.jsp?classid=0&filename=1409011.pdf", None, True),
        (f"{B}/module/download/downfile.jsp?classid=0&filename=%E5%B9%B4%E6%8A%A5.docx", None, True),
        (f"{B}/download.jsp?fileName=abc", None, True),
        (f"{B}/get?id=3", "application/pdf", True),
        (f"{B}/get?id=3", "application/octet-stream", True),
        (f"{B}/a/b.pdf", "text/html; charset=utf-8", False),
        (f"{B}/art/2019/1/25/art_1_123.html", None, False),
        (f"{B}/col/col1229/index.html", "text/html", False),
        (f"{B}/xxgk/", None, False),
        (f"{B}/list.jsp?page=2", None, False),
    ],
)
def test_is_attachment(url, ctype, expected):
    assert is_attachment(url, ctype) is expected


@pytest.mark.parametrize(
    ("url", "canon"),
    [
        ("http://x.gov.cn/a.html#top", "http://x.gov.cn/a.html"),
        ("http://x.gov.cn/a.jsp;jsessionid=ABC123?id=5", "http://x.gov.cn/a.jsp?id=5"),
        ("http://x.gov.cn/a?utm_source=wx&utm_medium=s&id=1", "http://x.gov.cn/a?id=1"),
        ("http://x.gov.cn/a?spm=1.2&from=singlemessage&isappinstalled=0", "http://x.gov.cn/a"),
        ("http://x.gov.cn/a?b=2&a=1", "http://x.gov.cn/a?a=1&b=2"),
        ("HTTP://X.GOV.CN:80/A.html", "http://x.gov.cn/A.html"),
        ("https://x.gov.cn:443/a", "https://x.gov.cn/a"),
        ("http://x.gov.cn:8080/a", "http://x.gov.cn:8080/a"),
        ("http://x.gov.cn", "http://x.gov.cn/"),
        ("http://x.gov.cn/downfile.jsp?filename=a.pdf&classid=0", "http://x.gov.cn/downfile.jsp?classid=0&filename=a.pdf"),
    ],
)
def test_canonical_url(url, canon):
    assert canonical_url(url) == canon
    assert canonical_url(canon) == canon  # idempotent


@pytest.mark.parametrize("url,expected", [
    ("http://a.gov.cn/xxgk/gzdt/202101/t20210105_123.html", True),       # TRS article
    ("http://a.gov.cn/art/2019/1/30/art_12_345.html", True),             # Hanweb article
    ("http://a.gov.cn/gkmlpt/content/45/4562/post_4562.html", True),     # gkmlpt article
    ("http://a.gov.cn/xxgk/gknb/201902/4568072.html", True),
    ("http://a.gov.cn/news/show.aspx?id=1234", True),
    ("http://a.gov.cn/xxgk/gzdt/index.html", False),                     # a column
    ("http://a.gov.cn/xxgk/gzdt/index_2.html", False),                   # its next page
    ("http://a.gov.cn/col/col1229123/index.html", False),                # Hanweb column
    ("http://a.gov.cn/zwgk/zfxxgkzl/nb/index.htm", False),
    ("http://a.gov.cn/2019/", False),
])
def test_is_article_url(url, expected):
    from crawler.links import is_article_url
    assert is_article_url(url) is expected


@pytest.mark.parametrize("text,url,follow", [
    ("区政府召开信息公开工作会议", "http://a.gov.cn/xxgk/gzdt/202101/t20210105_1.html", False),  # news, a leaf
    ("2018年政府信息公开工作年度报告", "http://a.gov.cn/xxgk/gzdt/201901/t20190105_2.html", True),
    ("政府信息公开年报", "http://a.gov.cn/xxgk/gknb/201902/4568072.html", True),
    ("工作动态", "http://a.gov.cn/xxgk/gzdt/index.html", False),         # a news column under xxgk
    ("通知公告", "http://a.gov.cn/zwgk/tzgg/", False),
    ("市财政局", "http://a.gov.cn/xxgk/czj/", True),                     # a department's section
    ("", "http://a.gov.cn/xxgk/gzdt/index.html", True),                  # an image link: no name to judge
])
def test_articles_are_followed_only_for_reports(text, url, follow):
    from crawler.links import score_link
    assert (score_link(text=text, url=url) > 0) is follow

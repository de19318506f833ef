"""Attachment names from Content-Disposition or URL, and making them safe."""

from urllib.parse import quote

import pytest

from crawler.filenames import filename_from_headers, safe_filename

NAME = "2019年政府信息公开工作年度报告.pdf"
URL = "http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename=abc.pdf"

HEADER_CASES = [
    ("rfc5987 utf-8", "attachment; filename*=UTF-8''" + quote(NAME), NAME),
    ("rfc5987 beats plain", "attachment; filename=\"report.pdf\"; filename*=utf-8''" + quote(NAME), NAME),
    ("rfc5987 gbk charset", "attachment; filename*=GBK''" + quote(NAME.encode("gbk")), NAME),
    ("raw gbk bytes quoted", b'attachment; filename="' + NAME.encode("gbk") + b'"', NAME),
    ("raw utf-8 bytes quoted", b'attachment; filename="' + NAME.encode("utf-8") + b'"', NAME),
    ("raw gbk unquoted", b"attachment;filename=" + NAME.encode("gbk"), NAME),
    ("raw gbk as latin-1 str", 'attachment; filename="' + NAME.encode("gbk").decode("latin-1") + '"', NAME),
    ("percent utf-8", "attachment; filename=" + quote(NAME), NAME),
    ("percent gbk", "attachment; filename=" + quote(NAME.encode("gbk")), NAME),
    ("java urlencoder plus", "attachment; filename=" + quote("附件 1.doc").replace("%20", "+"), "附件 1.doc"),
    ("rfc2047", "attachment; filename=\"=?UTF-8?B?5bm05oql?=.pdf\"", "年报.pdf"),
    ("inline plain ascii", "inline; filename=report2019.pdf", "report2019.pdf"),
    ("single quotes", "attachment; filename='a b.xls'", "a b.xls"),
]


@pytest.mark.parametrize("case,header,expected", HEADER_CASES, ids=[c[0] for c in HEADER_CASES])
def test_filename_from_disposition(case, header, expected):
    assert filename_from_headers(header, URL) == expected


URL_CASES = [
    ("query filename utf-8", "http://x.gov.cn/downfile.jsp?filename=" + quote(NAME), NAME),
    ("query filename gbk", "http://x.gov.cn/downfile.jsp?fileName=" + quote(NAME.encode("gbk")) + "&id=3", NAME),
    ("query path with dirs", "http://x.gov.cn/down.do?path=%2Fupload%2F2019%2Fa.pdf", "a.pdf"),
    ("last segment utf-8", "http://x.gov.cn/files/" + quote(NAME), NAME),
    ("last segment gbk", "http://x.gov.cn/files/" + quote(NAME.encode("gbk")), NAME),
    ("trs attachment", "http://x.gov.cn/zfxxgk/201901/P020190131123456789012.pdf", "P020190131123456789012.pdf"),
    ("directory url", "http://x.gov.cn/files/", None),
    ("name key without extension ignored", "http://x.gov.cn/get?name=abc", "get"),
]


@pytest.mark.parametrize("case,url,expected", URL_CASES, ids=[c[0] for c in URL_CASES])
def test_filename_from_url(case, url, expected):
    assert filename_from_headers(None, url) == expected


def test_disposition_without_filename_falls_back_to_url():
    assert filename_from_headers("attachment", "http://x.gov.cn/a/b.docx") == "b.docx"


SAFE_CASES = [
    ("chinese kept", NAME, NAME),
    ("unix traversal", "../../etc/passwd", "passwd"),
    ("windows traversal", "..\\..\\windows\\system32\\a.dll", "a.dll"),
    ("absolute", "/var/www/报告.pdf", "报告.pdf"),
    ("drive letter", "C:\\Users\\x\\报告.pdf", "报告.pdf"),
    ("nul and controls", "年\x00报\x1f告\x7f.pdf", "年报告.pdf"),
    ("bidi override", "report\u202efdp.exe", "reportfdp.exe"),
    ("reserved chars", 'a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ("only dots", "..", "file"),
    ("empty", "", "file"),
    ("none", None, "file"),
    ("spaces collapse", "  年度   报告 .pdf ", "年度 报告 .pdf"),
    ("device name", "CON.txt", "_CON.txt"),
    ("trailing dots", "报告.pdf...", "报告.pdf"),
]


@pytest.mark.parametrize("case,name,expected", SAFE_CASES, ids=[c[0] for c in SAFE_CASES])
def test_safe_filename(case, name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_caps_bytes_and_keeps_extension():
    out = safe_filename("年" * 300 + ".pdf")
    assert out.endswith(".pdf")
    assert len(out.encode("utf-8")) <= 200
    assert out.startswith("年年")


def test_safe_filename_caps_without_extension():
    out = safe_filename("年" * 300)
    assert len(out.encode("utf-8")) <= 200 and out

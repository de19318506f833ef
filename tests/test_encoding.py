"""decode_html: declared charsets are believed only when they decode the bytes."""

import pytest

from crawler.encoding import declared_charsets, decode_html

TEXT = "2019年政府信息公开工作年度报告"
GBK = TEXT.encode("gbk")
UTF8 = TEXT.encode("utf-8")
# 镕 and 堃 are outside GB2312 but inside GBK/GB18030: common in names on gov pages.
RARE = "朱镕基 王堃 年度报告"


def page(meta: str, body: bytes) -> bytes:
    return f"<html><head>{meta}<title>t</title></head><body>".encode("ascii") + body + b"</body></html>"


CASES = [
    # (case, body, header charset, expected codec)
    ("utf8 bom", b"\xef\xbb\xbf" + page("", UTF8), None, "utf-8"),
    ("utf16 bom", "\ufeff<p>年度报告</p>".encode("utf-16-le"), "gbk", "utf-16-le"),
    ("header gbk", page("", GBK), "GBK", "gb18030"),
    ("meta charset gb2312", page('<meta charset="gb2312">', GBK), None, "gb18030"),
    ("meta http-equiv gbk", page('<meta http-equiv="Content-Type" content="text/html; charset=gbk">', GBK), None, "gb18030"),
    ("meta utf-8", page('<meta charset="utf-8">', UTF8), None, "utf-8"),
    ("says utf-8, is gbk", page('<meta charset="utf-8">', GBK), None, "gb18030"),
    ("header utf-8, is gbk", page("", GBK), "utf-8", "gb18030"),
    ("says gb2312, is utf-8", page('<meta charset="gb2312">', UTF8), None, "utf-8"),
    ("header gbk, is utf-8", page("", UTF8), "gbk", "utf-8"),
    ("says nothing, gbk", page("", GBK), None, "gb18030"),
    ("says nothing, utf-8", page("", UTF8), None, "utf-8"),
    ("gb2312 label with gbk-only chars", page('<meta charset="gb2312">', RARE.encode("gbk")), None, "gb18030"),
    ("unknown label", page('<meta charset="x-nonsense">', GBK), None, "gb18030"),
    ("xml declaration gbk", b'<?xml version="1.0" encoding="GBK"?><datastore>' + GBK + b"</datastore>", None, "gb18030"),
    ("big5 declared", page('<meta charset="big5">', "政府資訊公開".encode("big5")), None, "big5"),
]


@pytest.mark.parametrize("case,body,header,codec", CASES, ids=[c[0] for c in CASES])
def test_decode_picks_the_codec_that_fits(case, body, header, codec):
    text, used = decode_html(body, header_charset=header)
    assert used == codec
    assert "\ufffd" not in text


@pytest.mark.parametrize("body,expected", [(page("", GBK), TEXT), (page('<meta charset="utf-8">', GBK), TEXT),
                                           (page('<meta charset="gb2312">', UTF8), TEXT),
                                           (page('<meta charset="gb2312">', RARE.encode("gbk")), RARE)])
def test_decoded_text_is_right(body, expected):
    assert expected in decode_html(body)[0]


def test_broken_bytes_fall_back_to_gb18030_with_replacement():
    body = page("", GBK + b"\xff\xff" + GBK)
    text, used = decode_html(body, header_charset="utf-8")
    assert used == "gb18030"
    assert text.count(TEXT) == 2


def test_ascii_page_reports_declared_charset():
    assert decode_html(b"<html><body>hello</body></html>", header_charset="gbk") == (
        "<html><body>hello</body></html>", "gb18030")


def test_declared_charsets_order_and_dedup():
    body = page('<meta charset="gb2312"><meta http-equiv="Content-Type" content="text/html; charset=utf-8">', b"")
    assert declared_charsets(body, "GBK") == ["gb18030", "utf-8"]

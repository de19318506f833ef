"""Plain text from report files: each format built for real in the test, plus broken input."""

from __future__ import annotations

import io
import zipfile

import pytest

from crawler.textract import MAX_CHARS, detect_kind, extract_text

TITLE = "温州市质量技术监督局2018年政府信息公开工作年度报告"


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(TITLE)
    d.add_paragraph("本报告中所列数据的统计期限自2018年1月1日起至2018年12月31日止。")
    t = d.add_table(rows=2, cols=3)
    for r, row in enumerate([("指标", "单位", "数量"), ("主动公开政府信息数", "条", "44")]):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    d.add_paragraph("六、政府信息公开工作存在的主要问题")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "统计表"
    ws.append(["统计指标", "单位", "统计数"])
    ws.append(["主动公开政府信息数", "条", 44])
    ws.append(["依申请公开信息数", "条", 3.0])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf_ascii() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Annual report on government information disclosure 2018")
    pdf.add_page()
    pdf.cell(text="Second page 44 items")
    return bytes(pdf.output())


def _pdf_chinese() -> bytes:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # Adobe CID font: no font file needed
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 14)
    c.drawString(50, 750, TITLE)
    c.save()
    return buf.getvalue()


def _ofd() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>')
        for n, lines in ((0, [TITLE, "一、概述"]), (1, ["二、主动公开政府信息情况"])):
            codes = "".join(
                f'<ofd:TextObject ID="{i}" Boundary="0 {i * 10} 100 10"><ofd:TextCode X="0" Y="{i * 10}">{t}</ofd:TextCode></ofd:TextObject>'
                for i, t in enumerate(lines)
            )
            z.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                       f'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>{codes}</ofd:Layer></ofd:Content></ofd:Page>')
    return buf.getvalue()


HTML = f"""<!DOCTYPE html><html><head><meta charset="gb2312"><title>{TITLE}_温州市人民政府</title>
<script>var x = "不要这段脚本";</script><style>.a{{color:red}}</style></head>
<body><div class="nav">首页 &gt; 政府信息公开 &gt; 政府信息公开年报</div>
<div id="zoom"><p>{TITLE}</p><p>根据《中华人民共和国政府信息公开条例》，现将本局情况报告如下。</p>
<table><tr><td>主动公开</td><td>44</td></tr></table><script>alert(1)</script></div>
<div class="footer">版权所有 温州市人民政府</div></body></html>""".encode("gb18030")


def test_html_main_body_only():
    text = extract_text(HTML, content_type="text/html")
    assert TITLE in text and "报告如下" in text
    assert "主动公开\t44" in text
    assert "脚本" not in text and "alert" not in text and "版权所有" not in text and "首页" not in text


def test_html_trs_editor_body():
    page = ("<html><body><div class='TRS_Editor'><p>" + TITLE + "</p><p>" + "正文内容。" * 20
            + "</p></div><div>页脚</div></body></html>").encode("utf-8")
    text = extract_text(page)
    assert text.startswith(TITLE) and "页脚" not in text


def test_docx_paragraphs_and_tables_in_order():
    text = extract_text(_docx(), filename="年报.docx")
    assert text.splitlines()[0] == TITLE
    assert "主动公开政府信息数\t条\t44" in text
    assert text.index("统计期限") < text.index("指标\t单位") < text.index("存在的主要问题")


def test_xlsx_rows_tab_separated():
    text = extract_text(_xlsx(), content_type="application/octet-stream")
    assert "# 统计表" in text and "主动公开政府信息数\t条\t44" in text and "依申请公开信息数\t条\t3" in text


def test_xls_via_xlrd_is_none_or_text_for_garbage_ole():
    # A real .xls cannot be written without xlwt; an OLE header with junk must not raise.
    assert extract_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, filename="a.xls") is None


def test_pdf_ascii_all_pages():
    text = extract_text(_pdf_ascii(), url="http://x.gov.cn/downfile.jsp?filename=a.pdf")
    assert "Annual report" in text and "Second page 44 items" in text


def test_pdf_chinese():
    assert TITLE in extract_text(_pdf_chinese())


def test_ofd_text_codes_by_page():
    text = extract_text(_ofd(), filename="report.ofd")
    assert text.splitlines()[:2] == [TITLE, "一、概述"]
    assert "二、主动公开政府信息情况" in text


def test_doc_best_effort_utf16_runs():
    body = (TITLE + "\r本报告中所列数据的统计期限自2018年1月1日起至2018年12月31日止。\r").encode("utf-16-le")
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000 + body + b"\xff\x00\x13" * 200
    text = extract_text(data, filename="report.doc")
    assert TITLE in text and "统计期限" in text


def test_rtf():
    rtf = rb"{\rtf1\ansi{\fonttbl{\f0 SimSun;}}\f0 " + b"".join(b"\\'%02x" % c for c in "政府信息公开".encode("gbk")) + rb"\par 2018\u24180?}"
    text = extract_text(rtf, filename="a.rtf")
    assert "政府信息公开" in text and "2018年" in text and "SimSun" not in text


def test_plain_text_gbk():
    assert extract_text(TITLE.encode("gbk"), content_type="text/plain") == TITLE


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [
        (b"", {}),
        (b"%PDF-1.4\n garbage", {}),
        (b"PK\x03\x04 not really a zip", {"filename": "a.docx"}),
        (b"\x89PNG\r\n\x1a\n\x00\x00", {"content_type": "image/png"}),
        (b"\x00\x01\x02" * 100, {"filename": "a.bin"}),
        (b"just text", {"content_type": "application/pdf"}),  # an error page labelled as a PDF
    ],
)
def test_bad_input_gives_none(data, kwargs):
    assert extract_text(data, **kwargs) is None


def test_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<" + b"a" * 60_000_000 + b">")
    assert extract_text(buf.getvalue()) is None


def test_output_is_bounded():
    huge = ("<html><body><div id='zoom'>" + "<p>" + "字" * 1000 + "</p>" * 1 + "</div></body></html>").encode()
    assert len(extract_text(huge)) <= MAX_CHARS
    big_text = ("年" * (MAX_CHARS + 1000)).encode("utf-8")
    assert len(extract_text(big_text, content_type="text/plain")) <= MAX_CHARS


@pytest.mark.parametrize(
    ("data", "kwargs", "kind"),
    [
        (b"%PDF-1.7", {"filename": "a.doc"}, "pdf"),  # bytes beat a lying name
        (b"<html><body>x</body></html>", {"filename": "a.pdf"}, "html"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", {"filename": "a.xls"}, "xls"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", {"content_type": "application/msword"}, "doc"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", {"url": "http://x/downfile.jsp?filename=a.et"}, "xls"),
        (b"plain words", {}, "text"),
    ],
)
def test_detect_kind(data, kwargs, kind):
    assert detect_kind(data, **kwargs) == kind


def test_detect_zip_kinds():
    assert detect_kind(_docx()) == "docx"
    assert detect_kind(_xlsx()) == "xlsx"
    assert detect_kind(_ofd()) == "ofd"

"""figures/ (issue 19): the statistics tables of a report as data, checked against themselves.

The real 2024 report against its hand-read truth (../shared/real-reports), simulator reports in both formats and
four file types, the checks from a table, and hostile input."""
from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

import figures
from figures import Figure
from figures.checks import checks
from figures.numbers import read
from simulator.tables import make_tables, printed_cells, render_docx, render_html, render_pdf, render_xlsx
from tests.shared import SHARED

REAL = SHARED / "real-reports"
RENDER = {"html": render_html, "docx": render_docx, "xlsx": render_xlsx, "pdf": render_pdf}


def _cells(extraction) -> dict[str, Figure]:
    return {f"{f.table}|{f.row}|{f.column}": f for f in extraction.figures}


# -- the real report ---------------------------------------------------------------
_ITEMS = {"（三）不予公开": "（三）不予公开_总计_by_item", "（四）无法提供": "（四）无法提供_总计_by_item",
          "（五）不予处理": "（五）不予处理_总计_by_item"}


def _truth_cells(report: dict) -> dict[str, float]:
    """truth.json in the extractor's keys."""
    want: dict[str, float] = {}
    for row, value in report["table2"].items():
        if isinstance(value, dict):
            want.update({f"table2|{row}|{col}": v for col, v in value.items()})
        elif row == "行政事业性收费_万元":
            want["table2|行政事业性收费|"] = value
        else:
            want[f"table2|{row}|"] = value
    t3 = report["table3"]
    for row, key in (("一、本年新收", "一、本年新收"), ("二、上年结转", "二、上年结转"), ("（一）予以公开", "（一）予以公开"),
                     ("（二）部分公开", "（二）部分公开"), ("（七）总计", "（七）总计"), ("四、结转下年度", "四、结转下年度继续办理")):
        want.update({f"table3|{key}|{col}": v for col, v in t3[row].items()})
    for parent, field in _ITEMS.items():
        for n, v in enumerate(t3[field], 1):
            want[f"table3|{parent}/{n}.|总计"] = v
    want["table3|（六）其他处理|总计"] = t3["（六）其他处理_总计"]
    for row, key in (("行政复议", "行政复议"), ("未经复议直接起诉", "行政诉讼/未经复议直接起诉"), ("复议后起诉", "行政诉讼/复议后起诉")):
        for col, v in zip(("结果维持", "结果纠正", "其他结果", "尚未审结", "总计"), report["table4"][row]):
            want[f"table4|{key}|{col}"] = v
    return want


def _lookup(got: dict[str, Figure], key: str) -> Figure | None:
    if key in got:
        return got[key]
    table, row, col = key.split("|")          # sub-items by number: "（三）不予公开/3." names 3.危及…
    return next((f for k, f in got.items() if k.startswith(f"{table}|{row}") and k.endswith(f"|{col}")), None)


def test_real_report_every_hand_read_figure():
    truth = json.loads((REAL / "truth.json").read_text(encoding="utf-8"))["reports"][0]
    got = figures.extract((REAL / truth["file"]).read_bytes(), filename=truth["file"], year=truth["year"])
    assert got.format == "pdf" and got.layout == "2021" and got.version == figures.EXTRACTOR_VERSION
    want = _truth_cells(truth)
    found = {k: (_lookup(_cells(got), k).value if _lookup(_cells(got), k) else None) for k in want}
    wrong = {k: (v, found[k]) for k, v in want.items() if found[k] != v}
    assert not wrong, f"{len(want) - len(wrong)}/{len(want)} right; wrong: {wrong}"
    assert len(want) == 84              # table2 10, table3 59, table4 15
    # (六)其他处理 is one row here; every printed check holds, as the hand says.
    assert not any(f.row.startswith("（六）其他处理/") for f in got.figures)
    assert got.checks and all(c.ok for c in got.checks), [c for c in got.checks if not c.ok]
    assert {c.name for c in got.checks} >= {"table3:勾稽关系:总计", "table4:行政复议:total",
                                             "table3:（七）总计:parts:自然人", "table3:row_total:一、本年新收"}
    new = _cells(got)["table3|一、本年新收|自然人"]
    assert (new.page, new.source, new.unit, new.printed) == (3, "table", "件", "95")
    assert "本年新收" in new.evidence
    fee = _cells(got)["table2|行政事业性收费|"]
    assert (fee.value, fee.unit, fee.page) == (7545, "万元", 3)
    assert not got.problems


# -- simulator reports ---------------------------------------------------------------
CASES = [(seed, year, layout) for seed, year, layout in ((1, 2022, "2021"), (2, 2020, "2019"), (3, 2023, "2021"),
                                                         (4, 2019, "2019"), (5, 2024, "2021"), (10, 2022, "2021"))]


@pytest.mark.parametrize("fmt", sorted(RENDER))
@pytest.mark.parametrize("seed,year,layout", CASES)
@pytest.mark.parametrize("wrap,split", [(False, False), (True, True), (True, False)])
def test_simulated_report_every_cell(fmt, seed, year, layout, wrap, split):
    truth = make_tables(seed, year, layout)
    got = figures.extract(RENDER[fmt](truth, wrap_labels=wrap, split_pages=split), year=year)
    cells = _cells(got)
    assert got.format == fmt and got.layout == layout
    wrong = {k: (v, cells[k].value if k in cells else None) for k, v in truth["cells"].items()
             if k not in cells or cells[k].value != v or cells[k].unit != truth["units"][k]}
    assert not wrong, f"{len(truth['cells']) - len(wrong)}/{len(truth['cells'])} right; wrong: {list(wrong.items())[:5]}"
    assert set(cells) == set(truth["cells"])
    assert got.checks and all(c.ok for c in got.checks) and not got.problems


@pytest.mark.parametrize("seed,year,layout", CASES)
@pytest.mark.parametrize("wrap,split,ruled,framed", [(False, False, False, False), (True, True, False, False),
                                                     (True, True, False, True), (True, True, True, True)])
def test_simulated_pdf_without_ruling_lines_or_framed(seed, year, layout, wrap, split, ruled, framed):
    """No grid to read cells from: words by line, a merged cell's label centred among the rows it spans.
    framed: a border round each page (one rectangle round everything, tables or not)."""
    truth = make_tables(seed, year, layout)
    got = figures.extract(render_pdf(truth, wrap_labels=wrap, split_pages=split, ruled=ruled, framed=framed),
                          year=year)
    cells = _cells(got)
    wrong = {k: (v, cells[k].value if k in cells else None) for k, v in truth["cells"].items()
             if k not in cells or cells[k].value != v}
    assert not wrong and set(cells) == set(truth["cells"]), list(wrong.items())[:5]
    assert all(c.ok for c in got.checks) and not got.problems


def test_simulated_cases_cover_the_variations():
    tables = [make_tables(*case) for case in CASES]
    assert {t["six_items"] for t in tables if t["layout"] == "2021"} == {True, False}
    assert {t["style"]["fullwidth"] for t in tables} == {True, False}
    assert {t["style"]["dash_zero"] for t in tables} == {True, False}
    assert len({t["style"]["split_after"] for t in tables}) == 3


def test_simulated_rows_one_line_or_three_sub_items():
    shapes = {make_tables(seed, 2022, "2021")["six_items"] for seed in range(12)}
    assert shapes == {True, False}           # (六)其他处理 is one row in some reports, three sub-items in others
    assert not make_tables(1, 2020, "2019")["six_items"]


@pytest.mark.parametrize("fmt", sorted(RENDER))
def test_inconsistent_totals_extracted_as_printed_and_flagged(fmt):
    truth = make_tables(3, 2023, "2021")
    printed = printed_cells(truth, inconsistent=True)
    got = figures.extract(RENDER[fmt](truth, wrap_labels=True, split_pages=True, inconsistent=True), year=2023)
    cells = _cells(got)
    assert {k: cells[k].value for k in printed} == printed                  # nothing corrected
    failed = {c.name for c in got.checks if not c.ok}
    assert failed == {"table3:勾稽关系:自然人", "table3:（七）总计:parts:自然人", "table3:row_total:（七）总计"}
    broken = next(c for c in got.checks if c.name == "table3:勾稽关系:自然人")
    assert broken.actual == broken.expected + 1 and "table3/（七）总计/自然人" in broken.cells


def test_provenance_by_format():
    truth = make_tables(1, 2022, "2021")
    key = "table3|一、本年新收|自然人"
    pdf = _cells(figures.extract(render_pdf(truth, wrap_labels=False, split_pages=True)))
    assert pdf[key].page == 1 and pdf[key].path is None
    assert pdf["table4|行政复议|总计"].page == 2                           # after the page break
    html = _cells(figures.extract(render_html(truth, wrap_labels=False, split_pages=False)))
    assert html[key].path == "table[2]/tr[4]/td[2]" and html[key].page is None
    docx = _cells(figures.extract(render_docx(truth, wrap_labels=False, split_pages=False)))
    assert docx[key].path == "table[2]/tr[4]/td[2]"
    xlsx = _cells(figures.extract(render_xlsx(truth, wrap_labels=False, split_pages=False)))
    assert xlsx[key].path.startswith("统计表!D")
    assert html[key].evidence.startswith("一、本年新收")


def test_gbk_page_and_year_unknown():
    truth = make_tables(1, 2022, "2021")
    page = render_html(truth, wrap_labels=True, split_pages=True).decode().replace('charset="utf-8"', 'charset="gb2312"')
    got = figures.extract(page.encode("gb18030"), content_type="text/html; charset=gb2312")
    assert got.layout == "2021"                 # from table 2's header words, with no year given
    assert {k: f.value for k, f in _cells(got).items()} == truth["cells"]


def test_page_laid_out_in_a_table():
    """Old portals put the whole article in a layout table: its headings are not paragraphs of their own."""
    truth = make_tables(2, 2020, "2019")
    page = render_html(truth, wrap_labels=True, split_pages=True).decode()
    page = page.replace("<body>", '<body><table width="900"><tr><td><div class="content">').replace(
        "</body>", "</div></td></tr></table></body>")
    got = figures.extract(page.encode(), year=2020)
    assert {k: f.value for k, f in _cells(got).items()} == truth["cells"] and got.layout == "2019"


def _xls(xlsx: bytes) -> bytes:
    """The same workbook as Excel 97 (a merged range keeps its value in its first cell, as XLS files do)."""
    import openpyxl
    import xlwt

    book, out = openpyxl.load_workbook(io.BytesIO(xlsx)), xlwt.Workbook(encoding="utf-8")
    for sheet in book.worksheets:
        target = out.add_sheet(sheet.title)
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    target.write(cell.row - 1, cell.column - 1, cell.value)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("seed,year,layout", CASES[:2])
def test_xls_statistics_sheet(seed, year, layout):
    pytest.importorskip("xlwt")
    truth = make_tables(seed, year, layout)
    got = figures.extract(_xls(render_xlsx(truth, wrap_labels=True, split_pages=True)), filename="统计表.xls", year=year)
    assert got.format == "xls" and {k: f.value for k, f in _cells(got).items()} == truth["cells"]
    assert _cells(got)["table3|一、本年新收|自然人"].path.startswith("统计表!")
    assert all(c.ok for c in got.checks) and not got.problems


# -- cells and checks from tables --------------------------------------------------------
@pytest.mark.parametrize("printed,kind,value", [
    ("12", "number", 12), ("１２", "number", 12), ("—", "dash", 0), ("-", "dash", 0), ("／", "dash", 0),
    ("", "blank", None), ("  ", "blank", None), ("7,545.50", "number", 7545.5), ("７５４５．５", "number", 7545.5),
    ("-3", "number", -3), ("95件", "number", 95), ("12.5万元", "number", 12.5), ("自然人", "text", None),
])
def test_cell_reading(printed, kind, value):
    assert read(printed) == (kind, value)


def _t3(rows: dict[str, list[int]]) -> list[Figure]:
    cols = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
    out = []
    for row, values in rows.items():
        table = "table4" if row.startswith(("行政复议", "行政诉讼")) else "table3"
        names = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计") if table == "table4" else cols
        out += [Figure(table, row, c, v, "件", str(v), None, None, "table", row) for c, v in zip(names, values)]
    return out


_GOOD = {"一、本年新收": [3, 0, 0, 0, 0, 1, 4], "二、上年结转": [1, 0, 0, 0, 0, 0, 1],
         "（一）予以公开": [2, 0, 0, 0, 0, 1, 3], "（二）部分公开": [0, 0, 0, 0, 0, 0, 0],
         "（三）不予公开/1.属于国家秘密": [1, 0, 0, 0, 0, 0, 1],
         "（三）不予公开/2.其他法律行政法规禁止公开": [0, 0, 0, 0, 0, 0, 0],
         "（四）无法提供/1.本机关不掌握相关政府信息": [0, 0, 0, 0, 0, 0, 0], "（五）不予处理/1.信访举报投诉类申请": [0] * 7,
         "（六）其他处理": [0, 0, 0, 0, 0, 0, 0],
         "（七）总计": [3, 0, 0, 0, 0, 1, 4], "四、结转下年度继续办理": [1, 0, 0, 0, 0, 0, 1]}


@pytest.mark.parametrize("change,failed", [
    ({}, set()),
    ({"四、结转下年度继续办理": [2, 0, 0, 0, 0, 0, 2]}, {"table3:勾稽关系:自然人", "table3:勾稽关系:总计"}),
    ({"一、本年新收": [3, 0, 0, 0, 0, 1, 5]}, {"table3:row_total:一、本年新收", "table3:勾稽关系:总计"}),
    ({"（七）总计": [4, 0, 0, 0, 0, 1, 5]}, {"table3:勾稽关系:自然人", "table3:勾稽关系:总计",
                                         "table3:（七）总计:parts:自然人", "table3:（七）总计:parts:总计"}),
    ({"（三）不予公开": [2, 0, 0, 0, 0, 0, 2]}, {"table3:（三）不予公开:subitems:自然人", "table3:（三）不予公开:subitems:总计",
                                             "table3:（七）总计:parts:自然人", "table3:（七）总计:parts:总计"}),
    ({"（三）不予公开": [1, 0, 0, 0, 0, 0, 1]}, set()),      # a printed subtotal that agrees
    ({"行政复议": [1, 1, 0, 0, 2], "行政诉讼/复议后起诉": [1, 0, 0, 0, 2]}, {"table4:行政诉讼/复议后起诉:total"}),
])
def test_checks_from_a_table(change, failed):
    result = checks(_t3({**_GOOD, **change}))
    assert {c.name for c in result if not c.ok} == failed
    assert all(c.cells and c.expected is not None for c in result)


def test_blank_cells_are_none_and_their_checks_not_made():
    rows = [("一、本年新收政府信息公开申请数量", ["3", "", "", "", "", "", "3"]), ("二、上年结转政府信息公开申请数量", ["0"] * 7),
            ("（七）总计", ["3", "", "", "", "", "", "3"]), ("四、结转下年度继续办理", ["0"] * 7)]
    table = "".join(f"<tr><td>{label}</td>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>" for label, values in rows)
    got = figures.extract(f"<p>三、收到和处理政府信息公开申请情况</p><table>{table}</table>".encode(), year=2022)
    cells = _cells(got)
    assert cells["table3|一、本年新收|商业企业"].value is None and cells["table3|一、本年新收|商业企业"].printed == ""
    assert cells["table3|一、本年新收|总计"].value == 3
    assert {c.name for c in got.checks} == {"table3:勾稽关系:自然人", "table3:勾稽关系:总计",
                                            "table3:row_total:二、上年结转", "table3:row_total:四、结转下年度继续办理"}


def test_checks_skip_what_is_not_printed():
    cells = {k: v for k, v in _GOOD.items() if k != "二、上年结转"}
    names = {c.name for c in checks(_t3(cells))}
    assert not any(n.startswith("table3:勾稽关系") for n in names)
    assert "table3:（七）总计:parts:自然人" in names


# -- hostile input -------------------------------------------------------------------------
def _empty_pdf() -> bytes:
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.showPage()
    c.save()
    return buf.getvalue()


def _bomb_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (200 * 1024 * 1024) + b"</w:document>")
    return buf.getvalue()


def _bomb_pdf() -> bytes:
    zeros = __import__("zlib").compress(b"\0" * (80 * 1024 * 1024), 9)
    return b"%PDF-1.4\n1 0 obj<</Length " + str(len(zeros)).encode() + b"/Filter/FlateDecode>>stream\n" + zeros + b"\nendstream\nendobj\n%%EOF"


@pytest.mark.parametrize("name,data,kw", [
    ("pdf bomb", _bomb_pdf(), {}),
    ("empty", b"", {}),
    ("garbage", bytes(range(256)) * 400, {}),
    ("garbage named pdf", b"\x00\x01garbage" * 100, {"filename": "x.pdf", "content_type": "application/pdf"}),
    ("truncated pdf", b"%PDF-1.7\n1 0 obj<<>>", {}),
    ("empty pdf", _empty_pdf(), {"year": 2022}),
    ("broken zip", b"PK\x03\x04" + b"\x00" * 200, {}),
    ("ole garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000, {"filename": "a.xls"}),
    ("ole doc garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 4000, {"filename": "a.doc"}),
    ("docx bomb", _bomb_docx(), {}),
    ("huge table", ("<table>" + "<tr><td>一、本年新收</td>" + "<td>1</td>" * 50 + "</tr>" * 20000 + "</table>").encode(), {}),
    ("wide table", ("<table><tr>" + "<td>9</td>" * 200000 + "</tr></table>").encode(), {}),
    ("text", "没有数字的一段话。".encode(), {}),
])
def test_hostile_input_answers_with_problems(name, data, kw):
    t0 = time.monotonic()
    got = figures.extract(data, **kw)
    assert isinstance(got, figures.Extraction) and got.problems, got
    assert time.monotonic() - t0 < 30
    assert len(got.figures) <= 2000


# -- DOC / WPS, best effort --------------------------------------------------------------------
_OLE = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def test_doc_text_read_from_its_utf16_runs():
    from simulator.files import build

    data = build("doc", "某局2015年政府信息公开工作年度报告", "2015年，我局主动公开政府信息1974条。受理依申请公开信息2件。")
    got = figures.extract(data, filename="a.doc", year=2015)
    assert got.format == "doc" and got.layout == "pre2019"
    assert [(f.row, f.value) for f in got.figures] == [("主动公开/信息", 1974), ("依申请公开/受理", 2)]


def test_doc_table_cells_read_from_cell_marks():
    values = "\x07".join(str(v) for v in (1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3))
    text = ("四、政府信息公开行政复议、行政诉讼情况\r行政复议\x07行政诉讼\x07\x07" + values + "\x07\x07\r"
            "五、存在的主要问题及改进情况\r")
    got = figures.extract(_OLE + text.encode("utf-16-le"), filename="a.doc", year=2022)
    cells = _cells(got)
    assert cells["table4|行政诉讼/复议后起诉|总计"].value == 3 and cells["table4|行政复议|结果纠正"].value == 1
    assert all(c.ok for c in got.checks) and len(got.checks) == 3

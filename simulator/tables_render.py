"""Print a `simulator.tables` truth as a report: HTML, DOCX, XLSX or PDF, labels wrapped or not, table 3 split
across pages or not. One grid (cells placed with their row and column spans) feeds every format."""
from __future__ import annotations

import io
from html import escape

_FULL = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _num(value, *, style: dict, table: str, column: int) -> str:
    if value == 0 and style["dash_zero"] and table == "table3" and 1 <= column <= 5:
        return "—"
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text.translate(_FULL) if style["fullwidth"] and table in ("table3", "table4") else text


def _wrap(text: str, width: int, on: bool) -> str:
    if not on or len(text) <= width:
        return text
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def _place(rows: list[list[dict]]) -> list[tuple[int, int, int, int, dict]]:
    """(row, column, rowspan, colspan, cell): the first free column of each row, as a browser lays a table out."""
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            rs, cs = cell.get("rs", 1), cell.get("cs", 1)
            out.append((r, c, rs, cs, cell))
            taken |= {(r + i, c + j) for i in range(rs) for j in range(cs)}
            c += cs
    return out


def _cut(grid: dict, k: int, *, header: int = 0) -> tuple[dict, dict]:
    """The grid split before row k (a page break inside a table): a merged cell crossing it continues empty.
    header: the first rows printed again atop the second part (Word's 「重复标题行」)."""
    first, second = [], []
    second += [(r, c, rs, cs, cell) for r, c, rs, cs, cell in grid["cells"] if r < header]
    for r, c, rs, cs, cell in grid["cells"]:
        if r < k:
            first.append((r, c, min(rs, k - r), cs, cell))
            if r + rs > k:
                second.append((header, c, r + rs - k, cs, {"text": "", "kind": cell.get("kind", "label")}))
        else:
            second.append((r - k + header, c, rs, cs, cell))
    return ({**grid, "cells": first, "nrows": k}, {**grid, "cells": sorted(second, key=lambda t: (t[0], t[1])),
                                                   "nrows": grid["nrows"] - k + header})


def _grid(rows: list[list[dict]], ncols: int, widths: list[int]) -> dict:
    return {"cells": _place(rows), "nrows": len(rows), "ncols": ncols, "widths": widths}


def _v(text: str) -> dict:
    return {"text": text, "kind": "value"}


def _table2(truth: dict, cells: dict, style: dict, wrap: bool) -> dict:
    rows = []
    for section in truth["table2"]:
        rows.append([{"text": section["heading"], "cs": 4}])
        header = section["header"]
        rows.append([{"text": h} for h in header[:-1]] + [{"text": _wrap(header[-1], 6, wrap), "cs": 5 - len(header)}])
        for key, label, _ in section["rows"]:
            columns = header[1:] if len(header) > 2 else [""]
            names = [c.replace("（单位：万元）", "") for c in columns]
            values = [cells[f"table2|{key}|{n if len(header) > 2 else ''}"] for n in names]
            out = [{"text": label}] + [_v(_num(v, style=style, table="table2", column=0)) for v in values]
            out[-1]["cs"] = 4 - len(out) + 1
            rows.append(out)
    return _grid(rows, 4, [150, 110, 110, 110])


def _table3(truth: dict, cells: dict, style: dict, wrap: bool) -> tuple[dict, int]:
    cols = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    rows = [[{"text": _NOTE, "cs": 3, "rs": 3}, {"text": "申请人情况", "cs": 7}],
            [{"text": "自然人", "rs": 2}, {"text": "法人或其他组织", "cs": 5}, {"text": "总计", "rs": 2}],
            [{"text": _wrap(c, 2, wrap)} for c in cols[1:6]]]
    keys = truth["table3"]
    in_three = [k for k in keys if k.startswith("（")]
    split_at = None
    parents_seen: set[str] = set()
    for key in keys:
        values = [_v(_num(cells[f"table3|{key}|{c}"], style=style, table="table3", column=i)) for i, c in enumerate(cols)]
        if not key.startswith("（"):
            label = [{"text": _wrap(_section(key), 10, wrap), "cs": 3}]
        else:
            label = []
            if key == in_three[0]:
                label.append({"text": _wrap("三、本年度办理结果", 2, True), "rs": len(in_three)})
            parent, _, item = key.partition("/")
            if item:
                if parent not in parents_seen:
                    n = sum(1 for k in in_three if k.startswith(parent + "/"))
                    label.append({"text": _wrap(parent, 4, wrap), "rs": n})
                label.append({"text": _wrap(item, 9, wrap)})
            else:
                label.append({"text": _wrap(_parent(parent), 12, wrap), "cs": 2})
            parents_seen.add(parent)
        rows.append(label + values)
        if key == truth["style"]["split_after"]:
            split_at = len(rows)
    return _grid(rows, 10, [22, 58, 120] + [40] * 7), split_at or len(rows) - 4


def _section(key: str) -> str:
    return {"一、本年新收": "一、本年新收政府信息公开申请数量", "二、上年结转": "二、上年结转政府信息公开申请数量"}.get(key, key)


def _parent(key: str) -> str:
    return "（二）部分公开（区分处理的，只计这一情形，不计其他情形）" if key == "（二）部分公开" else key


def _table4(truth: dict, cells: dict, style: dict, wrap: bool) -> dict:
    heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    rows = [[{"text": "行政复议", "cs": 5}, {"text": "行政诉讼", "cs": 10}],
            [{"text": _wrap(h, 2, True), "rs": 2} for h in heads] + [{"text": "未经复议直接起诉", "cs": 5},
                                                                     {"text": "复议后起诉", "cs": 5}],
            [{"text": _wrap(h, 2, True)} for h in heads * 2]]
    values = []
    for row in ("行政复议", "行政诉讼/未经复议直接起诉", "行政诉讼/复议后起诉"):
        values += [_v(_num(cells[f"table4|{row}|{h}"], style=style, table="table4", column=0)) for h in heads]
    rows.append(values)
    return _grid(rows, 15, [33] * 15)


def blocks(truth: dict, *, wrap_labels: bool, split_pages: bool, inconsistent: bool) -> list[tuple]:
    from simulator.tables import printed_cells

    cells = printed_cells(truth, inconsistent=inconsistent)
    style = truth["style"]
    year = truth["year"]
    t3, k = _table3(truth, cells, style, wrap_labels)
    t3_parts = list(_cut(t3, k, header=3 if style.get("repeat_header") else 0)) if split_pages else [t3]
    out: list[tuple] = [("p", f"某县人民政府{year}年政府信息公开工作年度报告"), ("p", "一、总体情况"),
                        ("p", f"{year}年，本机关受理政府信息公开申请 {cells['table3|一、本年新收|总计']} 件。"),
                        ("p", "二、主动公开政府信息情况"), ("table", _table2(truth, cells, style, wrap_labels)),
                        ("p", "三、收到和处理政府信息公开申请情况"), ("table", t3_parts[0])]
    if split_pages:
        out += [("break",), ("table", t3_parts[1])]
    out += [("p", "四、政府信息公开行政复议、行政诉讼情况"), ("table", _table4(truth, cells, style, wrap_labels)),
            ("p", "五、存在的主要问题及改进情况"), ("p", "一是公开内容还不够全面。二是解读形式还不够丰富。"),
            ("p", "六、其他需要报告的事项"), ("p", "本年度未收取信息处理费。")]
    return out


# -- HTML ------------------------------------------------------------------------
def render_html(truth: dict, *, wrap_labels: bool, split_pages: bool, inconsistent: bool = False) -> bytes:
    parts = ["<!doctype html><html><head><meta charset=\"utf-8\"><title>年度报告</title></head><body>"]
    for block in blocks(truth, wrap_labels=wrap_labels, split_pages=split_pages, inconsistent=inconsistent):
        if block[0] == "p":
            parts.append(f"<p>{escape(block[1])}</p>")
        elif block[0] == "break":
            parts.append('<div style="page-break-after:always"></div>')
        else:
            grid = block[1]
            parts.append('<table border="1">')
            for r in range(grid["nrows"]):
                parts.append("<tr>")
                for rr, c, rs, cs, cell in grid["cells"]:
                    if rr == r:
                        span = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
                        text = "<br>".join(escape(t) for t in cell["text"].split("\n"))
                        parts.append(f"<td{span}>{text}</td>")
                parts.append("</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


# -- DOCX ------------------------------------------------------------------------
def render_docx(truth: dict, *, wrap_labels: bool, split_pages: bool, inconsistent: bool = False) -> bytes:
    import docx

    document = docx.Document()
    for block in blocks(truth, wrap_labels=wrap_labels, split_pages=split_pages, inconsistent=inconsistent):
        if block[0] == "p":
            document.add_paragraph(block[1])
        elif block[0] == "break":
            document.add_page_break()
        else:
            grid = block[1]
            table = document.add_table(rows=grid["nrows"], cols=grid["ncols"])
            table.style = "Table Grid"
            for r, c, rs, cs, cell in grid["cells"]:
                target = table.cell(r, c)
                if rs > 1 or cs > 1:
                    target = target.merge(table.cell(r + rs - 1, c + cs - 1))
                target.paragraphs[0].add_run(cell["text"])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# -- XLSX ------------------------------------------------------------------------
def _xl_value(text: str):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def render_xlsx(truth: dict, *, wrap_labels: bool, split_pages: bool, inconsistent: bool = False) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "统计表"
    top = 1
    for block in blocks(truth, wrap_labels=wrap_labels, split_pages=split_pages, inconsistent=inconsistent):
        if block[0] == "p":
            sheet.cell(row=top, column=1, value=block[1])
            top += 1
        elif block[0] == "break":
            sheet, top = book.create_sheet("续表"), 1
        else:
            grid = block[1]
            for r, c, rs, cs, cell in grid["cells"]:
                target = sheet.cell(row=top + r, column=c + 1,
                                    value=_xl_value(cell["text"]) if cell.get("kind") == "value" else cell["text"])
                if "\n" in cell["text"]:
                    target.alignment = Alignment(wrap_text=True)
                if rs > 1 or cs > 1:
                    sheet.merge_cells(start_row=top + r, start_column=c + 1, end_row=top + r + rs - 1,
                                      end_column=c + cs)
            top += grid["nrows"] + 1
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# -- PDF -------------------------------------------------------------------------
def render_pdf(truth: dict, *, wrap_labels: bool, split_pages: bool, inconsistent: bool = False,
               ruled: bool = True, framed: bool = False) -> bytes:
    """ruled=False: the tables without their lines (words placed as in a ruled table, nothing drawn between).
    framed: a border round every page, as some offices print (one more rectangle round everything)."""
    from reportlab.pdfgen import canvas

    from simulator.files import _register_font

    font, size, left, bottom, height = _register_font(), 8, 40, 50, 842
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(595, height), invariant=1)
    if framed:
        show = pdf.showPage

        def show_framed():
            pdf.rect(20, 20, 555, height - 40, stroke=1, fill=0)
            show()
        pdf.showPage = show_framed
    y = height - 50
    pdf.setFont(font, size)
    for block in blocks(truth, wrap_labels=wrap_labels, split_pages=split_pages, inconsistent=inconsistent):
        if block[0] == "p":
            if y < bottom + 20:
                pdf.showPage(), pdf.setFont(font, size)
                y = height - 50
            pdf.drawString(left, y, block[1])
            y -= 18
        elif block[0] == "break":
            pdf.showPage(), pdf.setFont(font, size)
            y = height - 50
        else:
            y = _pdf_table(pdf, block[1], left, y, bottom, height, font, size, ruled)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _lines_in(text: str, width: float, size: int) -> list[str]:
    per = max(1, int((width - 4) // size))
    out = []
    for part in text.split("\n"):
        out += [part[i:i + per] for i in range(0, len(part), per)] or [""]
    return out


def _pdf_table(pdf, grid: dict, left: float, y: float, bottom: float, height: float, font: str, size: int,
               ruled: bool) -> float:
    xs = [left]
    for w in grid["widths"]:
        xs.append(xs[-1] + w)
    heights = [size + 6] * grid["nrows"]
    for r, c, rs, cs, cell in grid["cells"]:
        if rs == 1:
            need = len(_lines_in(cell["text"], xs[c + cs] - xs[c], size)) * (size + 2) + 6
            heights[r] = max(heights[r], need)
    tops, page_of, page = [], [], 0
    for h in heights:                      # rows flow onto the next page when they do not fit
        if y - h < bottom:
            page, y = page + 1, height - 50
        tops.append(y)
        page_of.append(page)
        y -= h
    for p in range(page + 1):
        if p:
            pdf.showPage(), pdf.setFont(font, size)
        for r, c, rs, cs, cell in grid["cells"]:
            rows = [i for i in range(r, r + rs) if page_of[i] == p]
            if not rows:
                continue
            top, low = tops[rows[0]], tops[rows[-1]] - heights[rows[-1]]
            if ruled:
                pdf.rect(xs[c], low, xs[c + cs] - xs[c], top - low, stroke=1, fill=0)
            if rows[0] != r:
                continue                   # a merged cell's words stay on its first page
            lines = _lines_in(cell["text"], xs[c + cs] - xs[c], size)
            ty = (top + low) / 2 + (len(lines) - 1) * (size + 2) / 2 - size / 3
            for line in lines:
                pdf.drawString(xs[c] + 2, ty, line)
                ty -= size + 2
    return y - 10

"""HTML, DOCX, XLSX and XLS as lines: each table row a label and its value cells; paragraphs as words."""
from __future__ import annotations

import io
import re
import zipfile

from figures.lines import Cell, Line
from figures.numbers import read

MAX_ROWS = 3000            # per table or sheet
MAX_COLUMNS = 60
MAX_TABLES = 200
MAX_UNZIPPED = 64 * 1024 * 1024
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "caption"}


def row_line(texts: list[str], paths: list[str | None]) -> Line:
    """A row: the words up to its last cell of words are the label; the cells after it its values."""
    last = max((i for i, t in enumerate(texts) if read(t)[0] == "text"), default=-1)
    label = "".join(texts[:last + 1])
    return Line(label, [Cell(t, path=p) for t, p in zip(texts[last + 1:], paths[last + 1:])])


def zip_ok(data: bytes) -> str | None:
    """Why a zip container is not opened (too big unpacked, too many members), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > 5000:
                return f"zip with {len(infos)} members"
            total = sum(i.file_size for i in infos)
            if total > MAX_UNZIPPED:
                return f"unpacks to {total} bytes (limit {MAX_UNZIPPED})"
    except zipfile.BadZipFile:
        return "not a readable zip"
    return None


# -- HTML ---------------------------------------------------------------------
def decode_html(data: bytes) -> str:
    head = data[:4096].decode("ascii", "ignore").lower()
    m = re.search(r"charset=[\"']?([a-z0-9_-]+)", head)
    for enc in ([m.group(1)] if m else []) + ["utf-8", "gb18030"]:
        try:
            return data.decode("gb18030" if enc in ("gb2312", "gbk") else enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", "replace")


def _text(node) -> str:
    return "".join(node.itertext()).strip()


def read_html(data: bytes) -> tuple[list[Line], list[str], str]:
    import lxml.html

    problems: list[str] = []
    root = lxml.html.fromstring(decode_html(data) or "<html></html>")
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    lines: list[Line] = []
    tables = 0
    numbers: dict = {}
    row_no: dict = {}
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "table":
            tables += 1
            numbers[el] = tables
        elif tag == "tr":
            table = next((a for a in el.iterancestors("table")), None)
            if table is None or el.xpath(".//table"):
                continue
            index = row_no[table] = row_no.get(table, 0) + 1
            if index > MAX_ROWS or tables > MAX_TABLES:
                continue
            cells = [c for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")][:MAX_COLUMNS]
            base = f"table[{numbers.get(table, 0)}]/tr[{index}]"
            lines.append(row_line([_text(c) for c in cells], [f"{base}/td[{k}]" for k in range(1, len(cells) + 1)]))
        elif tag in _BLOCKS and not any(True for _ in el.iterancestors("table")) and not el.xpath(".//table|.//p|.//div"):
            text = _text(el)
            if text:
                lines.append(Line(text, []))
    if tables > MAX_TABLES:
        problems.append(f"{tables} tables")
    for el in root.iter(*_BLOCKS, "br", "tr", "td", "th"):
        el.tail = "\n" + (el.tail or "")      # blocks are sentences apart: 「…报告」 then 「2015年，…」
    body = root.find("body")
    return lines, problems, _text(body if body is not None else root)


# -- DOCX ---------------------------------------------------------------------
def read_docx(data: bytes) -> tuple[list[Line], list[str], str]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    why = zip_ok(data)
    if why:
        return [], [f"docx not read: {why}"], ""
    document = docx.Document(io.BytesIO(data))
    lines: list[Line] = []
    problems: list[str] = []
    text: list[str] = []
    number = 0
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            words = Paragraph(child, document).text.strip()
            if words:
                lines.append(Line(words, []))
                text.append(words)
        elif tag == "tbl":
            number += 1
            if number > MAX_TABLES:
                problems.append(f"more than {MAX_TABLES} tables")
                break
            table = Table(child, document)
            rows = table._tbl.tr_lst
            if len(rows) > MAX_ROWS:
                problems.append(f"table {number}: {len(rows)} rows, only {MAX_ROWS} read")
            for r, tr in enumerate(rows[:MAX_ROWS], 1):
                cells, seen = [], set()
                for tc in tr.tc_lst[:MAX_COLUMNS]:
                    if id(tc) in seen:
                        continue
                    seen.add(id(tc))
                    cells.append(tc)
                texts = ["".join(t.text or "" for t in tc.iter() if t.tag.endswith("}t")) for tc in cells]
                lines.append(row_line(texts, [f"table[{number}]/tr[{r}]/td[{k}]" for k in range(1, len(texts) + 1)]))
                text.append(" ".join(texts))
    return lines, problems, "\n".join(text)


# -- XLSX / XLS ---------------------------------------------------------------
def _printed(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_lines(name: str, rows) -> tuple[list[Line], list[str]]:
    lines, text = [], []
    for r, row in enumerate(rows, 1):
        if r > MAX_ROWS:
            break
        texts = [_printed(v) for v in list(row)[:MAX_COLUMNS]]
        while texts and not texts[-1].strip():
            texts.pop()
        if not texts:
            continue
        first = next((i for i, t in enumerate(texts) if t.strip()), 0)
        lines.append(row_line(texts[first:], [f"{name}!{_column(k + 1)}{r}" for k in range(first, len(texts))]))
        text.append(" ".join(texts))
    return lines, text


def read_xlsx(data: bytes) -> tuple[list[Line], list[str], str]:
    import openpyxl

    why = zip_ok(data)
    if why:
        return [], [f"xlsx not read: {why}"], ""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines, text = [], []
    try:
        for sheet in book.worksheets[:20]:
            more, words = _sheet_lines(sheet.title, sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS,
                                                                    max_row=MAX_ROWS))
            lines += more
            text += words
    finally:
        book.close()
    return lines, [], "\n".join(text)


def read_xls(data: bytes) -> tuple[list[Line], list[str], str]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    lines, text = [], []
    for index in range(min(book.nsheets, 20)):
        sheet = book.sheet_by_index(index)
        rows = (sheet.row_values(r, 0, min(sheet.ncols, MAX_COLUMNS)) for r in range(min(sheet.nrows, MAX_ROWS)))
        more, words = _sheet_lines(sheet.name, rows)
        lines += more
        text += words
    return lines, [], "\n".join(text)

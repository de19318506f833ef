"""From lines to figures: which table, which row, which column. One state machine for every format."""
from __future__ import annotations

import re

from figures import Figure
from figures import form
from figures.lines import Cell, Line
from figures.numbers import normal, read

_MARK = re.compile(r"(?P<sec>[一二三四])、|[（(](?P<par>[一二三四五六七])[)）]|(?<![\d.])(?P<item>[1-9])[.．、]")
MAX_FIGURES = 2000


def _mode(label: str, mode: str | None) -> str | None:
    """The table a line's words open (or keep open)."""
    if "收到和处理政府信息公开申请" in label or "申请人情况" in label or "本年新收" in label:
        return "table3"
    if "行政复议" in label and ("行政诉讼" in label or "结果维持" in label) and mode != "table4":
        return "table4"
    if "主动公开政府信息情况" in label or "第二十条第" in label or (mode is None and form.table2_row(label)
                                                                     and label.startswith(("规章", "行政规范性文件"))):
        return "table2"
    if mode is not None and re.match(r"^[五六七]、", label):
        return None
    return mode


class Reader:
    def __init__(self, year: int | None = None):
        self.year = year
        self.figures: list[Figure] = []
        self.problems: list[str] = []
        self.mode: str | None = None
        self.pending = ""
        self.printed_pending = ""
        self.header2: tuple[str, ...] = ()
        self.layout_votes: list[str] = []
        self.section = self.parent = None
        self.item: int | None = None
        self.seen: set[tuple[str, str]] = set()
        self.centers: list[float] | None = None
        self.t4: list[Cell] = []
        self.marked = False
        self.done: dict[str, int] = {}
        self.own_printed = ""

    # -- driving ---------------------------------------------------------------
    def feed(self, lines: list[Line]) -> None:
        for line in lines:
            if len(self.figures) >= MAX_FIGURES:
                self.problems.append(f"more than {MAX_FIGURES} figures: the rest not read")
                return
            self.line(line)
        if self.mode == "table4" and self.t4:
            self._flush_t4()

    def line(self, line: Line) -> None:
        label = normal(line.label)
        filled = [c for c in line.cells if read(c.printed)[0] != "blank"]
        mode = _mode(self.pending + label if not filled else label, self.mode)
        if mode != self.mode:
            if self.mode == "table4" and self.t4:
                self._flush_t4()
            self.mode, self.pending, self.printed_pending, self.marked = mode, "", "", False
            self.section = self.parent = self.item = None
        if self.mode is None:
            return
        if not filled:
            self._words(label, line.label)
            return
        whole, printed = self.pending + label, (self.printed_pending + " " + line.label).strip()
        self.own_printed = line.label.strip()
        self.pending, self.printed_pending = "", ""
        getattr(self, "_" + self.mode)(whole, label, printed, line.cells)

    def _words(self, label: str, printed: str) -> None:
        if self.mode == "table2":
            header = form.table2_header(label)
            if header:
                self.header2 = header
                self._vote(header)
                self.pending = self.printed_pending = ""
                return
        self.pending += label
        self.printed_pending = (self.printed_pending + " " + printed).strip()
        if self.mode == "table3":
            self.marked = self._scan(label) or self.marked

    # -- table 2 ---------------------------------------------------------------
    def _vote(self, header: tuple[str, ...]) -> None:
        if any(c in ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额") for c in header):
            self.layout_votes.append("2021")
        elif any(c in ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "处理决定数量") for c in header):
            self.layout_votes.append("2019")

    def _table2(self, whole: str, own: str, printed: str, cells: list[Cell]) -> None:
        if len(own) > 24:
            return                          # a sentence ending in a number, not a row of table 2
        row = form.table2_row(own)
        if row is not None:
            printed = self.own_printed
        elif own:
            row = form.table2_row(whole)    # a label wrapped: its start came on the line before
        else:
            row = form.table2_row(whole) or self._search2(whole)
        if row is None:
            return
        filled = [c for c in cells if read(c.printed)[0] != "blank"]
        candidates = [self.header2] if self.header2 and self._header_fits(row) else []
        candidates += [form.DEFAULT_TABLE2.get(lay, {}).get(row, ()) for lay in (self._layout() or "2021", "2021", "2019")]
        columns, use = next(((c, cells if len(cells) == len(c) else filled) for c in candidates
                             if c and len(c) in (len(cells), len(filled))), (candidates[0] if candidates else (), None))
        if use is None:
            self.problems.append(f"table2 {row}: {len(filled)} values for {len(columns)} columns")
            return
        for column, cell in zip(columns, use):
            unit = "万元" if "万元" in printed and column in ("本年收费金额", "采购总金额") else form.UNITS2.get(column, "")
            self._emit("table2", row, column if len(columns) > 1 else "", cell, printed, unit)

    def _header_fits(self, row: str) -> bool:
        money = {"本年收费金额"}
        if row == "行政事业性收费":
            return bool(money & set(self.header2)) or "上一年项目数量" in self.header2
        return not (money & set(self.header2)) and not {"采购项目数量"} & set(self.header2)

    @staticmethod
    def _search2(whole: str) -> str | None:
        for key, pattern in form.TABLE2_ROWS:
            if re.search(pattern.pattern.lstrip("^"), whole):
                return key
        return None

    # -- table 3 ---------------------------------------------------------------
    def _scan(self, text: str) -> bool:
        found = False
        for m in _MARK.finditer(text):
            found = True
            if m.group("sec"):
                if m.group("sec") == "三" and self.section == "三":
                    continue                # 「三、本年度办理结果」 printed down a merged cell, among its rows
                self.section, self.parent, self.item = m.group("sec"), None, None
            elif m.group("par"):
                if m.group("par") != self.parent:      # the open group's label printed again keeps its item
                    self.section, self.parent, self.item = "三", m.group("par"), None
            else:
                self._item(int(m.group("item")))
        return found

    def _item(self, n: int) -> None:
        """A numbered sub-item. Its group is the one open, unless the group's label is printed later (centred
        in a merged cell) or the number starts again: then the next group with sub-items, in the form's order."""
        if self.section not in (None, "三"):
            return
        if self.parent not in form.ITEMS or n <= self.done.get(self.parent, 0):
            order = "一二三四五六七"
            start = order.index(self.parent) + 1 if self.parent in order else 0
            self.parent = next((p for p in order[start:] if p in form.ITEMS), None)
            self.section = "三"
        self.item = n if self.parent in form.ITEMS else None

    def _fallback(self, text: str) -> None:
        for word, sec in form.SECTION_WORDS:
            if word in text:
                self.section, self.parent, self.item = sec, None, None
                return
        if self.parent in form.ITEMS:
            for n, word in enumerate(form.ITEM_WORDS[self.parent], 1):
                if word and word in text:
                    self.item = n
                    return
        for word, par in form.PARENT_WORDS:
            if word in text:
                self.section, self.parent, self.item = "三", par, None
                return

    def _row3(self) -> str | None:
        if self.section in form.SECTIONS:
            return form.SECTIONS[self.section]
        if self.section == "三" and self.parent:
            name = form.PARENTS[self.parent]
            if self.item is not None:
                items = form.ITEMS.get(self.parent, ())
                if not 1 <= self.item <= len(items):
                    return None
                return f"{name}/{items[self.item - 1]}"
            return name
        return None

    def _table3(self, whole: str, own: str, printed: str, cells: list[Cell]) -> None:
        if self._scan(own):
            printed = self.own_printed      # the row's own words name it; what came before is other rows' words
        elif not self.marked:
            self._fallback(whole)
        self.marked = False
        row = self._row3()
        if self.item is not None and self.parent:
            self.done[self.parent] = max(self.done.get(self.parent, 0), self.item)
        self.item = None
        if row is None:
            self.problems.append(f"table3: values without a row label ({printed[:30]})")
            return
        use = self._place(cells, len(form.COLUMNS3))
        if use is None:
            n = len([c for c in cells if read(c.printed)[0] != "blank"])
            self.problems.append(f"table3 {row}: {n} values for 7 columns")
            return
        for column, cell in zip(form.COLUMNS3, use):
            if cell is not None:
                self._emit("table3", row, column, cell, printed, "件")

    def _place(self, cells: list[Cell], n: int) -> list[Cell | None] | None:
        cells = list(cells)
        while len(cells) > n and read(cells[0].printed)[0] == "blank":
            cells.pop(0)
        while len(cells) > n and read(cells[-1].printed)[0] == "blank":
            cells.pop()
        filled = [c for c in cells if read(c.printed)[0] != "blank"]
        if len(cells) == n:
            use: list[Cell | None] = list(cells)
        elif len(filled) == n:
            use = list(filled)
        elif self.centers and filled and all(c.x is not None for c in filled) and len(filled) < n:
            use = [None] * n
            for c in filled:
                i = min(range(n), key=lambda k: abs(self.centers[k] - c.x))
                if use[i] is not None:
                    return None
                use[i] = c
            return use
        else:
            return None
        if all(c is not None and c.x is not None for c in use):
            self.centers = [c.x for c in use]
        return use

    # -- table 4 ---------------------------------------------------------------
    def _table4(self, whole: str, own: str, printed: str, cells: list[Cell]) -> None:
        self.t4.extend(c for c in cells if read(c.printed)[0] != "blank" or len(cells) >= 5)
        if len(self.t4) >= 15:
            self._flush_t4()
            self.mode = None

    def _flush_t4(self) -> None:
        cells, self.t4 = self.t4[:15], []
        if len(cells) < 15:
            self.problems.append(f"table4: {len(cells)} values for 15 cells")
            return
        for i, cell in enumerate(cells):
            row, column = form.TABLE4_ROWS[i // 5], form.TABLE4_COLUMNS[i % 5]
            self._emit("table4", row, column, cell, row, "件")

    # -- output ----------------------------------------------------------------
    def _emit(self, table: str, row: str, column: str, cell: Cell, evidence: str, unit: str) -> None:
        if (table, row + "|" + column) in self.seen:
            self.problems.append(f"{table} {row} {column}: printed twice, the first kept")
            return
        self.seen.add((table, row + "|" + column))
        kind, value = read(cell.printed)
        self.figures.append(Figure(table=table, row=row, column=column, value=value, unit=unit,
                                   printed=cell.printed.strip(), page=cell.page, path=cell.path, source="table",
                                   evidence=re.sub(r"\s+", " ", evidence).strip()[:200]))

    def _layout(self) -> str | None:
        if self.layout_votes:
            return max(set(self.layout_votes), key=self.layout_votes.count)
        return form.layout_of_year(self.year) if (self.year or 0) >= 2019 else None

    def layout(self) -> str | None:
        if self.layout_votes:
            return self._layout()
        if any(f.row.startswith("（六）其他处理/") for f in self.figures):
            return "2021"
        if self.figures:
            return form.layout_of_year(self.year) if (self.year or 0) >= 2019 else "2021"
        return None


def read_lines(lines: list[Line], *, year: int | None = None) -> tuple[list[Figure], list[str], str | None]:
    reader = Reader(year)
    reader.feed(lines)
    return reader.figures, reader.problems, reader.layout()

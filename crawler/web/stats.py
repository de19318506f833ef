"""The statistics of a report as the UI and the API show them (storage/figures.py keeps them,
`nianbao stats extract` makes them): figures with their provenance, laid out as the tables they
were printed in, failed checks named on their cells; coverage shaded by one figure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Path

from crawler.web.inputs import MAX_ID
from storage.figures import plain_value

ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="A report id")]
# A figure named as its checks name cells: table/row/column ("table3/一、本年新收/总计").
CELL_MAX = 300
TABLE_TITLES = {"table2": "二、主动公开政府信息情况", "table3": "三、收到和处理政府信息公开申请情况",
                "table4": "四、政府信息公开行政复议、行政诉讼情况", "text": "stated in the text"}


@dataclass
class FigureTable:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list]]      # (row key, [figure dict or None per column])


def report_figures(cat, report) -> dict:
    """The report's figures with their provenance and the checks of each file read: what the
    report page shows and /api/reports/{id}/figures answers. Each figure carries the names of
    the checks it takes part in that failed."""
    readings = cat.checks_for_report(report_id=report.id)
    failed: dict[tuple[int, str], list[str]] = {}
    for r in readings:
        for c in r["checks"]:
            if not c.get("ok", True):
                for cell in c.get("cells") or ():
                    failed.setdefault((r["capture_id"], cell), []).append(c["name"])
    figures = [dict(f, failed_checks=failed.get((f["capture_id"], f["cell"]), []))
               for f in cat.figures_for_report(report_id=report.id)]
    for r in readings:     # 95, not 95.0: counts as counts
        r["checks"] = [dict(c, expected=plain_value(c.get("expected")), actual=plain_value(c.get("actual")))
                       for c in r["checks"]]
    return {"report_id": report.id, "year": report.year, "agency": report.agency, "url": report.url,
            "readings": readings, "figures": figures}


def figure_tables(figures: list[dict]) -> list[FigureTable]:
    """Figures laid out as the tables they were printed in: rows and columns in reading order,
    one table per (file, table): a report with a page and its PDF shows both readings."""
    grouped: dict[tuple[int, str], list[dict]] = {}
    for f in figures:
        if f["source"] == "table":
            grouped.setdefault((f["capture_id"], f["table"]), []).append(f)
    tables = []
    for (capture_id, name), figs in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        columns = list(dict.fromkeys(f["column"] for f in figs))
        rows: dict[str, list] = {}
        for f in figs:
            rows.setdefault(f["row"], [None] * len(columns))[columns.index(f["column"])] = f
        tables.append(FigureTable(name=name, title=f"{TABLE_TITLES.get(name, name)} (capture {capture_id})",
                                  columns=columns, rows=list(rows.items())))
    return tables


def figure_by_report(cat, cell: str) -> dict[int, object]:
    """report id -> the value of one cell ("table3/一、本年新收/总计"): coverage shaded by a figure."""
    values: dict[int, object] = {}
    for r in cat.figure_rows(cell=cell):
        values.setdefault(r["report_id"], r["value"])
    return values


def shade(value, top) -> str:
    """A cell's colour for a figure: pale pink to deep wine by value / the largest value shown (no
    state of crawler/heatmap.py is pink, so a shaded cell never reads as a state)."""
    if value is None or not top:
        return "#fce4ec"
    t = max(0.0, min(1.0, float(value) / float(top)))
    light, dark = (252, 228, 236), (136, 14, 79)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(light, dark))


def shaded_cells(cat, cov, cell: str) -> dict[tuple[int, int], tuple[object, str]]:
    """(row index, year) -> (value, colour) of one figure over the coverage matrix: the value of
    the year's first report that has it."""
    values = figure_by_report(cat, cell)
    found: dict[tuple[int, int], object] = {}
    for i, row in enumerate(cov.rows):
        for year, reports in row.reports.items():
            got = [values[r.id] for r in reports if r.id in values]
            if got and year is not None:
                found[(i, year)] = got[0]
    top = max((v for v in found.values() if v is not None), default=0)
    return {k: (v, shade(v, top)) for k, v in found.items()}

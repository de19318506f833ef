"""Statistics extraction (issue 19): seconds per report by format, and the share whose tables pass every check.

Simulator reports (simulator.tables: both layouts, labels wrapped or not, table 3 split or not, every fifth one
printed with a total off by one) as HTML, DOCX, XLSX and PDF, plus the real 2024 report in ../shared/real-reports.
Also counts the cells read right against the truth, and whether every inconsistent report was flagged.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPORTS = 40           # per format


def run(reports: int = REPORTS) -> dict:
    import figures
    from simulator.tables import make_tables, printed_cells, render_docx, render_html, render_pdf, render_xlsx

    render = {"html": render_html, "docx": render_docx, "xlsx": render_xlsx, "pdf": render_pdf}
    seconds: dict[str, list[float]] = {fmt: [] for fmt in render}
    passed = total = right = cells = flagged = inconsistent = 0
    for i in range(reports):
        layout, year = ("2021", 2021 + i % 4) if i % 2 else ("2019", 2019 + i % 2)
        truth = make_tables(i, year, layout)
        broken = i % 5 == 4
        want = printed_cells(truth, inconsistent=broken)
        for fmt, fn in render.items():
            data = fn(truth, wrap_labels=bool(i % 3), split_pages=bool(i % 2 == 0 or i % 7 == 0), inconsistent=broken)
            t0 = time.perf_counter()
            got = figures.extract(data, year=year)
            seconds[fmt].append(time.perf_counter() - t0)
            values = {f"{f.table}|{f.row}|{f.column}": f.value for f in got.figures}
            right += sum(values.get(k) == v for k, v in want.items())
            cells += len(want)
            ok = bool(got.checks) and all(c.ok for c in got.checks)
            total += 1
            passed += ok
            inconsistent += broken
            flagged += broken and not ok
    real = _real(figures)
    per_format = {fmt: round(statistics.median(s), 4) for fmt, s in seconds.items()}
    return {"reports_per_format": reports, "seconds_per_report": per_format,
            "seconds_per_report_mean": {fmt: round(sum(s) / len(s), 4) for fmt, s in seconds.items()},
            "real_pdf_seconds": real["seconds"], "real_pdf_checks_pass": real["pass"],
            "cells_right": right, "cells": cells, "share_passing_every_check": round(passed / total, 3),
            "reports": total, "inconsistent": inconsistent, "inconsistent_flagged": flagged,
            "extractor_version": figures.EXTRACTOR_VERSION}


def _real(figures) -> dict:
    from tests.shared import SHARED

    path = SHARED / "real-reports" / "hzq2024.pdf"
    if not path.exists():
        return {"seconds": None, "pass": None}
    data = path.read_bytes()
    times, got = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        got = figures.extract(data, year=2024)
        times.append(time.perf_counter() - t0)
    return {"seconds": round(statistics.median(times), 3), "pass": all(c.ok for c in got.checks) and bool(got.checks)}


def headline(r: dict) -> str:
    s = r["seconds_per_report"]
    return (f"seconds per report: html {s['html']}, docx {s['docx']}, xlsx {s['xlsx']}, pdf {s['pdf']}, real PDF "
            f"{r['real_pdf_seconds']}; cells right {r['cells_right']}/{r['cells']}; passing every check "
            f"{r['share_passing_every_check']} of {r['reports']} (inconsistent flagged {r['inconsistent_flagged']}/"
            f"{r['inconsistent']}); real report passes: {r['real_pdf_checks_pass']}")


if __name__ == "__main__":
    import json
    print(json.dumps(run(), indent=1, ensure_ascii=False))

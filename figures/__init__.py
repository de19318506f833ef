"""Statistics of 政府信息公开工作年度报告 as data: a pure function of a file's bytes.

`extract(data, content_type=, filename=, year=)` reads the tables of the national format (2019 and its 2021
revision) and, before 2019, the figures stated in sentences. It knows nothing of Scrapy, the catalogue or
`crawler/`; it never raises on bad input (problems instead) and caps what it reads (size, pages, cells).
"""
from __future__ import annotations

from dataclasses import dataclass

EXTRACTOR_VERSION = "1"


@dataclass(frozen=True)
class Figure:
    table: str                    # "table2" | "table3" | "table4" | "text"
    row: str                      # canonical row key ("一、本年新收", "（三）不予公开/1.属于国家秘密", "行政复议")
    column: str                   # canonical column key ("自然人" ... "总计", "结果维持", ""), "" when one value
    value: float | int | None     # None when blank; 「—」 read as 0 (printed keeps the text)
    unit: str                     # "件", "万元", "条", ""
    printed: str                  # the cell's text as printed
    page: int | None              # PDF page (1-based)
    path: str | None              # element path (HTML/DOCX "table[2]/tr[5]/td[3]", XLSX "Sheet1!C5")
    source: str                   # "table" | "text"
    evidence: str                 # the sentence (text) or the row label as printed (table)


@dataclass(frozen=True)
class Check:
    name: str                     # "table3:勾稽关系:自然人", "table3:row_total:一、本年新收", "table4:行政复议:total"
    ok: bool
    expected: float | None
    actual: float | None
    cells: tuple[str, ...]        # "table/row/column" of the cells involved


@dataclass(frozen=True)
class Extraction:
    version: str
    format: str                   # "html" | "pdf" | "docx" | "doc" | "xlsx" | "xls" | "text" | "unknown"
    layout: str | None            # "2019" | "2021" | "pre2019" | None
    figures: tuple[Figure, ...]
    checks: tuple[Check, ...]
    problems: tuple[str, ...]


def extract(data: bytes, *, content_type: str | None = None, filename: str | None = None,
            year: int | None = None) -> Extraction:
    """Every figure the file states, its checks and what could not be read. Never raises."""
    from figures.dispatch import run
    try:
        return run(data, content_type=content_type, filename=filename, year=year)
    except Exception as exc:  # noqa: BLE001 - a pure reader of hostile bytes answers, it does not raise
        return Extraction(EXTRACTOR_VERSION, "unknown", None, (), (), (f"extractor failed: {type(exc).__name__}",))


__all__ = ["EXTRACTOR_VERSION", "Figure", "Check", "Extraction", "extract"]

"""Issue 18, points 2, 8 and 9: coverage readable at 80-120 columns and in a log, the demo's world
up to the last year due, the web UI's first hour (local API docs, the archive named, HTML errors,
actions checked), and onboarding portals (`sites add`, `sites schema`, the README's options)."""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from crawler import coverage_format
from crawler.coverage import STATES, compute

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 2)


@dataclass
class S:
    id: str
    agency: str
    kind: str = "department"
    first_year: int = 2008
    region_name: str | None = "江苏省苏州市"
    region_code: str | None = "320500"


@dataclass
class R:
    site_id: str
    agency: str
    year: int
    id: int
    removed_at: object = None
    versions: int = 1


@dataclass
class M:
    agency: str
    year: int


LONG = "苏州市市场监督管理局政府信息公开平台"


def _coverage():
    sites = [S("sim-hanweb-0-very-long-site-identifier", LONG), S("taicang", "太仓市人民政府", kind="government",
                                                                  first_year=2012)]
    reports = [R("sim-hanweb-0-very-long-site-identifier", LONG, y, id=y) for y in range(2008, 2022)]
    reports += [R("taicang", "太仓市人民政府", 2015, id=1), R("taicang", "太仓市人民政府", 2016, id=2, removed_at=TODAY),
                R("taicang", "太仓市人民政府", 2017, id=3, versions=2), R("taicang", "太仓市人民政府", 2018, id=4)]
    return compute(sites=sites, reports=reports, marks=[M("太仓市人民政府", 2013)], last_outcomes={},
                   today=TODAY, incomplete_ids={4})


def _render(cov, width: int, *, terminal: bool) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=terminal, color_system=None).print(coverage_format.rich_table(cov))
    return buf.getvalue()


@pytest.mark.parametrize("width,terminal", [(80, True), (100, True), (120, True), (80, False), (160, False)])
def test_coverage_table_readable_at_width(width, terminal):
    cov = _coverage()
    text = _render(cov, width, terminal=terminal)
    lines = text.splitlines()
    from rich.cells import cell_len
    assert all(cell_len(line) <= width for line in lines), max(lines, key=cell_len)
    assert "…" not in text

    def bare(s):
        return re.sub(r"[\s●◐◔✕·?○–0-9]", "", s)
    for name in (LONG, "太仓市人民政府", "taicang", "sim-hanweb-0-very-long-site-identifier"):
        assert bare(name) in bare(text), name            # wrapped, never cut
    head_text = " ".join(lines[1:3])
    for year in cov.years:
        assert re.search(rf"'?{str(year)[2:]}\b", head_text), year
    assert f"{cov.years[0]}–{cov.years[-1]}" in lines[0]
    # every state the rows use has its symbol in the grid, and the legend names all of them
    legend = text[text.index("legend:"):]
    for state in STATES:
        assert f"{coverage_format.SYMBOL[state]} " in legend, state
    assert "(blank) not expected" in legend
    assert "not yet due" in legend and "not applicable" in legend
    assert coverage_format.SYMBOL["not_yet_due"].strip() and \
        coverage_format.SYMBOL["not_yet_due"] != coverage_format.SYMBOL["not_applicable"]


def test_coverage_year_columns_line_up_at_80():
    cov = _coverage()
    lines = _render(cov, 80, terminal=False).splitlines()
    top, bottom = lines[1], lines[2]
    row = next(line for line in lines if line.startswith("太仓市人民政府"))
    start = len(top) - len(top.lstrip())
    for i, year in enumerate(cov.years):
        col = start + 2 * i
        head = top if i % 2 == 0 else bottom
        assert head[col:col + 2] == str(year)[2:], (year, head)
    # taicang: marked 2013 n/a, 2016 removed, 2017 changed, 2018 incomplete, 2026 not yet due
    from rich.cells import cell_len
    offset = cell_len(row) - len(row)           # CJK characters take two cells
    symbols = {year: row[start - offset + 2 * i] for i, year in enumerate(cov.years)}
    sym = coverage_format.SYMBOL
    assert symbols[2011] == " " and symbols[2013] == sym["not_applicable"]
    assert symbols[2016] == sym["removed"] and symbols[2017] == sym["changed"]
    assert symbols[2018] == sym["incomplete"] and symbols[2026] == sym["not_yet_due"]
    assert symbols[2025] == sym["missing"]


def test_markdown_and_csv_keep_their_form():
    cov = _coverage()
    md = coverage_format.as_markdown(cov)
    assert md.splitlines()[0].startswith("| site | agency | 2008 | 2009 |")
    taicang = next(line for line in md.splitlines() if line.startswith("| taicang"))
    assert taicang.endswith("|   |")      # not yet due stays blank in Markdown, as before
    csv_text = coverage_format.as_csv(cov)
    assert csv_text.splitlines()[0].startswith("site_id,agency,region,publisher_id,region_code,2008,")
    assert "not_yet_due" in csv_text


def test_demo_world_covers_every_year_due_today():
    from crawler.demo import demo_last_year, demo_world

    assert demo_last_year(TODAY) == 2025
    assert demo_last_year(date(2026, 1, 15)) == 2024
    world = demo_world("tiny", TODAY)
    years = {t.year for t in world.truth}
    assert max(years) == 2025
    # and a default world is the one the benchmarks and other tests were written against
    import simulator
    assert max(t.year for t in simulator.World(seed=0, size="tiny").truth) == 2024

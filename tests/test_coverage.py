from dataclasses import dataclass
from datetime import date, datetime

import pytest

from crawler.coverage import compute, deadline, last_due_year


@pytest.mark.parametrize("year,kind,expected", [
    (2008, "department", date(2009, 3, 31)),
    (2018, "department", date(2019, 3, 31)),
    (2018, "government", date(2019, 3, 31)),
    (2019, "department", date(2020, 1, 31)),
    (2019, "government", date(2020, 3, 31)),
    (2025, "department", date(2026, 1, 31)),
])
def test_deadline(year, kind, expected):
    assert deadline(year, kind) == expected


@pytest.mark.parametrize("today,kind,expected", [
    (date(2026, 1, 31), "department", 2024),   # deadline day itself: not yet passed
    (date(2026, 2, 1), "department", 2025),
    (date(2026, 2, 1), "government", 2024),
    (date(2026, 4, 1), "government", 2025),
    (date(2019, 3, 31), "department", 2017),
    (date(2019, 4, 1), "department", 2018),
])
def test_last_due_year(today, kind, expected):
    assert last_due_year(kind, today) == expected


@dataclass
class S:
    id: str
    agency: str
    kind: str = "department"
    first_year: int = 2016
    region_name: str | None = "某省"
    region_code: str | None = "330000"


@dataclass
class R:
    site_id: str
    agency: str
    year: int
    removed_at: datetime | None = None
    versions: int = 1
    id: int = 0


@dataclass
class M:
    agency: str
    year: int


def test_cells():
    cov = compute(sites=[S("a", "甲局"), S("b", "乙局")],
                  reports=[R("a", "甲局", 2016), R("a", "甲局", 2017, versions=2),
                           R("a", "甲局", 2018, removed_at=datetime(2026, 1, 1)), R("a", "丙局", 2019)],
                  marks=[M("甲局", 2020)], last_outcomes={"b": "failed"}, today=date(2026, 2, 15))
    rows = {(r.site_id, r.agency): r.cells for r in cov.rows}
    a = rows[("a", "甲局")]
    assert a[2016] == "found" and a[2017] == "changed" and a[2018] == "removed"
    assert a[2019] == "missing" and a[2020] == "not_applicable" and a[2025] == "missing"
    assert a[2026] == "not_yet_due"
    assert rows[("a", "丙局")][2019] == "found"      # a department found on the site gets a row
    assert rows[("b", "乙局")][2016] == "unreachable"
    assert ("a", "甲局", 2019, "missing") in cov.gaps()


def test_a_report_with_a_file_not_archived_is_incomplete_not_found():
    reports = [R("a", "甲局", 2016, id=1), R("a", "甲局", 2017, id=2),
               R("a", "甲局", 2018, id=3), R("a", "甲局", 2018, id=4)]
    cov = compute(sites=[S("a", "甲局")], reports=reports, marks=[], last_outcomes={},
                  today=date(2026, 2, 15), incomplete_ids={2, 3})
    cells = cov.rows[0].cells
    assert cells[2016] == "found" and cells[2017] == "incomplete"
    assert cells[2018] == "found"              # another report of that year is whole
    assert ("a", "甲局", 2017, "incomplete") in cov.gaps()

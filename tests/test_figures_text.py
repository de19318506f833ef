"""figures/text.py: figures stated in sentences, as reports before 2019 state them (issue 19), best effort."""
from __future__ import annotations

import pytest

import figures
from figures.text import read_text
from tests.shared import SHARED

SEEDS = SHARED / "seeds"

# What each seed report's text states, read by eye: (row, value, unit).
STATED = {
    "000_c8ce13aee0d9f6e9.txt": [("主动公开/统一平台", 11, "条"), ("主动公开/政府网站", 165, "条"),
                                 ("主动公开/报刊广播电视", 25, "条"), ("主动公开/其他形式", 463, "条"),
                                 ("主动公开/合计", 664, "条"), ("依申请公开/受理", 0, "条"), ("依申请公开/答复", 0, "条")],
    "001_be1dd56c78923606.txt": [("依申请公开/受理", 2, "件"), ("依申请公开/同意公开", 1, "件"),
                                 ("依申请公开/同意部分公开", 1, "件")],
    "002_9643862cdd73df7b.txt": [("依申请公开/受理", 13, "起"), ("行政复议", 1, "件")],
    "003_599af47892812144.txt": [("主动公开/合计", 44, "条")],
    "004_4c0596bc8ba7dc96.txt": [("主动公开/信息", 1974, "条"), ("依申请公开/受理", 2, "件")],
}


@pytest.mark.parametrize("name", sorted(STATED))
def test_seed_report_states_its_figures(name):
    data = (SEEDS / name).read_bytes()
    got = figures.extract(data, filename=name)
    assert got.format == "text" and got.layout == "pre2019"
    assert [(f.row, f.value, f.unit) for f in got.figures if not f.row.startswith("统计表/")] == STATED[name]
    for f in got.figures:
        assert f.source == "text" and f.table == "text" and f.printed in f.evidence.replace(" ", "")
        assert f.page is None and f.path is None


# The statistics table of the old format, as the seed's text lays it out (label, unit, value lines).
OLD_TABLE = {
    "003_599af47892812144.txt": {"统计表/一、主动公开情况": 44,
                                 "统计表/一、主动公开情况/（二）通过不同渠道和方式公开政府信息的情况/2.政府网站公开政府信息数": 44,
                                 "统计表/十三、机构建设和保障经费情况/（三）从事政府信息公开工作人员数/2.兼职人员数": 2},
    "004_4c0596bc8ba7dc96.txt": {"统计表/一、主动公开情况": 1974, "统计表/一、主动公开情况/（一）主动公开政府信息数": 94,
                                 "统计表/一、主动公开情况/（二）通过不同渠道和方式公开政府信息的情况/2.政府网站公开政府信息数": 1348,
                                 "统计表/三、依申请公开情况/（三）申请答复数/2.同意公开答复数": 1},
}


@pytest.mark.parametrize("name", sorted(OLD_TABLE))
def test_seed_old_format_table(name):
    got = figures.extract((SEEDS / name).read_bytes(), filename=name)
    cells = {f.row: f.value for f in got.figures if f.row.startswith("统计表/")}
    assert {k: cells.get(k) for k in OLD_TABLE[name]} == OLD_TABLE[name]
    assert all(f.source == "text" for f in got.figures)


def test_seed_sentences_kept_as_evidence():
    got = figures.extract((SEEDS / "004_4c0596bc8ba7dc96.txt").read_bytes(), year=2018)
    assert got.figures[0].evidence == "2018年我局主动公开的政府信息为1974条。"


@pytest.mark.parametrize("sentence,want", [
    ("受理依申请公开信息2件。", [("依申请公开/受理", 2)]),
    ("全年主动公开政府信息1974条。", [("主动公开/信息", 1974)]),
    ("全年共主动公开信息44条，其中：业务工作信息36条。", [("主动公开/合计", 44)]),
    ("我局受理信息公開信函申請2件,其中:同意公開答覆數1件,同意部分公開答覆數1件。",
     [("依申请公开/受理", 2), ("依申请公开/同意公开", 1), ("依申请公开/同意部分公开", 1)]),
    ("不同意公开答复数3件。", [("依申请公开/不同意公开", 3)]),
    ("发生政府信息公开行政诉讼0件。", [("行政诉讼", 0)]),
    ("全年收取信息处理费0元。", [("收费", 0)]),
    ("（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）", []),     # a counting rule, not a figure
    ("2018年，本局召开会议3次。", []),                                    # not a figure we know
    ("受理申请１２件。", [("依申请公开/受理", 12)]),                          # full-width digits
])
def test_sentences(sentence, want):
    assert [(f.row, f.value) for f in read_text(sentence)] == want


def test_tables_win_over_sentences_from_2019():
    html = "<p>2020年，受理政府信息公开申请5件。</p>".encode()
    assert figures.extract(html, year=2020).figures == ()      # a 2019+ report's figures are its tables
    assert figures.extract(html, year=2018).figures[0].value == 5

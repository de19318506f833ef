"""Statistics tables of the national format (2019 and its 2021 revision), made deterministically from a seed.

`make_tables(seed, year, layout)` is the truth: every cell's canonical key and value, plus what is needed
to print it. `render_html / render_docx / render_xlsx / render_pdf(truth, wrap_labels=, split_pages=,
inconsistent=)` print it (simulator/tables_render.py). Knows nothing of the crawler or of `figures/`:
its keys are the contract the extractor is measured against, spelled here on their own.
"""
from __future__ import annotations

import random

COLUMNS3 = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
T4_ROWS = ("行政复议", "行政诉讼/未经复议直接起诉", "行政诉讼/复议后起诉")
T4_COLUMNS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
ITEMS = {
    "（三）不予公开": ("1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
                "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"),
    "（四）无法提供": ("1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"),
    "（五）不予处理": ("1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
                "5.要求行政机关确认或重新出具已获取信息"),
    "（六）其他处理": ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"),
}
PRINTED_PARENT = {"（二）部分公开": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"}
PRINTED_SECTION = {"一、本年新收": "一、本年新收政府信息公开申请数量", "二、上年结转": "二、上年结转政府信息公开申请数量",
                   "四、结转下年度继续办理": "四、结转下年度继续办理"}

# table 2: (section heading, header, [(canonical row, printed label, [(column, unit, kind)])])
_COUNT, _MONEY, _DELTA = "count", "money", "delta"
TABLE2 = {
    "2021": (
        ("第二十条第（一）项", ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
         (("规章", "规章"), ("行政规范性文件", "行政规范性文件")),
         (("本年制发件数", "件", _COUNT), ("本年废止件数", "件", _COUNT), ("现行有效件数", "件", _COUNT))),
        ("第二十条第（五）项", ("信息内容", "本年处理决定数量"), (("行政许可", "行政许可"),), (("", "件", _COUNT),)),
        ("第二十条第（六）项", ("信息内容", "本年处理决定数量"), (("行政处罚", "行政处罚"), ("行政强制", "行政强制")),
         (("", "件", _COUNT),)),
        ("第二十条第（八）项", ("信息内容", "本年收费金额（单位：万元）"), (("行政事业性收费", "行政事业性收费"),),
         (("", "万元", _MONEY),)),
    ),
    "2019": (
        ("第二十条第（一）项", ("信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"),
         (("规章", "规章"), ("行政规范性文件", "规范性文件")),
         (("本年新制作数量", "件", _COUNT), ("本年新公开数量", "件", _COUNT), ("对外公开总数量", "件", _COUNT))),
        ("第二十条第（五）项", ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"),
         (("行政许可", "行政许可"), ("其他对外管理服务事项", "其他对外管理服务事项")),
         (("上一年项目数量", "项", _COUNT), ("本年增/减", "项", _DELTA), ("处理决定数量", "件", _COUNT))),
        ("第二十条第（六）项", ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"),
         (("行政处罚", "行政处罚"), ("行政强制", "行政强制")),
         (("上一年项目数量", "项", _COUNT), ("本年增/减", "项", _DELTA), ("处理决定数量", "件", _COUNT))),
        ("第二十条第（八）项", ("信息内容", "上一年项目数量", "本年增/减"), (("行政事业性收费", "行政事业性收费"),),
         (("上一年项目数量", "项", _COUNT), ("本年增/减", "项", _DELTA))),
        ("第二十条第（九）项", ("信息内容", "采购项目数量", "采购总金额"), (("政府集中采购", "政府集中采购"),),
         (("采购项目数量", "项", _COUNT), ("采购总金额", "万元", _MONEY))),
    ),
}


def _value(rng: random.Random, kind: str):
    if kind == _MONEY:
        return round(rng.uniform(0, 9000), 2) if rng.random() < 0.8 else 0
    if kind == _DELTA:
        return rng.randint(-5, 5)
    return rng.choice((0, 0, rng.randint(0, 40), rng.randint(0, 9000)))


def make_tables(seed: int, year: int, layout: str) -> dict:
    """The truth of one report's tables: {"cells": {"table|row|column": value}, "units": {...}, ...}."""
    if layout not in TABLE2:
        raise ValueError(f"layout {layout!r}: one of {sorted(TABLE2)}")
    rng = random.Random(f"tables:{seed}:{year}:{layout}")
    cells: dict[str, float | int] = {}
    units: dict[str, str] = {}
    table2 = []
    for heading, header, rows, columns in TABLE2[layout]:
        printed_rows = []
        for key, label in rows:
            values = [_value(rng, kind) for _, _, kind in columns]
            for (column, unit, _), v in zip(columns, values):
                cells[f"table2|{key}|{column}"] = v
                units[f"table2|{key}|{column}"] = unit
            printed_rows.append((key, label, values))
        table2.append({"heading": heading, "header": list(header), "rows": printed_rows})
    six_items = layout == "2021" and rng.random() < 0.6
    leaves = ["（一）予以公开", "（二）部分公开"]
    for parent, items in ITEMS.items():
        if parent == "（六）其他处理" and not six_items:
            leaves.append(parent)
        else:
            leaves += [f"{parent}/{item}" for item in items]
    rows3: dict[str, list[int]] = {}
    for leaf in leaves:
        rows3[leaf] = [rng.choice((0, 0, 0, rng.randint(0, 30))) if c == 0 else rng.choice((0,) * 6 + (rng.randint(0, 4),))
                       for c in range(6)]
    total7 = [sum(rows3[leaf][c] for leaf in leaves) for c in range(6)]
    carry = [rng.randint(0, min(3, t)) for t in total7]
    old = [rng.randint(0, min(3, t + k)) for t, k in zip(total7, carry)]
    new = [t + k - o for t, k, o in zip(total7, carry, old)]
    ordered = {"一、本年新收": new, "二、上年结转": old, **rows3, "（七）总计": total7, "四、结转下年度继续办理": carry}
    for key, values in ordered.items():
        for column, v in zip(COLUMNS3, values + [sum(values)]):
            cells[f"table3|{key}|{column}"] = v
            units[f"table3|{key}|{column}"] = "件"
    t4 = []
    for row in T4_ROWS:
        parts = [rng.choice((0, 0, rng.randint(0, 6))) for _ in range(4)]
        t4 += parts + [sum(parts)]
        for column, v in zip(T4_COLUMNS, parts + [sum(parts)]):
            cells[f"table4|{row}|{column}"] = v
            units[f"table4|{row}|{column}"] = "件"
    return {"seed": seed, "year": year, "layout": layout, "cells": cells, "units": units, "table2": table2,
            "table3": list(ordered), "table4": t4, "six_items": six_items,
            "style": {"fullwidth": rng.random() < 0.4, "dash_zero": rng.random() < 0.5,
                      "split_after": rng.choice(("（三）不予公开/3.危及“三安全一稳定”", "（二）部分公开",
                                                 "（四）无法提供/2.没有现成信息需要另行制作")),
                      "repeat_header": rng.random() < 0.5},
            "broken": "table3|（七）总计|自然人"}


def printed_cells(truth: dict, *, inconsistent: bool = False) -> dict[str, float | int]:
    """The cells as a report prints them: the truth, or with one total off by one."""
    cells = dict(truth["cells"])
    if inconsistent:
        cells[truth["broken"]] += 1
    return cells


from simulator.tables_render import render_docx, render_html, render_pdf, render_xlsx  # noqa: E402

__all__ = ["make_tables", "printed_cells", "render_html", "render_docx", "render_xlsx", "render_pdf"]
